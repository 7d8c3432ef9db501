package provision

import (
	"context"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// Engine provisions through one Graph client.
type Engine struct {
	g        *graph.Client
	consent  *graph.Client // grants tenant-wide consent; g unless Options.Consent
	now      func() time.Time
	progress func(Event)
	probe    func(ctx context.Context, tenantID string) (bool, error)
}

// Options configure an Engine.
type Options struct {
	// Progress hears about each step (started, done, retrying, failed); nil is silent.
	Progress func(Event)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ExternalIDProbe tells, without Graph, whether a tenant (by id) is an External ID tenant:
	// auth.Cloud.IsExternalIDTenant. It decides the tenant's kind when the token may not read
	// the organization's tenantType (see tenantKind); an error wrapping auth.ErrKindUnknown
	// means it could not tell. Nil: the kind the caller asked for is taken on trust.
	ExternalIDProbe func(ctx context.Context, tenantID string) (bool, error)
	// Consent, when set, is the client that grants tenant-wide consent: the same sign-in asking
	// also the consent-granting permission, so that the others ask no more than they need.
	Consent *graph.Client
}

// Event is one progress report.
type Event struct {
	Step   string // e.g. "create the app registration"
	Status Status
	Detail string // e.g. "replication lag; retrying in 2s"
}

// Status of a step.
type Status string

const (
	Started  Status = "started"
	Done     Status = "done"
	Retrying Status = "retrying"
	Failed   Status = "failed"
)

// New makes an Engine. Build g with graph.New; pass its OnRetry through Engine.OnRetry to see
// retries as progress events.
func New(g *graph.Client, opts Options) *Engine {
	e := &Engine{g: g, consent: opts.Consent, now: opts.Now, progress: opts.Progress, probe: opts.ExternalIDProbe}
	if e.consent == nil {
		e.consent = g
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// OnRetry turns Graph retries into progress events; give it to graph.Config.OnRetry.
func OnRetry(progress func(Event)) func(graph.RetryEvent) {
	return func(r graph.RetryEvent) {
		if progress != nil {
			progress(Event{Step: r.Op, Status: Retrying, Detail: fmt.Sprintf("%s; trying again in %s", r.Reason, r.Wait.Round(time.Millisecond))})
		}
	}
}

func (e *Engine) report(step string, st Status, detail string) {
	if e.progress != nil {
		e.progress(Event{Step: step, Status: st, Detail: detail})
	}
}

// Tenant is what the signed-in tenant is.
type Tenant struct {
	ID          string
	DisplayName string
	Type        samples.TenantType
	Domain      string // the initial <name>.onmicrosoft.com domain
	Subdomain   string // its first label: External ID's <subdomain>.ciamlogin.com
	// KindFrom says how Type was decided (Graph's tenantType, the sign-in service's External ID
	// document); when Type is empty, why it could not be.
	KindFrom string
}

// ActionKind names a change Apply makes.
type ActionKind string

const (
	CreateApp              ActionKind = "create-app"
	UpdateApp              ActionKind = "update-app"
	AddSecret              ActionKind = "add-secret"
	AddCertificate         ActionKind = "add-certificate"
	CreateServicePrincipal ActionKind = "create-service-principal"
	GrantConsent           ActionKind = "grant-consent"
	UpdateConsent          ActionKind = "update-consent"
	CreateUserFlow         ActionKind = "create-user-flow"
	LinkUserFlow           ActionKind = "link-user-flow"
	// AddOwner makes Spec.Owner an owner of the app, unless Graph made them one already.
	AddOwner ActionKind = "add-owner"
	// RetireSecrets happens after WaitReady (Engine.Retire): older secrets made by this tool,
	// but one kept as a grace period.
	RetireSecrets ActionKind = "retire-secrets"
)

// Action is one change, with its field-level differences for the UI and --dry-run.
type Action struct {
	Kind    ActionKind
	Summary string
	Changes []Change
}

// Change is one field's difference.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Plan is what exists now and what Apply will do about it.
type Plan struct {
	Spec   Spec
	Tenant Tenant
	// What exists now (nil: nothing).
	App              *graph.Application
	Owners           []graph.Owner // the existing app's owners
	ServicePrincipal *graph.ServicePrincipal
	Grant            *graph.Grant
	GraphSPID        string // Microsoft Graph's service principal in this tenant (consent's resource)
	Flow             *graph.UserFlow
	FlowLinked       bool   // the app is linked to Flow
	UnlinkFlowID     string // the app is linked to another flow, to leave first
	// FlowsHidden: the signed-in role may not read user flows (403), so linking the app to one
	// is handed off (an External ID User Flow Administrator or Global Administrator does it).
	FlowsHidden bool
	Actions     []Action

	// Notes are what a person must know about the plan beyond its actions (a secret another
	// folder still uses, a policy that changed the credential); String shows them.
	Notes []string

	localCert *Cert                 // a certificate on disk to reuse or upload again
	keep      []string              // secrets (keyIds) Retire leaves although it would remove them
	keepKeys  []graph.KeyCredential // keys to keep when the key collection is replaced
	graceKey  string                // the secret kept as the grace period
	planned   time.Time
}

// Tagged reports whether the existing app carries the tool's tag.
func (p *Plan) Tagged() bool {
	return p.App != nil && slices.Contains(p.App.Tags, Tag)
}

// OwnedBy reports whether a directory object (by id) owns the existing app.
func (p *Plan) OwnedBy(id string) bool {
	return id != "" && slices.ContainsFunc(p.Owners, func(o graph.Owner) bool { return strings.EqualFold(o.ID, id) })
}

// Foreign lists what the existing app holds that the tool did not make: other owners,
// credentials without the tool's name, and redirect URIs (every platform) the spec does not ask
// for. Empty for a new app.
func (p *Plan) Foreign() []string {
	if p.App == nil {
		return nil
	}
	var out []string
	for _, o := range p.Owners {
		if !strings.EqualFold(o.ID, p.Spec.Owner) {
			out = append(out, "owner "+o.Name())
		}
	}
	for _, pc := range p.App.Passwords {
		if !ownCredential(pc.DisplayName) {
			out = append(out, fmt.Sprintf("client secret %q (%s…, until %s)", pc.DisplayName, pc.Hint, pc.End.UTC().Format(time.DateOnly)))
		}
	}
	for _, k := range p.App.Keys {
		if !ownCredential(k.DisplayName) {
			out = append(out, fmt.Sprintf("certificate %q (until %s)", k.DisplayName, k.End.UTC().Format(time.DateOnly)))
		}
	}
	for _, u := range p.App.Web.RedirectURIs {
		if !slices.Contains(p.Spec.RedirectURIs, u) {
			out = append(out, "web redirect URI "+u)
		}
	}
	for _, u := range p.App.SPARedirectURIs {
		out = append(out, "single-page-app redirect URI "+u)
	}
	for _, u := range p.App.PublicClientRedirectURIs {
		out = append(out, "public-client redirect URI "+u)
	}
	return out
}

// Retiring lists the secrets made by this tool that the new secret replaces: once it works,
// Engine.Retire removes them (all but the grace one and those kept with Keep). Empty when the
// plan adds no secret.
func (p *Plan) Retiring() []graph.PasswordCredential {
	if p.App == nil || !p.Has(AddSecret) {
		return nil
	}
	var out []graph.PasswordCredential
	for _, pc := range p.App.Passwords {
		if ownCredential(pc.DisplayName) && !strings.EqualFold(pc.KeyID, p.graceKey) && !slices.ContainsFunc(p.keep, func(k string) bool { return strings.EqualFold(k, pc.KeyID) }) {
			out = append(out, pc)
		}
	}
	return out
}

// Keep leaves secrets (by keyId) that Retire would remove: someone still uses them.
func (p *Plan) Keep(keyIDs ...string) { p.keep = append(p.keep, keyIDs...) }

// Empty reports whether there is nothing to do.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }

// Has reports whether the plan includes an action kind.
func (p *Plan) Has(k ActionKind) bool {
	return slices.ContainsFunc(p.Actions, func(a Action) bool { return a.Kind == k })
}

// String is the plan as lines a person reads (--dry-run prints it).
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "app registration %q (uniqueName %s) in %s tenant %s\n", p.Spec.DisplayName, p.Spec.UniqueName, p.Tenant.Type, p.Tenant.Domain)
	if f := p.Foreign(); len(f) > 0 {
		b.WriteString("  the app holds what entra-quickstart did not make (left as it is):\n")
		for _, x := range f {
			fmt.Fprintf(&b, "    ! %s\n", x)
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  ! %s\n", n)
	}
	if p.Empty() {
		b.WriteString("  nothing to change\n")
		return b.String()
	}
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "  + %s\n", a.Summary)
		for _, c := range a.Changes {
			fmt.Fprintf(&b, "      %s: %s -> %s\n", c.Field, orNone(c.From), orNone(c.To))
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// parallel runs fs at once and joins their errors: one Graph round trip's worth of calls.
func parallel(fs ...func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(fs))
	for i, f := range fs {
		if f == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return joinErrs(errs)
}

func joinErrs(errs []error) error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	// The others usually share the first one's cause and hint: name their steps only.
	var also []string
	for _, e := range out[1:] {
		step, _, ok := strings.Cut(e.Error(), " failed:")
		if !ok {
			step = e.Error()
		}
		also = append(also, step)
	}
	return fmt.Errorf("%w (also failed: %s)", out[0], strings.Join(also, "; "))
}

// Caller is who signs in (graph.Caller).
type Caller = graph.Caller

// Caller says who the engine's Graph calls are made as (graph.Client.Caller).
func (e *Engine) Caller(ctx context.Context) (Caller, error) {
	c, err := e.g.Caller(ctx)
	if err != nil {
		return c, actionable("find out who is signed in", err)
	}
	return c, nil
}

// TenantFacts reads the signed-in tenant: its id, initial domain and kind (tenantKind). Type
// is empty when the kind could not be told; KindFrom then says why.
func (e *Engine) TenantFacts(ctx context.Context) (Tenant, error) {
	org, err := e.g.Organization(ctx)
	if err != nil {
		return Tenant{}, actionable("read the tenant", err)
	}
	return e.tenantKind(ctx, org, nil)
}

// earlyProbe is an External ID probe started before the organization was read.
type earlyProbe struct {
	tenant   string
	external bool
	err      error
}

// tenantKind decides the tenant's kind, from the first of these that can tell:
//  1. Graph's organization.tenantType ("AAD" workforce, "CIAM" External ID, "AAD B2C"), when the
//     token may read it: app-only with Organization.Read.All, or a delegated full-read scope.
//     The tool's delegated token holds User.Read, with which Graph returns it as null (v1.0
//     organization-get; facts/tenants.md §6), so on a real tenant this is usually empty.
//  2. The sign-in service's public External ID discovery document (auth.Cloud.IsExternalIDTenant,
//     which says why that signal and its source): present for a CIAM tenant, refused otherwise.
//
// A B2C tenant is refused: its samples and authorities (b2clogin.com, policies) are not these.
func (e *Engine) tenantKind(ctx context.Context, org graph.Organization, early *earlyProbe) (Tenant, error) {
	t := Tenant{ID: org.ID, DisplayName: org.DisplayName, Domain: org.InitialDomain()}
	t.Subdomain, _, _ = strings.Cut(t.Domain, ".")
	switch tt := strings.ToUpper(strings.TrimSpace(org.TenantType)); {
	case tt == "CIAM":
		t.Type, t.KindFrom = External, "Graph: tenantType CIAM"
		return t, nil
	case tt == "AAD":
		t.Type, t.KindFrom = Workforce, "Graph: tenantType AAD"
		return t, nil
	case strings.Contains(tt, "B2C"):
		return t, fmt.Errorf("provision: the tenant %s is an Azure AD B2C tenant (tenantType %q); entra-quickstart serves workforce and Microsoft Entra External ID tenants, whose samples and sign-in hosts differ from B2C's: sign in to a workforce or External ID tenant", t.Domain, org.TenantType)
	case tt != "":
		return t, fmt.Errorf("provision: the tenant %s has a tenantType %q this tool does not know; sign in to a workforce or External ID tenant", t.Domain, org.TenantType)
	}
	if e.probe == nil {
		t.KindFrom = "not checked: Graph did not show tenantType to this token"
		return t, nil
	}
	var ext bool
	var err error
	if early != nil && strings.EqualFold(early.tenant, org.ID) {
		ext, err = early.external, early.err
	} else {
		ext, err = e.probe(ctx, org.ID)
	}
	switch {
	case err != nil:
		t.KindFrom = "not known: Graph did not show tenantType to this token, and " + err.Error()
	case ext:
		t.Type, t.KindFrom = External, "the sign-in service: it serves the tenant's External ID (ciamlogin.com) discovery document"
	default:
		t.Type, t.KindFrom = Workforce, "the sign-in service: it serves no External ID (ciamlogin.com) discovery document for the tenant"
	}
	return t, nil
}

// Plan reads what exists (tenant, app by uniqueName, its secrets and keys, service principal,
// consent, user-flow link) and lists the actions that make it match spec. Reads run in parallel
// where they do not depend on each other. Plan writes nothing.
func (e *Engine) Plan(ctx context.Context, spec Spec) (*Plan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{Spec: spec, planned: e.now()}
	e.report("read what exists", Started, "")
	var org graph.Organization
	var flows []graph.UserFlow
	var early *earlyProbe
	err := parallel(
		func() (err error) { org, err = e.g.Organization(ctx); return wrapStep("read the tenant", err) },
		func() error {
			// The kind's public signal, read beside Graph so that it costs no round trip of its
			// own; tenantKind uses it only if Graph hides tenantType.
			if e.probe != nil && spec.TenantID != "" {
				ext, err := e.probe(ctx, spec.TenantID)
				early = &earlyProbe{tenant: spec.TenantID, external: ext, err: err}
			}
			return nil
		},
		func() (err error) {
			// keyCredentials only when a certificate is involved (Graph's 150 reads a minute).
			p.App, err = e.g.AppByUniqueName(ctx, spec.UniqueName, false, spec.Credential.Kind == samples.Certificate)
			return wrapStep("read the app registration", err)
		},
		func() error {
			sp, err := e.g.ServicePrincipal(ctx, graph.GraphAppID)
			if err != nil {
				return wrapStep("find Microsoft Graph's service principal", err)
			}
			if sp == nil {
				return fmt.Errorf("provision: this tenant has no Microsoft Graph service principal; sign in to the tenant's admin center once, then run again")
			}
			p.GraphSPID = sp.ID
			return nil
		},
		func() (err error) {
			if spec.TenantType != External {
				return nil
			}
			flows, err = e.g.UserFlows(ctx)
			if refused(err) {
				p.FlowsHidden = true
				return nil
			}
			return wrapStep("list the user flows", err)
		},
	)
	if org.ID != "" {
		var kerr error
		if p.Tenant, kerr = e.tenantKind(ctx, org, early); kerr != nil {
			e.report("read what exists", Failed, kerr.Error())
			return nil, kerr
		}
		if p.Tenant.Type == "" {
			// Nothing could tell: go on with the kind asked for, and say so.
			p.Tenant.Type = spec.TenantType
			e.report("read the tenant", Done, fmt.Sprintf("taken for a %s tenant as asked; its kind is %s", kindName(spec.TenantType), p.Tenant.KindFrom))
		}
	}
	// A tenant of the wrong kind explains any other failure (user flows exist only in External
	// ID tenants), so it is reported first.
	if org.ID != "" && p.Tenant.Type != spec.TenantType {
		return nil, fmt.Errorf("provision: the signed-in tenant %s is a %s tenant, but the sample %s is for a %s tenant; sign in to a %s tenant or pick a %s sample",
			p.Tenant.Domain, kindName(p.Tenant.Type), spec.Sample, kindName(spec.TenantType), kindName(spec.TenantType), kindName(p.Tenant.Type))
	}
	if org.ID != "" && spec.TenantID != "" && !strings.EqualFold(spec.TenantID, p.Tenant.ID) && !strings.EqualFold(spec.TenantID, p.Tenant.Domain) {
		return nil, fmt.Errorf("provision: signed in to tenant %s (%s), not %s; sign in to the right tenant", p.Tenant.ID, p.Tenant.Domain, spec.TenantID)
	}
	if err != nil {
		e.report("read what exists", Failed, err.Error())
		return nil, err
	}
	linked := map[string]bool{} // flow id -> the app is in it
	if p.App != nil {
		var fns []func() error
		fns = append(fns, func() (err error) {
			p.Owners, err = e.g.Owners(ctx, p.App.ID, false)
			return wrapStep("read the app's owners", err)
		})
		fns = append(fns, func() (err error) {
			p.ServicePrincipal, err = e.g.ServicePrincipal(ctx, p.App.AppID)
			if err != nil || p.ServicePrincipal == nil {
				return wrapStep("read the service principal", err)
			}
			grants, err := e.g.Grants(ctx, p.ServicePrincipal.ID)
			if err != nil {
				return wrapStep("read the consent", err)
			}
			for _, g := range grants {
				if g.ResourceID == p.GraphSPID && g.ConsentType == graph.AllPrincipals {
					p.Grant = &g
					break
				}
			}
			return nil
		})
		var mu sync.Mutex
		for _, f := range flows {
			fns = append(fns, func() error {
				apps, err := e.g.FlowApps(ctx, f.ID)
				if err != nil {
					return wrapStep("read the user flow's applications", err)
				}
				if slices.ContainsFunc(apps, func(a string) bool { return strings.EqualFold(a, p.App.AppID) }) {
					mu.Lock()
					linked[f.ID] = true
					mu.Unlock()
				}
				return nil
			})
		}
		if err := parallel(fns...); err != nil {
			e.report("read what exists", Failed, err.Error())
			return nil, err
		}
	}
	if err := e.planActions(p, flows, linked); err != nil {
		return nil, err
	}
	e.report("read what exists", Done, plural(len(p.Actions), "change", "changes")+" planned")
	return p, nil
}

func kindName(t samples.TenantType) string {
	if t == External {
		return "External ID"
	}
	return "workforce"
}

func (e *Engine) planActions(p *Plan, flows []graph.UserFlow, linked map[string]bool) error {
	s := p.Spec
	now := p.planned
	want := s.appWrite()
	if p.App == nil {
		p.Actions = append(p.Actions, Action{Kind: CreateApp, Summary: "create the app registration " + s.DisplayName, Changes: appDiff(nil, want)})
	} else if ch := appDiff(p.App, want); len(ch) > 0 {
		p.Actions = append(p.Actions, Action{Kind: UpdateApp, Summary: "update the app registration " + s.DisplayName, Changes: ch})
	}
	if p.App != nil && s.Owner != "" && !p.OwnedBy(s.Owner) {
		p.Actions = append(p.Actions, Action{Kind: AddOwner, Summary: "make you an owner of the app"})
	}
	switch s.Credential.Kind {
	case samples.Secret:
		if a, ok := planSecret(p, now); ok {
			p.Actions = append(p.Actions, a)
		}
	case samples.Certificate:
		a, ok, err := planCertificate(p, now)
		if err != nil {
			return err
		}
		if ok {
			p.Actions = append(p.Actions, a)
		}
	}
	if p.ServicePrincipal == nil {
		p.Actions = append(p.Actions, Action{Kind: CreateServicePrincipal, Summary: "create the service principal (the app's identity in this tenant)"})
	}
	scope := s.consentScope()
	switch {
	case p.Grant == nil:
		p.Actions = append(p.Actions, Action{Kind: GrantConsent, Summary: "grant admin consent for " + scope, Changes: []Change{{Field: "scope", To: scope}}})
	case !sameFields(p.Grant.Scope, scope):
		p.Actions = append(p.Actions, Action{Kind: UpdateConsent, Summary: "update admin consent", Changes: []Change{{Field: "scope", From: p.Grant.Scope, To: scope}}})
	}
	if s.TenantType == External {
		return planFlow(p, flows, linked)
	}
	return nil
}

// planFlow chooses the user flow and decides whether to create or (re)link it.
func planFlow(p *Plan, flows []graph.UserFlow, linked map[string]bool) error {
	s := p.Spec.UserFlow
	if p.FlowsHidden {
		p.Actions = append(p.Actions, Action{Kind: LinkUserFlow, Summary: "hand off linking the app to a user flow (your role may not read user flows)"})
		return nil
	}
	var current string
	for id := range linked {
		current = id
	}
	sort.Slice(flows, func(i, j int) bool { return flows[i].DisplayName < flows[j].DisplayName })
	pick := func(f graph.UserFlow) bool {
		switch {
		case s.ID != "":
			return strings.EqualFold(f.ID, s.ID)
		case s.Name != "":
			return strings.EqualFold(f.DisplayName, s.Name)
		case current != "":
			return f.ID == current
		}
		return true
	}
	for _, f := range flows {
		if pick(f) {
			p.Flow = &f
			break
		}
	}
	if p.Flow == nil {
		if s.ID != "" || s.Name != "" {
			var names []string
			for _, f := range flows {
				names = append(names, f.DisplayName)
			}
			return fmt.Errorf("provision: no user flow %q in this tenant; choose one of %v", s.ID+s.Name, names)
		}
		if !s.CreateIfNone {
			return fmt.Errorf("provision: the External ID tenant %s has no sign-up and sign-in user flow; agree to create one (the wizard asks; --create-user-flow) or create one in the Microsoft Entra admin center, then run again", p.Tenant.Domain)
		}
		p.Flow = &graph.UserFlow{DisplayName: s.CreateName}
		p.Actions = append(p.Actions, Action{Kind: CreateUserFlow, Summary: "create the user flow " + s.CreateName + " (email with password, asks for a display name)"})
	}
	p.FlowLinked = p.Flow.ID != "" && linked[p.Flow.ID]
	if !p.FlowLinked {
		if current != "" {
			p.UnlinkFlowID = current
		}
		p.Actions = append(p.Actions, Action{Kind: LinkUserFlow, Summary: "link the app to the user flow " + p.Flow.DisplayName})
	}
	return nil
}

// ownCredential reports whether a credential's display name marks it as made by this tool.
func ownCredential(displayName string) bool { return strings.HasPrefix(displayName, CredentialPrefix) }

// renewMargin is how close to expiry a credential is replaced rather than kept.
func renewMargin(lifetime time.Duration) time.Duration { return min(lifetime/4, 7*24*time.Hour) }

// planSecret decides whether a new secret is needed, and which older one stays as the grace.
func planSecret(p *Plan, now time.Time) (Action, bool) {
	s := p.Spec.Credential
	var own []graph.PasswordCredential
	if p.App != nil {
		for _, pc := range p.App.Passwords {
			if ownCredential(pc.DisplayName) {
				own = append(own, pc)
			}
		}
	}
	valid := func(pc graph.PasswordCredential) bool { return pc.End.After(now.Add(renewMargin(s.Lifetime))) }
	need := s.Renew || p.App == nil
	if !need {
		if s.CurrentKeyID != "" {
			i := slices.IndexFunc(own, func(pc graph.PasswordCredential) bool { return strings.EqualFold(pc.KeyID, s.CurrentKeyID) })
			need = i < 0 || !valid(own[i])
		} else {
			need = !slices.ContainsFunc(own, valid)
		}
	}
	if !need {
		return Action{}, false
	}
	// The grace secret: the one the sample uses now if known and unexpired, else the newest.
	for _, pc := range own {
		if strings.EqualFold(pc.KeyID, s.CurrentKeyID) && pc.End.After(now) {
			p.graceKey = pc.KeyID
		}
	}
	if p.graceKey == "" {
		var newest graph.PasswordCredential
		for _, pc := range own {
			if pc.End.After(now) && pc.Start.After(newest.Start) {
				newest = pc
			}
		}
		p.graceKey = newest.KeyID
	}
	a := Action{Kind: AddSecret, Summary: fmt.Sprintf("add a client secret valid for %s", days(s.Lifetime))}
	if n := len(own) - boolInt(p.graceKey != ""); n > 0 {
		a.Summary += "; once it works, remove " + plural(n, "older secret", "older secrets") + " made by entra-quickstart"
	}
	return a, true
}

// planCertificate decides whether to upload a certificate (new, or the one on disk again) and
// which existing keys the replaced key collection keeps.
func planCertificate(p *Plan, now time.Time) (Action, bool, error) {
	s := p.Spec.Credential
	local, err := loadCert(s.KeyFile)
	if err != nil {
		return Action{}, false, fmt.Errorf("provision: %w", err)
	}
	localValid := local != nil && local.Cert.NotAfter.After(now.Add(renewMargin(s.Lifetime))) && !s.Renew
	var onApp bool
	if p.App != nil && localValid {
		onApp = slices.ContainsFunc(p.App.Keys, local.matches)
	}
	if onApp {
		return Action{}, false, nil
	}
	if localValid {
		p.localCert = local
	}
	// Keys to keep: everyone else's, and the newest older one of ours (grace).
	var grace *graph.KeyCredential
	if p.App != nil {
		for i, k := range p.App.Keys {
			if !ownCredential(k.DisplayName) {
				if len(k.Key) == 0 {
					return Action{}, false, fmt.Errorf("provision: the app has a certificate %q Graph did not return the bytes of, so a new one cannot be added without dropping it; remove it in the admin center or use --credential secret", k.DisplayName)
				}
				p.keepKeys = append(p.keepKeys, k)
				continue
			}
			if len(k.Key) > 0 && k.End.After(now) && (grace == nil || k.Start.After(grace.Start)) {
				grace = &p.App.Keys[i]
			}
		}
	}
	if grace != nil {
		p.keepKeys = append(p.keepKeys, *grace)
	}
	sum := fmt.Sprintf("upload a new self-signed certificate valid for %s (private key kept in %s)", days(s.Lifetime), s.KeyFile)
	if p.localCert != nil {
		sum = "upload the certificate in " + s.KeyFile + " (" + p.localCert.Thumbprint + ")"
	}
	return Action{Kind: AddCertificate, Summary: sum}, true, nil
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appDiff lists the fields where the app differs from what the upsert will send.
func appDiff(cur *graph.Application, w graph.AppWrite) []Change {
	var c graph.Application
	if cur != nil {
		c = *cur
	}
	var out []Change
	add := func(field, from, to string) {
		if from != to {
			out = append(out, Change{Field: field, From: from, To: to})
		}
	}
	add("displayName", c.DisplayName, w.DisplayName)
	add("signInAudience", c.SignInAudience, w.SignInAudience)
	add("notes", c.Notes, w.Notes)
	addSet := func(field string, from, to []string) {
		if !sameSet(from, to) {
			out = append(out, Change{Field: field, From: strings.Join(from, " "), To: strings.Join(to, " ")})
		}
	}
	addSet("tags", c.Tags, w.Tags)
	addSet("web.redirectUris", c.Web.RedirectURIs, w.Web.RedirectURIs)
	add("web.logoutUrl", c.Web.LogoutURL, w.Web.LogoutURL)
	add("web.implicitGrantSettings.enableIdTokenIssuance", fmt.Sprint(c.Web.IDTokenIssuance), fmt.Sprint(w.Web.IDTokenIssuance))
	add("web.implicitGrantSettings.enableAccessTokenIssuance", fmt.Sprint(c.Web.AccessTokenIssuance), fmt.Sprint(w.Web.AccessTokenIssuance))
	// Compared by ids; shown by name ("Microsoft Graph: openid profile offline_access User.Read").
	if !sameSet(rraStrings(c.RequiredResourceAccess), rraStrings(w.RequiredResourceAccess)) {
		out = append(out, Change{Field: "requiredResourceAccess", From: rraNames(c.RequiredResourceAccess), To: rraNames(w.RequiredResourceAccess)})
	}
	if cur == nil {
		// Everything is new: show only what is set.
		out = slices.DeleteFunc(out, func(ch Change) bool { return ch.To == "" || ch.To == "false" })
	}
	return out
}

func rraStrings(r []graph.RequiredResourceAccess) []string {
	var out []string
	for _, x := range r {
		for _, a := range x.Access {
			out = append(out, x.ResourceAppID+"/"+strings.ToLower(a.ID)+"/"+a.Type)
		}
	}
	return out
}

// rraNames is requiredResourceAccess as a person reads it: Microsoft Graph's permissions by
// their names; any other resource or permission by its id.
func rraNames(r []graph.RequiredResourceAccess) string {
	var parts []string
	for _, x := range r {
		res := x.ResourceAppID
		if strings.EqualFold(res, graph.GraphAppID) {
			res = "Microsoft Graph"
		}
		var names []string
		for _, a := range x.Access {
			n := strings.ToLower(a.ID)
			if strings.EqualFold(x.ResourceAppID, graph.GraphAppID) {
				for scope, id := range graphScopeIDs {
					if id == n {
						n = canonicalScope(scope)
					}
				}
			}
			if a.Type == "Role" {
				n += " (application)"
			}
			names = append(names, n)
		}
		parts = append(parts, res+": "+strings.Join(names, " "))
	}
	return strings.Join(parts, "; ")
}

func sameSet(a, b []string) bool {
	x := slices.Clone(a)
	y := slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func sameFields(a, b string) bool {
	return sameSet(strings.Fields(strings.ToLower(a)), strings.Fields(strings.ToLower(b)))
}

// plural is "1 change", "2 changes": n with the word that fits it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
