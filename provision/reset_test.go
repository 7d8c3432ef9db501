package provision

import (
	"context"
	"errors"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// List shows only tagged apps (live and soft-deleted) with their details; Reset deletes and
// purges only tagged apps matching the filter, including ones soft-deleted earlier, and never
// an untagged app.
func TestListAndReset(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	g := v.graphClient(External, fastRetry())
	eng := New(g, Options{})
	a := mustApply(t, ctx, eng, v.spec(External, samples.Secret, "alice"))
	b := mustApply(t, ctx, eng, v.spec(External, samples.Certificate, "bob"))
	old := mustApply(t, ctx, eng, v.spec(External, samples.Secret, "old"))
	if err := g.DeleteApplication(ctx, old.ObjectID); err != nil {
		t.Fatal(err)
	}
	// Someone else's app, without our tag, with a name that looks like ours.
	foreign, _, err := g.UpsertApplication(ctx, "someone-elses-app", graph.AppWrite{DisplayName: "node-external (alice) by entra-quickstart", Tags: []string{"not-" + Tag}})
	if err != nil {
		t.Fatal(err)
	}

	all, err := eng.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range all {
		names = append(names, l.UniqueName)
		if l.ObjectID == foreign.ID {
			t.Errorf("List shows the untagged app %s", l)
		}
		switch l.AppID {
		case a.AppID:
			if l.ServicePrincipalID == "" || !strings.Contains(l.Consent, "User.Read") || l.UserFlowID == "" || len(l.Secrets) != 1 || l.Sample != "node-external" || l.Name != "alice" {
				t.Errorf("List details of alice's app: %+v", l)
			}
		case b.AppID:
			if len(l.Certificates) != 1 || l.Certificates[0].Key != nil {
				t.Errorf("List certificates of bob's app: %+v", l.Certificates)
			}
		case old.AppID:
			if l.Deleted.IsZero() {
				t.Errorf("the soft-deleted app is not marked deleted: %+v", l)
			}
		}
	}
	if len(all) != 3 {
		t.Fatalf("List = %v; want the two live apps and the soft-deleted one", names)
	}
	only, err := eng.List(ctx, Filter{Sample: "aspnet-external"})
	if err != nil || len(only) != 1 || only[0].AppID != b.AppID {
		t.Fatalf("List by sample = %v, %v; want bob's app", only, err)
	}

	// Keep narrows and never widens: keeping nothing deletes and purges nothing, not even the
	// app soft-deleted before.
	rr, err := eng.Reset(ctx, Filter{Keep: func(Listed) bool { return false }})
	if err != nil || len(rr.Deleted) != 0 || len(rr.Purged) != 0 {
		t.Fatalf("reset keeping nothing: %+v, %v", rr, err)
	}
	if left, _ := eng.List(ctx, Filter{}); len(left) != 3 {
		t.Fatalf("reset keeping nothing changed the apps: %v", left)
	}

	// Reset one sample: only that app goes.
	rr, err = eng.Reset(ctx, Filter{Sample: "aspnet-external", Name: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Deleted) != 1 || len(rr.Purged) != 1 || rr.Deleted[0].AppID != b.AppID {
		t.Fatalf("reset of bob's app: %+v", rr)
	}
	if c := v.count(External, a.UniqueName); c.apps != 1 {
		t.Fatalf("resetting bob's app touched alice's: %+v", c)
	}
	// Reset everything: alice's is deleted and purged; the one soft-deleted before is left to
	// whoever deleted it (30 days to restore) unless PurgeEarlier.
	rr, err = eng.Reset(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Deleted) != 1 || len(rr.Purged) != 1 {
		t.Fatalf("reset of everything: deleted %d, purged %d; want 1 and 1 (only what it deleted)", len(rr.Deleted), len(rr.Purged))
	}
	rr, err = eng.Reset(ctx, Filter{PurgeEarlier: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Deleted) != 0 || len(rr.Purged) != 1 {
		t.Fatalf("reset with PurgeEarlier: deleted %d, purged %d; want 0 and 1 (the one deleted before)", len(rr.Deleted), len(rr.Purged))
	}
	assertNothingTagged(t, v, External)
	if got, err := g.AppByUniqueName(ctx, "someone-elses-app", false, false); err != nil || got == nil || !got.Deleted.IsZero() {
		t.Fatalf("the untagged app is gone or changed: %v, %v", got, err)
	}
	if left, _ := eng.List(ctx, Filter{}); len(left) != 0 {
		t.Fatalf("after reset List shows %v", left)
	}
}

// Re-runs that renew the secret keep the new one and at most one older one of ours (the one
// the sample's configuration held), and never touch a secret someone else added.
func TestSecretRotationKeepsOneGrace(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	g := v.graphClient(Workforce, fastRetry())
	eng := New(g, Options{})
	spec := v.spec(Workforce, samples.Secret, "rotate")
	res := mustApply(t, ctx, eng, spec)
	if _, _, err := g.AddPassword(ctx, res.ObjectID, "added by hand", time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var history []string
	history = append(history, res.SecretKeyID)
	for i := range 3 {
		s := spec
		s.Credential.Renew = true
		s.Credential.CurrentKeyID = history[len(history)-1]
		p, err := eng.Plan(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Has(AddSecret) {
			t.Fatalf("renewal %d plans no secret", i)
		}
		r, err := eng.Apply(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ready(ctx, Workforce, r); err != nil {
			t.Fatal(err)
		}
		if err := eng.Retire(ctx, r); err != nil {
			t.Fatal(err)
		}
		history = append(history, r.SecretKeyID)
		app, err := g.AppByUniqueName(ctx, spec.UniqueName, false, false)
		if err != nil {
			t.Fatal(err)
		}
		var own, byHand []string
		for _, pc := range app.Passwords {
			if ownCredential(pc.DisplayName) {
				own = append(own, pc.KeyID)
			} else {
				byHand = append(byHand, pc.KeyID)
			}
		}
		slices.Sort(own)
		want := []string{history[len(history)-1], history[len(history)-2]}
		slices.Sort(want)
		if !slices.Equal(own, want) {
			t.Errorf("after renewal %d our secrets are %v; want the new one and the previous one %v", i, own, want)
		}
		if len(byHand) != 1 {
			t.Errorf("after renewal %d the secret added by hand is gone", i)
		}
	}
	// Without Renew and with the current secret valid, nothing is planned.
	s := spec
	s.Credential.CurrentKeyID = history[len(history)-1]
	p, err := eng.Plan(ctx, s)
	if err != nil || !p.Empty() {
		t.Fatalf("plan with a valid current secret = %v, %v; want empty", p, err)
	}
}

// Errors a person can act on: each names what to do next and keeps Graph's request-id.
func TestActionableErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(v *env)
		spec   func(s Spec) Spec
		want   []string
		status int
		kind   samples.TenantType // "": workforce
	}{
		{
			name: "quota",
			setup: func(v *env) {
				cfg := v.e.Faults()
				cfg.ObjectQuota = 1
				v.e.SetFaults(cfg)
			},
			want: []string{"Directory_QuotaExceeded", "entra-quickstart reset"},
		},
		{
			name:  "no permission on app registrations",
			setup: func(v *env) { v.withoutRole(Workforce, "Application.ReadWrite.All") },
			want:  []string{"403", "Application Developer"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newEnv(t)
			tc.setup(v)
			kind := tc.kind
			if kind == "" {
				kind = Workforce
			}
			eng := v.engine(kind)
			ctx := context.Background()
			p, err := eng.Plan(ctx, v.spec(kind, samples.Secret, "errors"))
			if err == nil {
				_, err = eng.Apply(ctx, p)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.RequestID == "" || pe.Next == "" {
				t.Fatalf("error %v is not actionable (request-id %q)", err, pe)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

// A consent the sign-in may not grant (403) is skipped, everything else done, and handed off to
// the roles that may grant it, rather than failing the run.
func TestConsentRefusedIsHandedOff(t *testing.T) {
	v := newEnv(t)
	tid := v.tenant(Workforce).ID
	_ = v.e.Store().Do(func(d *emulator.Directory) error {
		ten := d.Tenant(tid)
		sp := ten.SPByAppID(ten.Automation.AppID)
		sp.AppRoleAssignments = slices.DeleteFunc(sp.AppRoleAssignments, func(r string) bool { return r == "DelegatedPermissionGrant.ReadWrite.All" })
		return nil
	})
	eng := v.engine(Workforce)
	ctx := context.Background()
	p, err := eng.Plan(ctx, v.spec(Workforce, samples.Secret, "handoff"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := eng.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply: %v; want the consent handed off", err)
	}
	if len(r.HandOffs) != 1 || r.HandOffs[0].Step != GrantConsent || !strings.Contains(r.HandOffs[0].To, "Cloud Application Administrator") ||
		slices.Contains(r.Actions, GrantConsent) || r.Secret == "" || r.ServicePrincipalID == "" {
		t.Fatalf("result %v, hand-offs %+v; want the app, secret and service principal, and the consent handed off", r, r.HandOffs)
	}
}

// A sign-in that may not read user flows (403: the role, or here the permission) gets the app,
// its secret, service principal and consent, with linking it to a user flow handed off to the
// roles that may, rather than failing the plan.
func TestUserFlowsHiddenLinkHandedOff(t *testing.T) {
	v := newEnv(t)
	v.withoutRole(External, "EventListener.ReadWrite.All")
	eng := v.engine(External)
	ctx := context.Background()
	p, err := eng.Plan(ctx, v.spec(External, samples.Secret, "hidden-flows"))
	if err != nil {
		t.Fatalf("plan: %v; want the link handed off", err)
	}
	if !p.FlowsHidden || !p.Has(LinkUserFlow) || p.Has(CreateUserFlow) {
		t.Fatalf("plan %s; want the link planned as handed off, no user flow created", p)
	}
	r, err := eng.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(r.HandOffs) != 1 || r.HandOffs[0].Step != LinkUserFlow || !strings.Contains(r.HandOffs[0].To, "User Flow Administrator") ||
		!strings.Contains(r.HandOffs[0].What, r.AppID) || r.Secret == "" || r.ServicePrincipalID == "" || !slices.Contains(r.Actions, GrantConsent) {
		t.Fatalf("result %v, hand-offs %+v; want everything else done and the link handed off", r, r.HandOffs)
	}
}

// The tenant's kind is checked against the sample's.
func TestTenantMismatch(t *testing.T) {
	v := newEnv(t)
	eng := v.engine(Workforce)
	_, err := eng.Plan(context.Background(), v.spec(External, samples.Secret, "x"))
	if err == nil || !strings.Contains(err.Error(), "is a workforce tenant") || !strings.Contains(err.Error(), "External ID") {
		t.Fatalf("Plan of an External ID sample in a workforce tenant = %v", err)
	}
	facts, err := eng.TenantFacts(context.Background())
	if err != nil || facts.Type != Workforce || facts.Subdomain != "contoso" {
		t.Fatalf("TenantFacts = %+v, %v", facts, err)
	}
	ext, err := v.engine(External).TenantFacts(context.Background())
	if err != nil || ext.Type != External || ext.Subdomain == "" {
		t.Fatalf("External TenantFacts = %+v, %v", ext, err)
	}
}

// An External ID tenant without a user flow: an error that says how to get one, or, when the
// user agreed, a flow made in the first round and linked in the third.
func TestUserFlowCreatedWhenNone(t *testing.T) {
	v := newEnv(t)
	tid := v.tenant(External).ID
	_ = v.e.Store().Do(func(d *emulator.Directory) error { d.Tenant(tid).UserFlows = nil; return nil })
	eng := v.engine(External)
	ctx := context.Background()
	spec := v.spec(External, samples.Secret, "flowless")
	if _, err := eng.Plan(ctx, spec); err == nil || !strings.Contains(err.Error(), "no sign-up and sign-in user flow") {
		t.Fatalf("Plan without a flow = %v; want an error saying how to get one", err)
	}
	spec.UserFlow.CreateIfNone = true
	p, err := eng.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(CreateUserFlow) || !p.Has(LinkUserFlow) {
		t.Fatalf("plan:\n%s", p)
	}
	res, err := eng.Apply(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.UserFlowID == "" || res.RoundTrips != 3 {
		t.Fatalf("result %+v; want a flow id in 3 round trips", res)
	}
	if c := v.count(External, spec.UniqueName); c.flowLinks != 1 {
		t.Fatalf("counts %+v; want the app linked", c)
	}
	p2, err := eng.Plan(ctx, spec)
	if err != nil || !p2.Empty() {
		t.Fatalf("second plan = %v, %v; want empty", p2, err)
	}
}

// withoutRole takes an application permission away from the tenant's automation client.
func (v *env) withoutRole(kind samples.TenantType, role string) {
	tid := v.tenant(kind).ID
	_ = v.e.Store().Do(func(d *emulator.Directory) error {
		ten := d.Tenant(tid)
		sp := ten.SPByAppID(ten.Automation.AppID)
		sp.AppRoleAssignments = slices.DeleteFunc(sp.AppRoleAssignments, func(r string) bool { return r == role })
		return nil
	})
}
