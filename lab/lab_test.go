package lab

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// testThrottle is Graph's write rate (20 writes/s) with a burst small enough that 25 attendees
// run into it, and a resource-unit budget that binds too.
func testThrottle() *emulator.Throttle {
	return &emulator.Throttle{ResourceUnits: 120, Window: emulator.Duration(time.Second), Writes: 30, WriteWindow: emulator.Duration(1500 * time.Millisecond)}
}

func budgetOf(t *emulator.Throttle) Budget {
	return Budget{ResourceUnits: t.ResourceUnits, Window: time.Duration(t.Window), Writes: t.Writes, WriteWindow: time.Duration(t.WriteWindow)}
}

// 25 attendees against an emulator enforcing a write and resource-unit budget: 25 apps, 25
// bundles whose configuration reads back with the app's ids and a working secret, no 429 that
// reaches the caller; whether the governor knows the budget or assumes Graph's documented one
// (then the emulator's 429s and Retry-After teach it).
func TestProvisionThrottled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget func(*emulator.Throttle) Budget
		// must429: the governor assumes more than the emulator allows, so 429s must come (and
		// none may reach the caller): proof that the throttle was on.
		must429 bool
	}{
		{"governor knows the budget", budgetOf, false},
		{"governor assumes the documented budget", func(*emulator.Throttle) Budget { return DocumentedBudget() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			th := testThrottle()
			h.e.SetThrottle(th)
			gov := NewGovernor(GovernorOptions{Budget: tc.budget(th)})
			dir := t.TempDir()
			cfg := h.config("ws1", "node-workforce", 25, dir, gov)
			var log testkit.Log[Event] // every event, to check that none carries a secret
			cfg.Progress = log.Add
			rep, err := Provision(background(t), cfg)
			if err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if rep.Created != 25 || rep.Failed != 0 || rep.Ready != 25 {
				t.Fatalf("report: created %d failed %d ready %d, want 25, 0, 25", rep.Created, rep.Failed, rep.Ready)
			}
			live, _, names := h.apps(samples.Workforce, provision.TagLabPrefix+"ws1")
			if live != 25 || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 25 {
				t.Fatalf("the tenant holds %d apps of the lab (%d unique names), want 25", live, len(names))
			}
			checkBundles(t, cfg, rep, &log)
			st := gov.Stats()
			t.Logf("%s: %s, %d requests, %d writes, %d 429s seen by the governor (%d by the emulator), peak concurrency %.1f",
				tc.name, time.Duration(rep.Elapsed).Round(time.Millisecond), st.Requests, st.Writes, st.Throttled, h.throttled(), st.PeakLimit)
			if st.Throttled != h.throttled() {
				t.Errorf("the governor saw %d 429s, the emulator sent %d", st.Throttled, h.throttled())
			}
			if tc.must429 && h.throttled() == 0 {
				t.Error("the emulator sent no 429 to a governor that assumed a larger budget: was the throttle on?")
			}
		})
	}
}

// checkBundles reads every bundle back and checks that no secret left the bundles.
func checkBundles(t *testing.T, cfg Config, rep *Report, log *testkit.Log[Event]) {
	t.Helper()
	var secrets []string
	for _, a := range rep.Attendees {
		bundle := filepath.Join(cfg.Dir, a.ID)
		c, err := templates.Read(cfg.Sample, filepath.Join(bundle, "config"))
		if err != nil {
			t.Fatalf("%s: the configuration does not read back: %v", a.ID, err)
		}
		if c.ClientID != a.ClientID || c.ClientSecret == "" || !strings.Contains(c.Authority, rep.TenantID) {
			t.Errorf("%s: config client %s authority %s secret set %v; index client %s", a.ID, c.ClientID, c.Authority, c.ClientSecret != "", a.ClientID)
		}
		secrets = append(secrets, c.ClientSecret)
		for _, f := range append([]string{"HANDOUT.md", "HANDOUT.html"}, a.SecretFiles...) {
			fi, err := os.Stat(filepath.Join(bundle, f))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s: %v, mode %v; want mode 0600", a.ID, f, err, fi.Mode())
			}
		}
		z, err := zip.OpenReader(filepath.Join(cfg.Dir, a.Zip))
		if err != nil {
			t.Fatalf("%s: zip: %v", a.ID, err)
		}
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		z.Close()
		for _, want := range []string{a.ID + "/HANDOUT.md", a.ID + "/HANDOUT.html", a.ID + "/" + a.SecretFiles[0]} {
			if !slices.Contains(names, want) {
				t.Errorf("%s: the zip lacks %s: %v", a.ID, want, names)
			}
		}
		if fi, _ := os.Stat(filepath.Join(cfg.Dir, a.Zip)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: zip mode %v", a.ID, fi.Mode())
		}
		md, _ := os.ReadFile(filepath.Join(bundle, "HANDOUT.md"))
		copied := strings.TrimPrefix(a.SecretFiles[0], configDir+"/") // where the handout tells them to copy it
		// Against the emulator the sample starts with entra-quickstart run (its bare npm start
		// could neither reach the emulator nor trust its CA).
		start := "npm start"
		if cfg.Cloud.Emulated() {
			start = "entra-quickstart run"
		}
		for _, want := range []string{a.ClientID, rep.TenantID, a.SecretFiles[0], start, "git clone", "git check-ignore -v " + copied} {
			if !strings.Contains(string(md), want) {
				t.Errorf("%s: HANDOUT.md lacks %q", a.ID, want)
			}
		}
		html, _ := os.ReadFile(filepath.Join(bundle, "HANDOUT.html"))
		for _, external := range []string{"<script", "<link", "src=", "@import", "url("} {
			if strings.Contains(string(html), external) {
				t.Errorf("%s: HANDOUT.html loads something (%s)", a.ID, external)
			}
		}
		if !strings.Contains(string(html), "@media print") || !strings.Contains(string(html), a.ClientID) {
			t.Errorf("%s: HANDOUT.html lacks print CSS or the client id", a.ID)
		}
		if !strings.Contains(string(html), "git check-ignore -v "+copied) {
			t.Errorf("%s: HANDOUT.html does not say to git-ignore %s", a.ID, copied)
		}
		for _, s := range secrets[len(secrets)-1:] {
			if strings.Contains(string(md), s) || strings.Contains(string(html), s) {
				t.Errorf("%s: a handout shows the secret", a.ID)
			}
		}
	}
	for _, f := range []string{IndexJSON, IndexMD, IndexHTML} {
		b, err := os.ReadFile(filepath.Join(cfg.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Fatalf("%s holds a secret", f)
			}
		}
	}
	for _, ev := range log.All() {
		for _, s := range secrets {
			if strings.Contains(ev.Detail, s) {
				t.Fatalf("an event carries a secret: %+v", ev.Phase)
			}
		}
	}
}

// Cancelled half-way, then run again: the second run finishes what is missing, leaves what
// was done untouched (no Graph write for it, the same bytes on disk), and the tenant holds
// exactly 25 apps.
func TestProvisionInterruptedThenResumed(t *testing.T) {
	h := newHarness(t)
	th := testThrottle()
	h.e.SetThrottle(th)
	dir := t.TempDir()
	// A small start, so that the interruption finds attendees not begun yet.
	cfg := h.config("ws2", "node-workforce", 25, dir, NewGovernor(GovernorOptions{Budget: budgetOf(th), Start: 2, Max: 16}))

	ctx, cancel := context.WithCancel(background(t))
	cfg.Progress = func(ev Event) {
		if ev.Done >= 12 {
			cancel()
		}
	}
	rep, err := Provision(ctx, cfg)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted run returned %v, want the cancellation", err)
	}
	var done []AttendeeResult
	for _, a := range rep.Attendees {
		if a.Status == "created" {
			done = append(done, a)
		}
	}
	live, _, _ := h.apps(samples.Workforce, provision.TagLabPrefix+"ws2")
	if len(done) < 12 || live >= 25 {
		t.Fatalf("after the interruption: %d bundled, %d apps; want at least 12 bundled and fewer than 25 apps", len(done), live)
	}
	before := map[string][]byte{}
	for _, a := range done {
		b, err := os.ReadFile(filepath.Join(dir, a.ID, a.SecretFiles[0]))
		if err != nil {
			t.Fatal(err)
		}
		before[a.ID] = b
	}

	// Again, with a fresh governor (a new process), uninterrupted.
	cfg2 := h.config("ws2", "node-workforce", 25, dir, NewGovernor(GovernorOptions{Budget: budgetOf(th)}))
	writesBefore := h.graphWrites()
	rep2, err := Provision(background(t), cfg2)
	if err != nil {
		t.Fatalf("the second run: %v", err)
	}
	if rep2.Skipped != len(done) || rep2.Created+rep2.Completed+rep2.Skipped != 25 || rep2.Failed != 0 {
		t.Fatalf("second run: created %d completed %d skipped %d failed %d; want %d skipped and 25 in all", rep2.Created, rep2.Completed, rep2.Skipped, rep2.Failed, len(done))
	}
	live, _, names := h.apps(samples.Workforce, provision.TagLabPrefix+"ws2")
	if live != 25 || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 25 {
		t.Fatalf("after the re-run the tenant holds %d apps of the lab, want exactly 25", live)
	}
	for id, b := range before {
		var a AttendeeResult
		for _, x := range rep2.Attendees {
			if x.ID == id {
				a = x
			}
		}
		after, _ := os.ReadFile(filepath.Join(dir, id, a.SecretFiles[0]))
		if string(after) != string(b) || a.Status != "skipped" {
			t.Errorf("%s was done before, yet the re-run touched it (status %s)", id, a.Status)
		}
	}
	// Writes in the second run: at most what the unfinished attendees need (5 each: app,
	// secret, service principal, consent, and removing a secret a cut-off run had made).
	if n := h.graphWrites() - writesBefore; n > 5*(25-len(done)) {
		t.Errorf("the re-run made %d Graph writes for %d unfinished attendees", n, 25-len(done))
	}
	checkBundles(t, cfg2, rep2, &testkit.Log[Event]{})
}

// lab reset removes every app of the lab, soft-deleted ones included, with their service
// principals, and nothing else: not another lab's apps (live or soft-deleted), not an app
// made by init, not an app without our tag.
func TestReset(t *testing.T) {
	h := newHarness(t)
	ctx := background(t)
	for _, tc := range []struct {
		kind   samples.TenantType
		sample string
	}{{samples.Workforce, "node-workforce"}, {samples.External, "node-external"}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			a := h.config("keep-a", tc.sample, 3, t.TempDir(), nil)
			b := h.config("gone-b", tc.sample, 4, t.TempDir(), nil)
			for _, c := range []Config{a, b} {
				if _, err := Provision(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			g := a.Graph
			eng := provision.New(g, provision.Options{})
			// An app made by init, and one that is not ours at all.
			spec, err := provision.SpecFor(a.Sample, provision.Answers{Name: "gone-b.attendee-01"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := eng.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Apply(ctx, p); err != nil {
				t.Fatal(err)
			}
			if _, _, err := g.UpsertApplication(ctx, "not-ours-"+string(tc.kind), graphApp("gone-b: Attendee 01 (x) by entra-quickstart")); err != nil {
				t.Fatal(err)
			}
			// One app of each lab soft-deleted beforehand.
			for _, c := range []Config{a, b} {
				apps, err := Apps(ctx, g, c.Name)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.DeleteApplication(ctx, apps[0].ObjectID); err != nil {
					t.Fatal(err)
				}
			}
			allBefore, _, _ := h.apps(tc.kind, "")

			res, err := Reset(ctx, g, "gone-b", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Deleted) != 3 || len(res.Purged) != 4 {
				t.Errorf("reset deleted %d and purged %d, want 3 and 4", len(res.Deleted), len(res.Purged))
			}
			if live, deleted, _ := h.apps(tc.kind, provision.TagLabPrefix+"gone-b"); live+deleted != 0 {
				t.Errorf("after reset the lab still has %d live and %d deleted apps", live, deleted)
			}
			if live, deleted, _ := h.apps(tc.kind, provision.TagLabPrefix+"keep-a"); live != 2 || deleted != 1 {
				t.Errorf("the other lab has %d live and %d deleted apps, want 2 and 1 (untouched)", live, deleted)
			}
			if allAfter, _, _ := h.apps(tc.kind, ""); allAfter != allBefore-3 {
				t.Errorf("live apps went from %d to %d; only the lab's 3 should go", allBefore, allAfter)
			}
			// No service principal of the lab is left, live or deleted.
			left := 0
			h.e.Store().View(func(d *emulator.Directory) {
				for _, sp := range d.Tenant(h.tenant(tc.kind).ID).ServicePrincipals {
					if slices.Contains(sp.Tags, provision.TagLabPrefix+"gone-b") {
						left++
					}
				}
			})
			if left != 0 {
				t.Errorf("%d service principals of the lab are left", left)
			}
			if apps, err := Apps(ctx, g, "gone-b"); err != nil || len(apps) != 0 {
				t.Errorf("Apps after reset = %v, %v", apps, err)
			}
		})
	}
}

// lab status shows each attendee's app and whether its bundle's credential gets a token.
func TestStatus(t *testing.T) {
	h := newHarness(t)
	ctx := background(t)
	dir := t.TempDir()
	cfg := h.config("st", "flask-workforce", 4, dir, nil)
	rep, err := Provision(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// attendee-02's secret is spoiled; attendee-03's app is deleted; attendee-04's bundle is gone.
	env := filepath.Join(dir, "attendee-02", rep.Attendees[1].SecretFiles[0])
	b, _ := os.ReadFile(env)
	c, _ := templates.Read(cfg.Sample, filepath.Join(dir, "attendee-02", "config"))
	if err := os.WriteFile(env, []byte(strings.ReplaceAll(string(b), c.ClientSecret, "spoiled")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Graph.DeleteApplication(ctx, rep.Attendees[2].ObjectID); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "attendee-04")); err != nil {
		t.Fatal(err)
	}
	st, err := Status(ctx, StatusConfig{Name: "st", Dir: dir, Graph: cfg.Graph, Cloud: h.cloud})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ app, cred string }{
		{"present", "works"}, {"present", "not yet: AADSTS7000215"}, {"deleted", "no app"}, {"present", "no bundle"},
	}
	if len(st.Attendees) != len(want) {
		t.Fatalf("status has %d lines: %+v", len(st.Attendees), st.Attendees)
	}
	for i, w := range want {
		s := st.Attendees[i]
		if s.App != w.app || !strings.HasPrefix(s.Credential, w.cred) {
			t.Errorf("%s: app %s credential %q; want %s, %q", s.ID, s.App, s.Credential, w.app, w.cred)
		}
	}
	if st.Apps != 3 || st.Working != 1 || st.Deleted != 1 || !st.Attendees[0].Consent {
		t.Errorf("status totals: apps %d working %d deleted %d", st.Apps, st.Working, st.Deleted)
	}
}

// A roster with accents, duplicates and an id column gives stable, distinct ids; a lab of
// another sample in the same folder or tenant is refused before anything is made.
func TestProvisionRefusesMixedLabs(t *testing.T) {
	h := newHarness(t)
	ctx := background(t)
	dir := t.TempDir()
	cfg := h.config("mix", "node-workforce", 1, dir, nil)
	if _, err := Provision(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	other := h.config("mix", "flask-workforce", 1, t.TempDir(), nil)
	if _, err := Provision(ctx, other); err == nil || !strings.Contains(err.Error(), "already has apps for the sample node-workforce") {
		t.Errorf("a second sample in the same lab: %v", err)
	}
	again := h.config("other", "node-workforce", 1, dir, nil)
	if _, err := Provision(ctx, again); err == nil || !strings.Contains(err.Error(), "holds the lab mix") {
		t.Errorf("another lab in the same folder: %v", err)
	}
}
