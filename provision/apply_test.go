package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
)

func combos() []struct {
	kind samples.TenantType
	cred samples.CredentialKind
} {
	return []struct {
		kind samples.TenantType
		cred samples.CredentialKind
	}{{Workforce, samples.Secret}, {Workforce, samples.Certificate}, {External, samples.Secret}, {External, samples.Certificate}}
}

// A fresh apply makes exactly one of each; the credential works; a second apply plans and
// writes nothing; a changed spec updates the same app in place.
func TestApplyFreshThenIdempotentThenUpdate(t *testing.T) {
	for _, c := range combos() {
		t.Run(fmt.Sprintf("%s-%s", c.kind, c.cred), func(t *testing.T) {
			t.Parallel()
			// An emulator each: the request log counts one subtest's calls, not its neighbours'.
			v := newEnv(t)
			ctx := context.Background()
			eng := v.engine(c.kind)
			spec := v.spec(c.kind, c.cred, "fresh")

			plan, err := eng.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []ActionKind{CreateApp, CreateServicePrincipal, GrantConsent} {
				if !plan.Has(k) {
					t.Errorf("a fresh plan lacks %s:\n%s", k, plan)
				}
			}
			res, err := eng.Apply(ctx, plan)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := counts{apps: 1, sps: 1, grants: 1}
			if c.cred == samples.Secret {
				want.secrets, want.ownSecrets = 1, 1
			} else {
				want.keys = 1
			}
			if c.kind == External {
				want.flowLinks = 1
			}
			if got := v.count(c.kind, spec.UniqueName); got != want {
				t.Fatalf("after a fresh apply the directory holds %+v, want %+v", got, want)
			}
			if !res.Created || res.AppID == "" || res.ServicePrincipalID == "" {
				t.Errorf("result = %s", res)
			}
			if c.cred == samples.Secret && res.Secret == "" {
				t.Error("no secret in the result")
			}
			if c.cred == samples.Certificate {
				if res.Certificate == nil {
					t.Fatal("no certificate in the result")
				}
				fi, err := os.Stat(spec.Credential.KeyFile)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("key file %v mode %v, want 0600", err, fi.Mode())
				}
			}
			if err := v.ready(ctx, c.kind, res); err != nil {
				t.Fatalf("WaitReady: %v", err)
			}

			// Second run: nothing to plan, nothing written.
			plan2, err := eng.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if !plan2.Empty() {
				t.Fatalf("second plan is not empty:\n%s", plan2)
			}
			before := len(v.e.Requests())
			res2, err := eng.Apply(ctx, plan2)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(v.graphCalls(before)); n != 0 {
				t.Errorf("an empty plan made %d Graph calls", n)
			}
			if res2.AppID != res.AppID || res2.Secret != "" {
				t.Errorf("second result %s; want the same app and no new secret", res2)
			}

			// Changed spec: one more redirect URI and ID tokens -> update in place.
			spec3 := spec
			spec3.RedirectURIs = append(append([]string(nil), spec.RedirectURIs...), "http://localhost:3001/auth/redirect")
			spec3.IDTokenIssuance = true
			plan3, err := eng.Plan(ctx, spec3)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan3.Actions) != 1 || plan3.Actions[0].Kind != UpdateApp || len(plan3.Actions[0].Changes) != 2 {
				t.Fatalf("changed spec plan:\n%s\nwant one update with 2 field changes", plan3)
			}
			if _, err := eng.Apply(ctx, plan3); err != nil {
				t.Fatal(err)
			}
			if got := v.count(c.kind, spec.UniqueName); got != want {
				t.Fatalf("after an update the directory holds %+v, want %+v", got, want)
			}
			plan4, err := eng.Plan(ctx, spec3)
			if err != nil || !plan4.Empty() {
				t.Fatalf("after the update the plan is %v, %v; want empty", plan4, err)
			}
		})
	}
}

// The result never shows the secret, whatever the format.
func TestResultNeverShowsTheSecret(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	eng := v.engine(Workforce)
	res := mustApply(t, ctx, eng, v.spec(Workforce, samples.Secret, "redact"))
	secret := res.Secret.Reveal()
	if len(secret) < 16 {
		t.Fatalf("secret %d chars", len(secret))
	}
	js, _ := json.Marshal(res)
	for _, s := range []string{res.String(), fmt.Sprint(res), fmt.Sprintf("%v %+v %#v %s %q", res, *res, res, res.Secret, res.Secret), string(js)} {
		if strings.Contains(s, secret) {
			t.Fatalf("the secret shows in %q", s)
		}
	}
	for _, ev := range v.events.All() {
		if strings.Contains(ev.Detail, secret) || strings.Contains(ev.Step, secret) {
			t.Fatalf("the secret shows in a progress event %+v", ev)
		}
	}
}

// A new app with a secret takes 3 dependent Graph round trips (workforce) and an External ID
// app with its user-flow link too; counted from the emulator's request log.
func TestRoundTrips(t *testing.T) {
	v := newEnv(t)
	for _, kind := range []samples.TenantType{Workforce, External} {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			eng := v.engine(kind)
			spec := v.spec(kind, samples.Secret, "roundtrips")
			plan, err := eng.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			// Every Graph call takes lat, so calls of one round start together and the next
			// round starts a whole lat later: the log's start times show the rounds.
			const lat = 300 * time.Millisecond
			v.e.SetFaults(emulator.FaultConfig{Faults: []emulator.Fault{{Route: "graph.*", Kind: emulator.FaultLatency, Delay: emulator.Duration(lat)}}})
			defer v.e.SetFaults(emulator.FaultConfig{})
			before := len(v.e.Requests())
			res, err := eng.Apply(ctx, plan)
			if err != nil {
				t.Fatal(err)
			}
			calls := v.graphCalls(before)
			var routes []string
			for _, c := range calls {
				routes = append(routes, c.Route)
			}
			want := []string{"graph.applications.upsert", "graph.applications.addPassword", "graph.servicePrincipals.upsert", "graph.oauth2PermissionGrants.create"}
			if kind == External {
				want = append(want, "graph.authenticationEventsFlows.includeApplications.add")
			}
			if len(calls) != len(want) {
				t.Fatalf("Apply made %d Graph calls %v; want exactly %v", len(calls), routes, want)
			}
			for _, w := range want {
				if !strings.Contains(strings.Join(routes, " "), w) {
					t.Errorf("no %s among %v", w, routes)
				}
			}
			// Dependent rounds, from the log: a call that starts within 2/3 lat of its round's
			// first call overlaps it (the structure, not a speed: a round that waited on the one
			// before cannot start earlier than lat after it).
			rounds, first := 0, time.Time{}
			for _, c := range calls {
				if rounds == 0 || c.Time.Sub(first) >= lat*2/3 {
					rounds, first = rounds+1, c.Time
				}
			}
			if rounds != 3 || res.RoundTrips != 3 {
				t.Errorf("Apply took %d dependent round trips by the log (%d by its own count), want 3", rounds, res.RoundTrips)
			}
			if routes[0] != "graph.applications.upsert" {
				t.Errorf("first call %s, want the app upsert", routes[0])
			}
			t.Logf("%s: %d calls in %d dependent round trips: %v", kind, len(calls), res.RoundTrips, routes)
		})
	}
}

// WaitReady waits out the emulator's replication lag: the new secret and app are refused with
// AADSTS700016/7000215 until the lag has passed.
func TestWaitReadyThroughReplicationLag(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	eng := v.engine(Workforce)
	spec := v.spec(Workforce, samples.Secret, "lag")
	mustApply(t, ctx, eng, spec)
	// renew makes a new secret on the existing app under a replication lag: the secret is
	// refused (AADSTS7000215) until the lag has passed.
	renew := func(lag time.Duration) *Result {
		t.Helper()
		v.e.SetReplicationLag(lag)
		s := spec
		s.Credential.Renew = true
		return mustApply(t, ctx, eng, s)
	}
	defer v.e.SetReplicationLag(0)
	res := renew(400 * time.Millisecond)
	var evs []ReadyEvent
	start := time.Now()
	err := WaitReady(ctx, ReadyConfig{
		TokenURL: v.tokenURL(Workforce), HTTPClient: &http.Client{Transport: v.tr}, Successes: 3,
		Interval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond, Timeout: 10 * time.Second,
		Progress: func(ev ReadyEvent) { evs = append(evs, ev) },
	}, res)
	if err != nil {
		t.Fatal(err)
	}
	notYet := 0
	for _, ev := range evs {
		if !ev.OK {
			notYet++
			if !strings.Contains(ev.Reason, "AADSTS") {
				t.Errorf("a not-yet poll without an AADSTS reason: %+v", ev)
			}
		}
	}
	if notYet == 0 {
		t.Errorf("no poll was refused under a 400 ms replication lag: %+v", evs)
	}
	if last := evs[len(evs)-1]; !last.OK || last.Successes != 3 {
		t.Errorf("last event %+v; want the third success in a row", last)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("ready after %s, before the lag passed", elapsed)
	}
	t.Logf("ready after %s, %d polls, %d refused (%s)", time.Since(start).Round(time.Millisecond), len(evs), notYet, evs[0].Reason)

	// A deadline shorter than the lag ends with a clear message.
	res2 := renew(2 * time.Second)
	err = WaitReady(ctx, ReadyConfig{TokenURL: v.tokenURL(Workforce), HTTPClient: &http.Client{Transport: v.tr}, Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond}, res2)
	if err == nil || !strings.Contains(err.Error(), "does not work yet") || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("WaitReady past its deadline = %v; want a clear not-ready error naming AADSTS7000215", err)
	}
	t.Log(err)
}

// A deleted app keeps its uniqueName until it is purged: a run with that name fails at the
// upsert (400 ObjectConflict) and says how to get out (purge with reset --all-tagged, or
// another --name), and the key-credential limit is not spent by a secret sample.
func TestSoftDeletedUniqueNameHint(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	eng := v.engine(Workforce)
	spec := v.spec(Workforce, samples.Secret, "deleted")
	plan, err := eng.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.graphClient(Workforce, fastRetry()).DeleteApplication(ctx, res.ObjectID); err != nil {
		t.Fatal(err)
	}
	plan, err = eng.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.Apply(ctx, plan)
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Explain, "deleted items") || !strings.Contains(pe.Next, "reset --all-tagged") || !strings.Contains(pe.Next, "--name") {
		t.Fatalf("apply over a deleted app's uniqueName: %v", err)
	}
	for _, r := range v.e.Requests() {
		if strings.Contains(r.Path, "keyCredentials") {
			t.Errorf("a secret sample read keyCredentials: %s %s", r.Method, r.Path)
		}
	}
}
