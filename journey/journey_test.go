package journey

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// session starts an emulator on loopback and signs in to its tenant of kind as the CLI does
// with --emulator: the tenant's automation client, a local record in a temporary home.
func session(t *testing.T, kind samples.TenantType) (Session, *graph.Client) {
	t.Helper()
	t.Setenv("ENTRA_QUICKSTART_HOME", t.TempDir())
	e, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	c, err := auth.EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := c.Transport.(*http.Transport); ok {
		t.Cleanup(tr.CloseIdleConnections)
	}
	var ti emuclient.TenantInfo
	for _, x := range e.Info().Tenants {
		if string(x.Type) == string(kind) {
			ti = x
			break
		}
	}
	if ti.ID == "" {
		t.Fatalf("the emulator has no %s tenant", kind)
	}
	cred, err := auth.NewCredential(auth.CredentialOptions{
		Cloud: c, TenantID: ti.ID, Method: auth.MethodEnvironment, ExternalID: kind == samples.External,
		Getenv: func(k string) string {
			return map[string]string{"AZURE_CLIENT_ID": ti.AutomationClient.AppID, "AZURE_CLIENT_SECRET": ti.AutomationClient.Secret, "AZURE_TENANT_ID": ti.ID}[k]
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(graph.Config{Credential: cred, Endpoint: c.GraphBase, Transport: c.Transport, Scopes: cred.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := state.Open(filepath.Join(t.TempDir(), state.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return Session{Engine: provision.New(g, provision.Options{}), Cloud: c, TenantID: ti.ID, Record: rec, CloudKey: c.GraphBase}, g
}

// TestRunAgainstTheEmulator runs the journey for a workforce and an External ID sample, once
// with a confirmation that declines (nothing created, nothing written, nothing recorded) and
// once with one that accepts (the app, the files, a working credential, the record, and the
// sign-in check called on the folder).
func TestRunAgainstTheEmulator(t *testing.T) {
	declined := errors.New("you said no")
	for _, c := range []struct {
		sample  string
		kind    samples.TenantType
		confirm error
	}{
		{"node-workforce", samples.Workforce, declined},
		{"node-workforce", samples.Workforce, nil},
		{"flask-external", samples.External, declined},
		{"flask-external", samples.External, nil},
	} {
		name := c.sample + "/accept"
		if c.confirm != nil {
			name = c.sample + "/decline"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, g := session(t, c.kind)
			m, err := samples.Lookup(c.sample)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			var steps []string
			confirmed, verified := false, ""
			out, err := Run(ctx, s, Request{
				Sample: m, Name: "journey", Dir: dir,
				UserFlow: provision.UserFlowSpec{CreateIfNone: true},
				Wait:     Wait{Successes: 1, Interval: 50 * time.Millisecond, Timeout: time.Minute},
				Confirm: func(_ context.Context, p *provision.Plan) error {
					confirmed = p != nil && !p.Empty()
					return c.confirm
				},
				Verify: func(_ context.Context, d string) (verify.Report, error) {
					verified = d
					return verify.Report{}, nil
				},
				Events: func(ev Event) {
					if ev.Status == Done {
						steps = append(steps, string(ev.Step))
					}
				},
			})
			if !confirmed {
				t.Fatal("the confirmation was not asked for a plan that creates an app")
			}
			apps, lerr := g.ListApplications(ctx, graph.AppFilter{Tag: provision.Tag})
			if lerr != nil {
				t.Fatal(lerr)
			}
			rec, rerr := s.Record.Load(ctx)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if c.confirm != nil {
				if !errors.Is(err, declined) {
					t.Fatalf("declined: Run returned %v, want the confirmation's error", err)
				}
				if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("declined: the folder was made (%v)", serr)
				}
				if len(apps) != 0 || out.Result != nil || len(rec.Apps) != 0 {
					t.Errorf("declined: %d apps in the tenant, result %v, %d recorded; want none", len(apps), out.Result, len(rec.Apps))
				}
				if verified != "" {
					t.Error("declined: the sign-in check ran")
				}
				return
			}
			if err != nil {
				t.Fatalf("accepted: %v", err)
			}
			if len(apps) != 1 || apps[0].AppID != out.Result.AppID {
				t.Fatalf("accepted: %d apps tagged, want the one made (%s)", len(apps), out.Result.AppID)
			}
			cfg, err := templates.Read(m, out.Location.Dir)
			if err != nil || !strings.EqualFold(cfg.ClientID, out.Result.AppID) || cfg.ClientSecret == "" {
				t.Fatalf("accepted: the files hold client id %q (secret set %v), want %s (%v)", cfg.ClientID, cfg.ClientSecret != "", out.Result.AppID, err)
			}
			if !out.Ready || verified != out.Location.Dir || !out.Location.ConfigOnly {
				t.Errorf("accepted: ready %v, verified %q, config-only %v; want true, %q, true", out.Ready, verified, out.Location.ConfigOnly, out.Location.Dir)
			}
			if a := rec.Find(s.CloudKey, s.TenantID, out.Spec.UniqueName); a == nil || a.AppID != out.Result.AppID || a.Folder != out.Location.Dir || a.SecretKeyID == "" {
				t.Errorf("accepted: the record holds %+v", a)
			}
			want := []string{string(StepPlan), string(StepApply), string(StepWrite), string(StepWait)}
			if strings.Join(steps, ",") != strings.Join(want, ",") {
				t.Errorf("accepted: steps done %q, want %q", steps, want)
			}
		})
	}
}

// TestProblemsAreInputErrors: what the person must change comes back as *InputError, before
// anything is created.
func TestProblemsAreInputErrors(t *testing.T) {
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "README.md"), []byte("someone else's"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		dir      string
		download bool
	}{
		{"dir is a file", file, false},
		{"dir holds something else", full, false},
		{"download into a full folder", full, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Locate(m, c.dir, c.download)
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("Locate(%s, download %v) = %v, want an *InputError", c.dir, c.download, err)
			}
		})
	}
}

// The default uniqueName carries the caller's id (for an app-only sign-in, its client id); an
// app made under the name used before (without it) that this machine's record holds is carried
// over on the next run, not made again.
func TestPersonalNameAndCarryOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name   string
		legacy bool // an app under the old name is on the record
	}{
		{"new", false},
		{"carried over", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, g := session(t, samples.Workforce)
			m, err := samples.Lookup("node-workforce")
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Sample: m, Name: "journey", Dir: filepath.Join(t.TempDir(), "out"), Wait: Wait{Skip: true}}
			legacy := provision.UniqueName(m.ID, "journey")
			if tc.legacy {
				old := req
				old.UniqueName = legacy
				if _, err := Run(ctx, s, old); err != nil {
					t.Fatal(err)
				}
			}
			out, err := Run(ctx, s, req)
			if err != nil {
				t.Fatal(err)
			}
			want := provision.PersonalUniqueName(m.ID, "journey", out.Caller.AppID)
			if tc.legacy {
				want = legacy
			}
			apps, err := g.ListApplications(ctx, graph.AppFilter{Tag: provision.Tag})
			if err != nil {
				t.Fatal(err)
			}
			if !out.Caller.App || out.Spec.UniqueName != want || len(apps) != 1 || apps[0].UniqueName != want {
				t.Fatalf("caller %+v, uniqueName %s, %d apps (%v); want one app %s", out.Caller, out.Spec.UniqueName, len(apps), apps, want)
			}
		})
	}
}

// A run for a third folder would retire the secret the first folder still holds: the plan
// notes it, ConfirmRetire is asked with that secret and folder, and a no (or no ConfirmRetire)
// keeps it; a yes removes it once the new secret works. The record lists the earlier folders.
func TestSecretAnotherFolderUses(t *testing.T) {
	for _, answer := range []string{"no", "unasked", "yes"} {
		t.Run(answer, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, g := session(t, samples.Workforce)
			m, _ := samples.Lookup("node-workforce")
			dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "c")}
			var asked []SecretInUse
			var notes []string
			req := func(dir string) Request {
				r := Request{Sample: m, Name: "folders", Dir: dir, Wait: Wait{Successes: 1, Interval: 50 * time.Millisecond, Timeout: time.Minute},
					Events: func(ev Event) {
						if ev.Step == StepPlan && ev.Plan != nil {
							notes = append(notes, ev.Plan.Notes...)
						}
					}}
				if answer != "unasked" {
					r.ConfirmRetire = func(_ context.Context, u []SecretInUse) (bool, error) {
						asked = append(asked, u...)
						return answer == "yes", nil
					}
				}
				return r
			}
			var keys []string
			for _, d := range dirs {
				out, err := Run(ctx, s, req(d))
				if err != nil {
					t.Fatalf("run in %s: %v", d, err)
				}
				keys = append(keys, out.Result.SecretKeyID)
			}
			if answer != "unasked" && (len(asked) != 1 || !strings.EqualFold(asked[0].KeyID, keys[0]) || len(asked[0].Folders) != 1 || asked[0].Folders[0] != dirs[0]) {
				t.Errorf("asked about %+v; want the first folder's secret %s, used by %s", asked, keys[0], dirs[0])
			}
			if len(notes) != 1 || !strings.Contains(notes[0], keys[0]) || !strings.Contains(notes[0], dirs[0]) {
				t.Errorf("the plans' notes %q; want one naming %s and %s", notes, keys[0], dirs[0])
			}
			apps, err := g.ListApplications(ctx, graph.AppFilter{Tag: provision.Tag})
			if err != nil || len(apps) != 1 {
				t.Fatalf("apps %d, %v", len(apps), err)
			}
			app, err := g.AppByUniqueName(ctx, apps[0].UniqueName, true, false)
			if err != nil {
				t.Fatal(err)
			}
			var have []string
			for _, p := range app.Passwords {
				have = append(have, strings.ToLower(p.KeyID))
			}
			kept := slices.Contains(have, strings.ToLower(keys[0]))
			if kept != (answer != "yes") || !slices.Contains(have, strings.ToLower(keys[1])) || !slices.Contains(have, strings.ToLower(keys[2])) {
				t.Errorf("the app holds %v after the third run (keys %v); want the first kept: %v", have, keys, answer != "yes")
			}
			rec, err := s.Record.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a := rec.Find(s.CloudKey, s.TenantID, apps[0].UniqueName)
			if a == nil || a.Folder != dirs[2] || len(a.OtherFolders) != 2 || a.OtherFolders[0].Folder != dirs[0] || a.OtherFolders[1].Folder != dirs[1] {
				t.Errorf("the record %+v; want folder %s and the other two", a, dirs[2])
			}
		})
	}
}
