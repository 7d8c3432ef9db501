package provision

import (
	"context"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// Result is what Apply made: the ids the sample's configuration needs, and the new credential.
// Its String never shows the secret or the private key (Secret and Cert redact themselves in
// any fmt verb and in JSON).
type Result struct {
	Tenant             Tenant
	UniqueName         string
	DisplayName        string
	AppID              string // the client id
	ObjectID           string
	ServicePrincipalID string
	UserFlowID         string
	// Created is true when this run created the app registration.
	Created bool
	// Owned is true when Spec.Owner is known to own the app after this run.
	Owned bool
	// Credential is the kind; Secret is set when a new secret was made (empty when the existing
	// one stays), with its keyId and expiry; Certificate is set for certificates.
	Credential    samples.CredentialKind
	Secret        graph.Secret
	SecretKeyID   string
	SecretExpires time.Time
	Certificate   *Cert
	// HandOffs are planned steps the signed-in role may not take (Graph answered 403): skipped,
	// with everything else done, and left to someone who may.
	HandOffs []HandOff
	// Notes say what a tenant policy changed (a shorter secret lifetime, a certificate instead
	// of a secret).
	Notes []string
	// Actions are the kinds of change made; RoundTrips the dependent Graph rounds it took.
	Actions    []ActionKind
	RoundTrips int

	graceKey string
	keep     []string
}

// HandOff is a step left to someone else: the action, who may take it, and what it means
// until they do. URL, when set, is where they take it (the journey fills in the admin-consent
// page, which needs the cloud).
type HandOff struct {
	Step ActionKind
	To   string
	What string
	URL  string
}

// refused reports a 403: the signed-in role (or scope) may not take the step.
func refused(err error) bool {
	ge, ok := graph.AsError(err)
	return ok && ge.Status == 403 && !ge.HasCode("Directory_QuotaExceeded")
}

// consentHandOff is the hand-off of a tenant-wide consent the role may not grant.
func consentHandOff(t Tenant, scope string) HandOff {
	h := HandOff{Step: GrantConsent, To: "a Global Administrator, Application Administrator or Cloud Application Administrator"}
	if t.Type == External {
		h.What = "admin consent for " + scope + " was not granted (your role may not grant tenant-wide consent); customers of an External ID tenant cannot consent for themselves, so the sample's sign-in fails until an admin grants it at the admin-consent URL"
	} else {
		h.What = "admin consent for " + scope + " was not granted (your role may not grant tenant-wide consent); where the tenant allows user consent, each person consents for themselves at their first sign-in to the sample, otherwise an admin grants it once at the admin-consent URL"
	}
	return h
}

// String summarises the result without secrets.
func (r *Result) String() string {
	if r == nil {
		return "<no result>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "app %q client id %s (object %s) in tenant %s", r.DisplayName, r.AppID, r.ObjectID, r.Tenant.ID)
	switch {
	case r.Secret != "":
		fmt.Fprintf(&b, "; new client secret %s valid until %s", r.SecretKeyID, r.SecretExpires.UTC().Format(time.DateOnly))
	case r.Certificate != nil:
		fmt.Fprintf(&b, "; %s", r.Certificate)
	}
	return b.String()
}

// GoString keeps %#v from printing anything String does not.
func (r *Result) GoString() string { return r.String() }

// Apply makes the plan real in the fewest dependent Graph round trips:
//
//  1. upsert the app by uniqueName with everything it can carry (redirect URIs, logout URL,
//     implicit-grant settings, requiredResourceAccess, tags, notes, a certificate's public part),
//     and, when needed, create the user flow (it does not depend on the app);
//  2. addPassword and the service principal upsert, in parallel (both need only the app's ids);
//  3. admin consent and the user-flow link, in parallel (both need the service principal).
//
// A new app with a secret takes 3. Every step is safe to repeat: a re-run after any failure
// converges on one app. An empty plan writes nothing. On error the Result holds what was done.
func (e *Engine) Apply(ctx context.Context, p *Plan) (*Result, error) {
	s := p.Spec
	r := &Result{Tenant: p.Tenant, UniqueName: s.UniqueName, DisplayName: s.DisplayName, Credential: s.Credential.Kind, graceKey: p.graceKey, keep: p.keep}
	app := p.App
	sp := p.ServicePrincipal
	flow := p.Flow
	if app != nil {
		r.AppID, r.ObjectID = app.AppID, app.ID
	}
	if sp != nil {
		r.ServicePrincipalID = sp.ID
	}
	if flow != nil {
		r.UserFlowID = flow.ID
	}
	if s.Credential.Kind == samples.Certificate && !p.Has(AddCertificate) {
		c, err := loadCert(s.Credential.KeyFile)
		if err != nil {
			return r, fmt.Errorf("provision: %w", err)
		}
		r.Certificate = c
	}
	if p.Empty() {
		return r, nil
	}
	// The calls of a round run in parallel: every write they make to r, app, flow and sp goes
	// through commit, under one lock.
	var mu sync.Mutex
	commit := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	done := func(k ActionKind) { r.Actions = append(r.Actions, k) }

	// Round 1: the app (with a certificate) and, independently, a new user flow.
	var round []func() error
	if p.Has(CreateApp) || p.Has(UpdateApp) || p.Has(AddCertificate) {
		w := s.appWrite()
		if p.Has(AddCertificate) {
			c := p.localCert
			if c == nil {
				var err error
				if c, err = newCert("CN="+s.UniqueName, e.now(), s.Credential.Lifetime); err != nil {
					return r, fmt.Errorf("provision: %w", err)
				}
				// The key is on disk before the upsert can commit, so a run that dies after the
				// upload still finds and reuses it.
				if err := c.save(s.Credential.KeyFile); err != nil {
					return r, fmt.Errorf("provision: saving the certificate: %w; choose another place with --cert-file", err)
				}
			}
			r.Certificate = c
			w.SetKeys = true
			w.Keys = append(slices.Clone(p.keepKeys), c.keyCredential(e.now()))
		}
		round = append(round, func() error {
			step := "create the app registration"
			if app != nil {
				step = "update the app registration"
			}
			e.report(step, Started, "")
			a, created, err := e.g.UpsertApplication(ctx, s.UniqueName, w)
			if err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() {
				app = a
				r.Created = created || p.App == nil
				r.AppID, r.ObjectID = a.AppID, a.ID
				for _, k := range []ActionKind{CreateApp, UpdateApp, AddCertificate} {
					if p.Has(k) {
						done(k)
					}
				}
			})
			e.report(step, Done, "client id "+a.AppID)
			return nil
		})
	}
	if p.Has(CreateUserFlow) {
		round = append(round, func() error {
			step := "create the user flow"
			e.report(step, Started, s.UserFlow.CreateName)
			f, err := e.g.CreateUserFlow(ctx, s.UserFlow.CreateName)
			if refused(err) {
				e.report(step, Done, "handed off: your role may not create user flows")
				commit(func() {
					r.HandOffs = append(r.HandOffs, HandOff{Step: CreateUserFlow, To: "a Global Administrator or an External ID User Flow Administrator",
						What: fmt.Sprintf("no sign-up and sign-in user flow was created (your role may not create user flows): create one named %q and add the app to it, then run again", s.UserFlow.CreateName)})
				})
				return nil
			}
			if err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() {
				flow = &f
				r.UserFlowID = f.ID
				done(CreateUserFlow)
			})
			e.report(step, Done, f.ID)
			return nil
		})
	}
	if err := e.round(r, round...); err != nil {
		return r, err
	}

	// Round 2: the secret and the service principal.
	round = nil
	if p.Has(AddSecret) {
		round = append(round, func() error {
			step := "add a client secret"
			e.report(step, Started, "")
			name := CredentialPrefix + " " + e.now().UTC().Format("2006-01-02T15:04:05Z")
			lifetime := s.Credential.Lifetime
			pc, secret, err := e.g.AddPassword(ctx, app.ID, name, e.now().Add(lifetime))
			// A policy's maximum lifetime is not shown to the tool's token: step down until
			// one is allowed, and say so.
			pe := policyRefusal(err)
			for _, shorter := range shorterLifetimes(lifetime) {
				if pe == nil || pe.PasswordsBlocked {
					break
				}
				e.report(step, Retrying, fmt.Sprintf("%s refused a secret valid for %s; trying %s", pe.policy(), days(lifetime), days(shorter)))
				lifetime = shorter
				pc, secret, err = e.g.AddPassword(ctx, app.ID, name, e.now().Add(lifetime))
				pe = policyRefusal(err)
			}
			if pe != nil {
				pe.Tried = lifetime
				e.report(step, Failed, "refused by "+pe.policy())
				return pe
			}
			if err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() {
				r.Secret, r.SecretKeyID, r.SecretExpires = secret, pc.KeyID, pc.End
				done(AddSecret)
			})
			detail := "valid until " + pc.End.UTC().Format(time.DateOnly)
			if lifetime != s.Credential.Lifetime {
				detail += fmt.Sprintf(", %s: the tenant's app management policy refused %s (run init again before it expires)", days(lifetime), days(s.Credential.Lifetime))
				commit(func() {
					r.Notes = append(r.Notes, fmt.Sprintf("the tenant's app management policy allows no client secret valid for %s: the new one is valid for %s, until %s; run init again before then",
						days(s.Credential.Lifetime), days(lifetime), pc.End.UTC().Format(time.DateOnly)))
				})
			}
			e.report(step, Done, detail)
			return nil
		})
	}
	if s.Owner != "" && (p.Has(CreateApp) || p.Has(AddOwner)) {
		round = append(round, func() error {
			step := "make you an owner of the app"
			owners, err := e.g.Owners(ctx, app.ID, true)
			if err != nil {
				return actionable(step, err)
			}
			if slices.ContainsFunc(owners, func(o graph.Owner) bool { return strings.EqualFold(o.ID, s.Owner) }) {
				commit(func() { r.Owned = true })
				return nil // Graph made the creator an owner (members, Application Developers, apps)
			}
			e.report(step, Started, "")
			if err := e.g.AddOwner(ctx, app.ID, s.Owner); err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() {
				r.Owned = true
				done(AddOwner)
			})
			e.report(step, Done, "")
			return nil
		})
	}
	if p.Has(CreateServicePrincipal) {
		round = append(round, func() error {
			step := "create the service principal"
			e.report(step, Started, "")
			x, _, err := e.g.UpsertServicePrincipal(ctx, app.AppID, s.DisplayName, spTags(s.Tags))
			if err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() {
				sp = x
				r.ServicePrincipalID = x.ID
				done(CreateServicePrincipal)
			})
			e.report(step, Done, x.ID)
			return nil
		})
	}
	if err := e.round(r, round...); err != nil {
		return r, err
	}

	// Round 3: consent and the user-flow link.
	round = nil
	if p.Has(GrantConsent) || p.Has(UpdateConsent) {
		round = append(round, func() error {
			step := "grant admin consent"
			e.report(step, Started, s.consentScope())
			var err error
			if p.Grant != nil && p.Has(UpdateConsent) {
				_, err = e.consent.UpdateGrantScope(ctx, *p.Grant, s.consentScope())
			} else {
				_, err = e.consent.EnsureGrant(ctx, sp.ID, p.GraphSPID, s.consentScope())
			}
			if refused(err) {
				e.report(step, Done, "handed off: your role may not grant tenant-wide consent")
				commit(func() { r.HandOffs = append(r.HandOffs, consentHandOff(p.Tenant, s.consentScope())) })
				return nil
			}
			if err != nil {
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() { done(map[bool]ActionKind{true: UpdateConsent, false: GrantConsent}[p.Has(UpdateConsent)]) })
			e.report(step, Done, "")
			return nil
		})
	}
	if p.Has(LinkUserFlow) && p.FlowsHidden {
		e.report("link the app to the user flow", Done, "handed off: your role may not read or link user flows")
		r.HandOffs = append(r.HandOffs, HandOff{Step: LinkUserFlow, To: "a Global Administrator or an External ID User Flow Administrator",
			What: fmt.Sprintf("the app (client id %s) is in no user flow (your role may not read or link user flows): in the admin center, External Identities > User flows > your sign-up and sign-in flow > Applications > Add application; sign-ups fail until then", r.AppID)})
	}
	if p.Has(LinkUserFlow) && flow != nil {
		round = append(round, func() error {
			step := "link the app to the user flow"
			e.report(step, Started, flow.DisplayName)
			if p.UnlinkFlowID != "" {
				if err := e.g.UnlinkUserFlow(ctx, p.UnlinkFlowID, app.AppID); err != nil {
					return actionable(step, err)
				}
			}
			if err := e.g.LinkUserFlow(ctx, flow.ID, app.AppID); err != nil {
				if refused(err) {
					e.report(step, Done, "handed off: your role may not link apps to user flows")
					commit(func() {
						r.HandOffs = append(r.HandOffs, HandOff{Step: LinkUserFlow, To: "a Global Administrator or an External ID User Flow Administrator",
							What: fmt.Sprintf("the app (client id %s) is not linked to the user flow %q (your role may not link apps to user flows): in the admin center, External Identities > User flows > %s > Applications > Add application; sign-ups fail until then", app.AppID, flow.DisplayName, flow.DisplayName)})
					})
					return nil
				}
				e.report(step, Failed, err.Error())
				return actionable(step, err)
			}
			commit(func() { done(LinkUserFlow) })
			e.report(step, Done, "")
			return nil
		})
	}
	if err := e.round(r, round...); err != nil {
		return r, err
	}
	return r, nil
}

// round runs one round trip's calls in parallel and counts it.
func (e *Engine) round(r *Result, fs ...func() error) error {
	if len(fs) == 0 {
		return nil
	}
	r.RoundTrips++
	return parallel(fs...)
}

// spTags are the service principal's tags: the app's, plus the one that lists it among the
// tenant's enterprise applications in the admin center.
func spTags(appTags []string) []string {
	return append([]string{"WindowsAzureActiveDirectoryIntegratedApp"}, appTags...)
}

// Retire removes the secrets this tool made for the app before, except the grace one, once the
// new secret works (call it after WaitReady). It reads the app again so that secrets whose
// answer was lost in this run (a retried addPassword) go too. Secrets made by anyone else are
// never touched. Nothing happens when Apply made no new secret.
func (e *Engine) Retire(ctx context.Context, r *Result) error {
	if r == nil || r.Secret == "" || r.ObjectID == "" {
		return nil
	}
	app, err := e.g.AppByUniqueName(ctx, r.UniqueName, true, false) // secrets only
	if err != nil {
		return actionable("remove old client secrets", err)
	}
	var fs []func() error
	for _, pc := range app.Passwords {
		if !ownCredential(pc.DisplayName) || strings.EqualFold(pc.KeyID, r.SecretKeyID) || strings.EqualFold(pc.KeyID, r.graceKey) ||
			slices.ContainsFunc(r.keep, func(k string) bool { return strings.EqualFold(k, pc.KeyID) }) {
			continue
		}
		fs = append(fs, func() error {
			if err := e.g.RemovePassword(ctx, app.ID, pc.KeyID); err != nil {
				return actionable("remove an old client secret", err)
			}
			return nil
		})
	}
	if len(fs) == 0 {
		return nil
	}
	e.report("remove old client secrets", Started, fmt.Sprintf("%d secret(s); keeping the newest older one for a while", len(fs)))
	if err := parallel(fs...); err != nil {
		e.report("remove old client secrets", Failed, err.Error())
		return err
	}
	e.report("remove old client secrets", Done, "")
	return nil
}
