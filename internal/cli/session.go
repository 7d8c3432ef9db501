package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/journey"
	"github.com/entra-quickstart/entra-quickstart/provision"
)

// session is what a command that talks to Graph needs: the cloud, the tenant, the wizard's own
// sign-in, the Graph client, the engine and the local record.
type session struct {
	*target
	TenantID string
	Cred     *auth.Credential
	Graph    *graph.Client
	Engine   *provision.Engine
	State    *state.Store
}

// sessionOptions say which tenant and how to sign in.
type sessionOptions struct {
	Tenant     string // GUID or domain; empty: the emulator's tenant of Kind, else an error
	Kind       samples.TenantType
	AuthMethod string
	Progress   *ui.Progress
	// Events hears the engine's progress (provision.Event); nil prints it through Progress.
	Events func(provision.Event)
	// WrapTransport, when set, wraps the transport of Graph calls (lab's throttling governor).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// AutoSignIn (emulator only) approves a device code as the tenant's admin, so
	// --auth device-code runs without a person.
	AutoSignIn bool
	// ReadOnly asks read scopes only (list, doctor without --fix). ConsentWhenGranting asks the
	// consent-granting permission only for the grant itself (init: only a plan that grants
	// consent asks it).
	ReadOnly, ConsentWhenGranting bool
}

// openSession resolves the target cloud and tenant and builds the Graph client. Nothing signs
// in until the first Graph call.
func openSession(ctx context.Context, g *GlobalOptions, o sessionOptions) (*session, error) {
	t, err := openTarget(ctx, g)
	if err != nil {
		return nil, err
	}
	s := &session{target: t}
	ok := false
	defer func() {
		if !ok {
			t.Close()
		}
	}()
	tenant := o.Tenant
	if tenant == "" && t.Info != nil {
		if ti, found := t.emulatorTenant(o.Kind); found {
			tenant = ti.ID
		}
	}
	if tenant == "" {
		return nil, usagef("which tenant? pass --tenant with its id (a GUID) or domain, e.g. contoso.onmicrosoft.com")
	}
	if err := auth.ValidateTenant(tenant); err != nil {
		return nil, usageError{fmt.Errorf("--tenant: %w", err)}
	}
	if s.TenantID, err = auth.ResolveTenant(ctx, t.Cloud, tenant); err != nil {
		return nil, err
	}
	if o.Kind == samples.External && !t.Cloud.SupportsExternalID() {
		return nil, usagef("External ID tenants exist only in the public cloud, not in --cloud %s", t.Cloud.Name)
	}
	if s.Cred, err = credentialFor(ctx, g, t, s.TenantID, o); err != nil {
		return nil, err
	}
	events := o.Events
	if events == nil {
		events = engineProgress(o.Progress)
	}
	var tr http.RoundTripper = t.Cloud.Transport
	if o.WrapTransport != nil {
		tr = o.WrapTransport(tr)
	}
	gc := func(scopes []string) (*graph.Client, error) {
		return graph.New(graph.Config{
			Credential: s.Cred,
			Endpoint:   t.Cloud.GraphBase,
			Transport:  tr,
			Scopes:     scopes,
			OnRetry:    provision.OnRetry(events),
		})
	}
	if s.Graph, err = gc(s.Cred.Scopes); err != nil {
		return nil, err
	}
	eo := provision.Options{Progress: events, ExternalIDProbe: t.Cloud.IsExternalIDTenant}
	if o.ConsentWhenGranting && !slices.Equal(s.Cred.Scopes, s.Cred.ConsentScopes) {
		if eo.Consent, err = gc(s.Cred.ConsentScopes); err != nil {
			return nil, err
		}
	}
	s.Engine = provision.New(s.Graph, eo)
	dir, err := appdir.Dir()
	if err != nil {
		return nil, err
	}
	if s.State, err = state.Open(filepath.Join(dir, state.FileName)); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// credentialFor picks the wizard's sign-in. Against the emulator the default is its tenant's
// automation client (client credentials, the path automation takes against a real tenant);
// --auth device-code or browser run the interactive paths against it instead. Auto's choice and
// why is a progress note.
func credentialFor(ctx context.Context, g *GlobalOptions, t *target, tenantID string, o sessionOptions) (*auth.Credential, error) {
	method := auth.Method(o.AuthMethod)
	opts := auth.CredentialOptions{
		Cloud:          t.Cloud,
		TenantID:       tenantID,
		Method:         method,
		ExternalID:     o.Kind == samples.External,
		ReadOnly:       o.ReadOnly,
		NoConsent:      o.ConsentWhenGranting,
		CanOpenBrowser: g.IO.Interactive(),
		DeviceCodePrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			fmt.Fprintln(g.IO.Err, m.Message)
			if o.AutoSignIn && t.Info != nil {
				return approveAsAdmin(ctx, t, tenantID, m)
			}
			return nil
		},
	}
	if o.Progress != nil {
		opts.Notice = o.Progress.Note
	}
	dir, err := appdir.Dir()
	if err != nil {
		return nil, err
	}
	// A browser or device-code sign-in is kept between commands, per cloud and tenant.
	opts.SignIns = auth.NewSignIns(dir)
	person := "" // --emulator-user's person, as the progress names them
	switch {
	case g.EmulatorUser != "":
		if t.Info == nil {
			return nil, usagef("--emulator-user names a person of the emulator: use it with --emulator or --emulator-url")
		}
		if method != "" && method != auth.MethodAuto && method != auth.MethodDeviceCode {
			return nil, usagef("--emulator-user signs in by device code: leave out --auth %s, or use --auth device-code", method)
		}
		u, err := emulatorPerson(t.Info, tenantID, g.EmulatorUser)
		if err != nil {
			return nil, err
		}
		opts.Method = auth.MethodDeviceCode
		opts.User = u.UserPrincipalName
		opts.DeviceCodePrompt = func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			fmt.Fprintln(g.IO.Err, m.Message)
			return approveAs(ctx, t, u, m)
		}
		person = fmt.Sprintf("%s (%s)", u.UserPrincipalName, rolesText(u.Roles))
	case t.Info != nil && (method == "" || method == auth.MethodAuto || method == auth.MethodEnvironment):
		var client emuclient.AutomationClient
		for _, ti := range t.Info.Tenants {
			if strings.EqualFold(ti.ID, tenantID) {
				client = ti.AutomationClient
			}
		}
		if client.AppID == "" {
			return nil, usagef("the emulator has no tenant %s: use one of its tenants (entra-quickstart emulator prints them)", tenantID)
		}
		opts.Method = auth.MethodEnvironment
		opts.Getenv = func(k string) string {
			return map[string]string{"AZURE_CLIENT_ID": client.AppID, "AZURE_CLIENT_SECRET": client.Secret, "AZURE_TENANT_ID": tenantID}[k]
		}
	}
	if o.AutoSignIn && opts.User == "" && t.Info != nil {
		// --auto-sign-in approves as the tenant's admin: only the admin's kept sign-in stands in.
		opts.User = emulatorAdmin(t.Info, tenantID)
	}
	c, err := auth.NewCredentialContext(ctx, opts)
	if err != nil {
		return nil, usageError{err}
	}
	if person != "" && o.Progress != nil {
		if c.KeptSignIn() != nil {
			o.Progress.Note("Graph sign-in: %s, kept from an earlier sign-in ('entra-quickstart auth logout' forgets it)", person)
		} else {
			o.Progress.Note("Graph sign-in: %s by device code, approved by the emulator's scripted browser", person)
		}
	}
	if c.NotKept != nil && o.Progress != nil {
		o.Progress.Warn("Graph sign-in: %v", c.NotKept)
	}
	return c, nil
}

// emulatorAdmin is the UPN of the emulator tenant's admin, "" when it has none.
func emulatorAdmin(info *emuclient.Info, tenantID string) string {
	for _, ti := range info.Tenants {
		if strings.EqualFold(ti.ID, tenantID) {
			for _, u := range ti.Users {
				if u.Admin {
					return u.UserPrincipalName
				}
			}
		}
	}
	return ""
}

// approveAsAdmin enters a device code at the emulator's verification page as the tenant's
// admin, who consents for the organisation.
func approveAsAdmin(ctx context.Context, t *target, tenantID string, m azidentity.DeviceCodeMessage) error {
	for _, ti := range t.Info.Tenants {
		if !strings.EqualFold(ti.ID, tenantID) {
			continue
		}
		for _, u := range ti.Users {
			if u.Admin {
				return approveAs(ctx, t, u, m)
			}
		}
	}
	return fmt.Errorf("the emulator has no admin in tenant %s to approve the device code", tenantID)
}

// approveAs enters a device code at the emulator's verification page as one person, the way
// that person would in a browser: they consent for the organisation only when their role lets
// them. A person who may not (and for whom no admin consented to the tool's client) meets "Need
// admin approval", which is what they would see in a real tenant.
func approveAs(ctx context.Context, t *target, u emuclient.UserInfo, m azidentity.DeviceCodeMessage) error {
	err := emuclient.ApproveDeviceCode(ctx, loopbackBrowser(t), m.VerificationURL, m.UserCode,
		emuclient.SignInOptions{Username: u.UserPrincipalName, Password: u.Password, ConsentForOrganization: mayConsentForOrganization(u.Roles)})
	if err == nil {
		return nil
	}
	var pe *emuclient.PageError
	if errors.As(err, &pe) && pe.Code == 90094 {
		return fmt.Errorf("%s (%s) may not consent to the tool's Graph permissions for the organisation (AADSTS90094, need admin approval): "+
			"an admin (Global, Application or Cloud Application Administrator) must consent to the tool's sign-in once, "+
			"e.g. PUT /_emulator/settings {\"toolConsentGranted\":true} on the emulator, or run as an admin with --emulator-user: %w",
			u.UserPrincipalName, rolesText(u.Roles), err)
	}
	return fmt.Errorf("sign in to the emulator as %s: %w", u.UserPrincipalName, err)
}

// emulatorPerson finds a person of the emulator's tenant by UPN, or by the UPN's part before
// the @; an unknown name is a usage error that lists the tenant's people and their roles.
func emulatorPerson(info *emuclient.Info, tenantID, upn string) (emuclient.UserInfo, error) {
	var ti *emuclient.TenantInfo
	for i := range info.Tenants {
		if strings.EqualFold(info.Tenants[i].ID, tenantID) {
			ti = &info.Tenants[i]
		}
	}
	if ti == nil {
		return emuclient.UserInfo{}, usagef("the emulator has no tenant %s: use one of its tenants (entra-quickstart emulator prints them)", tenantID)
	}
	want := strings.ToLower(strings.TrimSpace(upn))
	for _, u := range ti.Users {
		name := strings.ToLower(u.UserPrincipalName)
		if name == want || (!strings.Contains(want, "@") && strings.HasPrefix(name, want+"@")) {
			return u, nil
		}
	}
	people := make([]string, 0, len(ti.Users))
	for _, u := range ti.Users {
		people = append(people, fmt.Sprintf("%s (%s)", u.UserPrincipalName, rolesText(u.Roles)))
	}
	return emuclient.UserInfo{}, &noPersonError{usagef("--emulator-user %s: the emulator's tenant %s has no such person; use one of: %s", upn, ti.Domain, strings.Join(people, ", "))}
}

// noPersonError is --emulator-user naming nobody of a tenant (a usage error).
type noPersonError struct{ err error }

func (e *noPersonError) Error() string { return e.err.Error() }
func (e *noPersonError) Unwrap() error { return e.err }

// rolesText names a person's directory roles, or says they have none.
func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "no admin role"
	}
	return strings.Join(roles, ", ")
}

// mayConsentForOrganization reports whether one of the roles may grant tenant-wide consent to
// Microsoft Graph's delegated permissions (facts/tenants.md §1.3, §3.3).
func mayConsentForOrganization(roles []string) bool {
	for _, r := range roles {
		switch r {
		case "Global Administrator", "Application Administrator", "Cloud Application Administrator", "Privileged Role Administrator":
			return true
		}
	}
	return false
}

// engineProgress prints the engine's events as steps.
func engineProgress(p *ui.Progress) func(provision.Event) {
	return func(ev provision.Event) {
		if p == nil {
			return
		}
		switch ev.Status {
		case provision.Started:
			p.Start(ev.Step)
		case provision.Done:
			p.Done(ev.Step, ev.Detail)
		case provision.Retrying:
			p.Note("%s: %s", ev.Step, ev.Detail)
		case provision.Failed:
			p.Fail(ev.Step, fmt.Errorf("%s", ev.Detail))
		}
	}
}

// cloudKey names the cloud in the local record: the Graph endpoint.
func (s *session) cloudKey() string { return s.Cloud.GraphBase }

// journey is the session as the setup journey works with it.
func (s *session) journey() journey.Session {
	return journey.Session{Engine: s.Engine, Cloud: s.Cloud, TenantID: s.TenantID, Record: s.State, CloudKey: s.cloudKey()}
}
