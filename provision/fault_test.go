package provision

import (
	"context"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
)

// step is one Apply step: the Graph route it writes through and the step name its progress
// events carry.
type step struct {
	name, route, progress string
	external              bool // External ID only
}

func applySteps() []step {
	return []step{
		{"app", "graph.applications.upsert", "create the app registration", false},
		{"secret", "graph.applications.addPassword", "add a client secret", false},
		{"sp", "graph.servicePrincipals.upsert", "create the service principal", false},
		{"consent", "graph.oauth2PermissionGrants.create", "grant admin consent", false},
		{"flow", "graph.authenticationEventsFlows.includeApplications.add", "link the app to the user flow", true},
	}
}

type faultCase struct {
	name   string
	faults []emulator.Fault // on the step's route
	lag    time.Duration    // replication lag for the whole run
	cancel bool             // cancel the context while the step's request is in flight
}

func faultCases(route string) []faultCase {
	return []faultCase{
		{name: "500-after-commit", faults: []emulator.Fault{{Route: route, Kind: emulator.FaultStatusAfterCommit, Status: 500, Times: 1}}},
		{name: "dropped-connection", faults: []emulator.Fault{{Route: route, Kind: emulator.FaultDrop, Times: 1}}},
		{name: "dropped-after-commit", faults: []emulator.Fault{{Route: route, Kind: emulator.FaultDropAfterCommit, Times: 1}}},
		{name: "429-retry-after", faults: []emulator.Fault{{Route: route, Kind: emulator.FaultStatus, Status: 429, RetryAfter: "1", Times: 1}}},
		{name: "context-cancelled", cancel: true, faults: []emulator.Fault{{Route: route, Kind: emulator.FaultLatency, Delay: emulator.Duration(300 * time.Millisecond), Times: 1}}},
	}
}

// TestFaultMatrix: for each Apply step and each fault, the run either succeeds or fails with a
// clear error; a re-run without faults converges to exactly one app, one service principal, one
// grant (and one user-flow link) with one working credential and at most one older secret of
// ours; and reset then leaves nothing tagged, soft-deleted included. Each case has its own
// emulator (faults and lag are emulator-wide), run in parallel.
func TestFaultMatrix(t *testing.T) {
	type tc struct {
		kind samples.TenantType
		cred samples.CredentialKind
		step string
		fc   faultCase
	}
	var cases []tc
	for _, kind := range []samples.TenantType{Workforce, External} {
		for _, st := range applySteps() {
			if st.external && kind != External {
				continue
			}
			for _, fc := range faultCases(st.route) {
				cases = append(cases, tc{kind, samples.Secret, st.name, fc})
			}
		}
		// A certificate rides in the app's first request: the app step's faults cover it.
		for _, fc := range faultCases("graph.applications.upsert") {
			cases = append(cases, tc{kind, samples.Certificate, "app", fc})
		}
		for _, cred := range []samples.CredentialKind{samples.Secret, samples.Certificate} {
			// Longer than anything the SDK would retry (it retries no 404/400 at all).
			cases = append(cases, tc{kind, cred, "all", faultCase{name: "replication-lag", lag: 250 * time.Millisecond}})
		}
	}
	cases = append(cases, tc{Workforce, samples.Secret, "app", faultCase{name: "429-four-times", faults: []emulator.Fault{{Route: "graph.applications.upsert", Kind: emulator.FaultStatus, Status: 429, RetryAfter: "1", Times: 4}}}})

	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s/%s", c.kind, c.cred, c.step, c.fc.name), func(t *testing.T) {
			t.Parallel()
			v := newEnv(t)
			eng := v.engine(c.kind)
			spec := v.spec(c.kind, c.cred, "faults")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			if c.fc.cancel {
				prog := progressFor(c.step)
				eng.progress = func(ev Event) {
					v.events.Add(ev)
					if ev.Step == prog && ev.Status == Started {
						once.Do(func() { time.AfterFunc(100*time.Millisecond, cancel) })
					}
				}
			}
			plan, err := eng.Plan(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.fc.faults {
				v.e.AddFault(f)
			}
			v.e.SetReplicationLag(c.fc.lag)
			res1, err1 := eng.Apply(ctx, plan)
			switch {
			case err1 == nil:
			case c.fc.cancel:
				if !errors.Is(err1, context.Canceled) {
					t.Fatalf("cancelled run failed with %v; want context.Canceled in the chain", err1)
				}
			default:
				var pe *Error
				if !errors.As(err1, &pe) || pe.Next == "" {
					t.Fatalf("first run failed with an error that says nothing to do: %v", err1)
				}
			}
			if len(v.e.FaultEvents()) == 0 && c.fc.lag == 0 {
				t.Fatalf("the fault never hit: %+v", c.fc)
			}
			t.Logf("first run: err=%v", err1)
			if c.fc.lag > 0 {
				// The lag was met and retried as lag (graph.LagWait's schedule), and the run
				// converged without a second run.
				if err1 != nil {
					t.Fatalf("under %s of lag the first run failed: %v", c.fc.lag, err1)
				}
				waited := map[string]bool{}
				for _, ev := range v.events.All() {
					if ev.Status == Retrying && strings.Contains(ev.Detail, "replication lag") {
						waited[ev.Step] = true
					}
				}
				// Which steps meet the lag depends on timing (a slow machine may send the grant
				// after the new service principal has replicated); at least the first dependent
				// round meets it, and every retry it caused was a lag retry that converged.
				if len(waited) == 0 {
					t.Errorf("under %s of lag no step waited for replication", c.fc.lag)
				}
			}

			// Re-run without faults, as the CLI would: it renews the secret unless the first run
			// delivered one (whose keyId the local record then holds).
			v.e.SetFaults(emulator.FaultConfig{})
			spec2 := spec
			if c.cred == samples.Secret {
				if err1 == nil && res1.Secret != "" {
					spec2.Credential.CurrentKeyID = res1.SecretKeyID
				} else {
					spec2.Credential.Renew = true
				}
			}
			eng2 := v.engine(c.kind)
			plan2, err := eng2.Plan(context.Background(), spec2)
			if err != nil {
				t.Fatal(err)
			}
			// Under replication lag the re-run may not see the first run's objects yet: it plans them
			// again and converges through the duplicate answers.
			if err1 == nil && c.fc.lag == 0 && !plan2.Empty() {
				t.Errorf("the first run succeeded, yet the re-run plans:\n%s", plan2)
			}
			res2, err := eng2.Apply(context.Background(), plan2)
			if err != nil {
				t.Fatalf("re-run: %v", err)
			}
			working := res2
			if res2.Secret == "" && res2.Certificate == nil {
				working = res1
			}
			if err := eng2.Retire(context.Background(), res2); err != nil {
				t.Fatal(err)
			}
			got := v.count(c.kind, spec.UniqueName)
			if got.apps != 1 || got.sps != 1 || got.grants != 1 || got.deletedApps != 0 {
				t.Fatalf("after the re-run: %+v; want exactly one app, service principal and grant", got)
			}
			if c.kind == External && got.flowLinks != 1 {
				t.Errorf("after the re-run: %d user-flow links, want 1", got.flowLinks)
			}
			if c.cred == samples.Secret && (got.ownSecrets < 1 || got.ownSecrets > 2) {
				t.Errorf("after the re-run and retire: %d secrets of ours, want the new one and at most one older", got.ownSecrets)
			}
			if c.cred == samples.Certificate && (got.keys < 1 || got.keys > 2) {
				t.Errorf("after the re-run: %d keys, want the current one and at most one older", got.keys)
			}
			if err := v.ready(context.Background(), c.kind, working); err != nil {
				t.Fatalf("the credential in hand does not work: %v", err)
			}

			// Reset leaves nothing tagged, soft-deleted included.
			rr, err := eng2.Reset(context.Background(), Filter{Sample: spec.Sample})
			if err != nil {
				t.Fatalf("reset: %v", err)
			}
			if len(rr.Purged) != 1 {
				t.Errorf("reset purged %d apps, want 1", len(rr.Purged))
			}
			assertNothingTagged(t, v, c.kind)
		})
	}
}

func progressFor(stepName string) string {
	for _, s := range applySteps() {
		if s.name == stepName {
			return s.progress
		}
	}
	return ""
}

// assertNothingTagged checks the directory directly: no app with our tag, live or deleted, and
// no service principal of a deleted app left behind.
func assertNothingTagged(t *testing.T, v *env, kind samples.TenantType) {
	t.Helper()
	tid := v.tenant(kind).ID
	v.e.Store().View(func(d *emulator.Directory) {
		ten := d.Tenant(tid)
		for _, a := range ten.Applications {
			for _, tag := range a.Tags {
				if tag == Tag {
					t.Errorf("app %s (deleted: %v) still carries the tag", a.DisplayName, a.Deleted())
				}
			}
		}
		for _, sp := range ten.ServicePrincipals {
			if strings.Contains(sp.DisplayName, "by entra-quickstart") {
				t.Errorf("service principal %s (deleted: %v) is left", sp.DisplayName, sp.Deleted())
			}
		}
	})
}
