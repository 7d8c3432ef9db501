package provision

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// toolCalls is every Graph call the tool makes with its own sign-in (internal/graph), by the
// emulator's route name. TestDelegatedScopesCoverEveryCall fails when the tool makes a call not
// listed here; TestPermissionsDoc prints the list as docs/permissions.md.
var toolCalls = []struct{ route, op, usedBy string }{
	{"graph.organization.list", "Organization", "init, doctor, list, reset, lab: the tenant's id and initial domain"},
	{"graph.applications.get", "AppByUniqueName", "init, doctor, lab: the app by its uniqueName"},
	{"graph.applications.upsert", "UpsertApplication", "init, doctor --fix, lab"},
	{"graph.applications.addPassword", "AddPassword", "init, doctor --fix, lab"},
	{"graph.applications.removePassword", "RemovePassword", "init (retiring its own older secrets)"},
	{"graph.applications.owners.list", "Owners", "init, reset: whose an app under the uniqueName is"},
	{"graph.applications.owners.add", "AddOwner", "init: you become an owner of the app it creates where Graph did not make you one"},
	{"graph.applications.list", "ListApplications", "list, reset, lab"},
	{"graph.applications.delete", "DeleteApplication", "reset, lab reset"},
	{"graph.deletedItems.list", "DeletedApplications, DeletedServicePrincipals", "list, reset, lab reset"},
	{"graph.deletedItems.purge", "PurgeDeleted", "reset, lab reset"},
	{"graph.servicePrincipals.get", "ServicePrincipal", "init, doctor, list: the app's and Microsoft Graph's service principal"},
	{"graph.servicePrincipals.upsert", "UpsertServicePrincipal", "init, doctor --fix, lab"},
	{"graph.servicePrincipals.create", "CreateServicePrincipal", "init (where upsert is refused)"},
	{"graph.oauth2PermissionGrants.list", "Grants", "init, doctor, list"},
	{"graph.oauth2PermissionGrants.create", "EnsureGrant", "init, doctor --fix, lab: admin consent"},
	{"graph.oauth2PermissionGrants.update", "UpdateGrantScope", "init, doctor --fix"},
	{"graph.authenticationEventsFlows.list", "UserFlows", "External ID: init, list, reset, lab"},
	{"graph.authenticationEventsFlows.create", "CreateUserFlow", "External ID: init, when the tenant has no user flow and you agree"},
	{"graph.authenticationEventsFlows.includeApplications.list", "FlowApps", "External ID: init, list, reset"},
	{"graph.authenticationEventsFlows.includeApplications.add", "LinkUserFlow", "External ID: init, lab"},
	{"graph.authenticationEventsFlows.includeApplications.remove", "UnlinkUserFlow", "External ID: reset"},
}

func toolCallRoutes() []string {
	var out []string
	for _, c := range toolCalls {
		out = append(out, c.route)
	}
	return out
}

func permissionOf(t testing.TB, route string) emulator.RoutePermissions {
	t.Helper()
	for _, p := range emulator.GraphPermissions() {
		if p.Route == route {
			return p
		}
	}
	t.Fatalf("the emulator has no route %s", route)
	return emulator.RoutePermissions{}
}

// covering is the first of the tool's scopes that allows a call, or "".
func covering(p emulator.RoutePermissions, scopes []string) string {
	for _, d := range p.Delegated {
		for _, s := range scopes {
			if strings.EqualFold(d, s) {
				return s
			}
		}
	}
	return ""
}

// TestToolScopesCoverEveryListedCall: each call the tool makes is allowed by a scope it asks for,
// in the tenant kinds where it makes it.
func TestToolScopesCoverEveryListedCall(t *testing.T) {
	for _, c := range toolCalls {
		p := permissionOf(t, c.route)
		external := strings.HasPrefix(c.usedBy, "External ID")
		if s := covering(p, auth.Permissions(external)); s == "" {
			t.Errorf("%s (%s) needs one of %v; the tool asks for %v", c.route, c.op, p.Delegated, auth.Permissions(external))
		}
	}
}

// delegatedEngine signs a person of the tenant (holding role; "" is the Global Administrator) in by device code (the emulator's driver playing the
// person) with exactly the scopes the tool asks for, consenting for the organisation, and builds
// an engine over that token, as a person's `init` does.
func delegatedEngine(t *testing.T, e *emulatortest.Emulator, kind samples.TenantType, role string) (*Engine, auth.Cloud) {
	t.Helper()
	c, err := auth.EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	ti, admin := e.Admin(t, emuclient.TenantType(kind))
	if role != "" {
		found := false
		for _, u := range ti.Users {
			if slices.Contains(u.Roles, role) {
				admin, found = u, true
			}
		}
		if !found {
			t.Fatalf("the emulator's %s tenant has nobody with the role %s", kind, role)
		}
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: c.Transport, Jar: jar}
	cred, err := auth.NewCredential(auth.CredentialOptions{
		Cloud: c, TenantID: ti.ID, Method: auth.MethodDeviceCode, ExternalID: kind == External,
		DeviceCodePrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			return emuclient.ApproveDeviceCode(ctx, browser, m.VerificationURL, m.UserCode,
				emuclient.SignInOptions{Username: admin.UserPrincipalName, Password: admin.Password, ConsentForOrganization: true})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(graph.Config{Credential: cred, Endpoint: c.GraphBase, Transport: c.Transport, Scopes: cred.Scopes, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	return New(g, Options{ExternalIDProbe: c.IsExternalIDTenant}), c
}

// TestDelegatedScopesCoverEveryCall runs plan, apply, a second apply (which retires a secret),
// list and reset in both tenant kinds with a delegated token holding only the scopes the tool
// asks for, against the emulator's enforcement (Graph's permission tables, and the organization
// trimmed to id, displayName and verifiedDomains for User.Read). No call may be refused, every
// call must be one listed in toolCalls, and the tenant's kind must come out right although Graph
// hides tenantType from this token.
func TestDelegatedScopesCoverEveryCall(t *testing.T) {
	e := emulatortest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	listed := toolCallRoutes()
	for _, c := range []struct {
		kind samples.TenantType
		role string // "" is the Global Administrator
		name string
	}{
		{Workforce, "", "scopes-ga"},
		{External, "", "scopes-ga"},
		// The least role tenants.md gives the whole workforce flow (create, consent, purge).
		{Workforce, emulator.RoleAppAdmin, "scopes-appadmin"},
		{Workforce, emulator.RoleCloudAppAdmin, "scopes-cloudappadmin"},
	} {
		kind := c.kind
		eng, _ := delegatedEngine(t, e, kind, c.role)
		v := &env{t: t, e: e}
		spec := v.spec(kind, samples.Secret, c.name)
		spec.TenantID = v.tenant(kind).ID
		from := len(e.Requests())
		p, err := eng.Plan(ctx, spec)
		if err != nil {
			t.Fatalf("%s: plan with the tool's scopes: %v", kind, err)
		}
		if p.Tenant.Type != kind || !strings.Contains(p.Tenant.KindFrom, "sign-in service") {
			t.Fatalf("%s: tenant kind %q from %q; want it from the sign-in service (Graph hides tenantType from User.Read)", kind, p.Tenant.Type, p.Tenant.KindFrom)
		}
		if _, err := eng.Apply(ctx, p); err != nil {
			t.Fatalf("%s: apply: %v", kind, err)
		}
		spec.Credential.Renew = true // twice: the second renewal retires the oldest secret
		for i := 0; i < 2; i++ {
			if p, err = eng.Plan(ctx, spec); err != nil {
				t.Fatalf("%s: renewal plan: %v", kind, err)
			}
			r, err := eng.Apply(ctx, p)
			if err != nil {
				t.Fatalf("%s: renewal apply: %v", kind, err)
			}
			if err := eng.Retire(ctx, r); err != nil {
				t.Fatalf("%s: retire: %v", kind, err)
			}
		}
		if _, err := eng.List(ctx, Filter{}); err != nil {
			t.Fatalf("%s: list: %v", kind, err)
		}
		if _, err := eng.Reset(ctx, Filter{}); err != nil {
			t.Fatalf("%s: reset: %v", kind, err)
		}
		seen := map[string]bool{}
		for _, r := range e.Requests()[from:] {
			if !strings.HasPrefix(r.Route, "graph.") {
				continue
			}
			seen[r.Route] = true
			if r.Status == http.StatusForbidden {
				t.Errorf("%s: %s %s was refused (403) for %q: the tool's scopes %v or that role do not allow it", kind, r.Method, r.Path, c.role, auth.Permissions(kind == External))
			}
			if !slices.Contains(listed, r.Route) {
				t.Errorf("%s: the tool called %s (%s %s), which docs/permissions.md does not list: add it to toolCalls and run go test ./provision -run TestPermissionsDoc -update", kind, r.Route, r.Method, r.Path)
			}
		}
		for _, must := range []string{"graph.organization.list", "graph.applications.upsert", "graph.applications.addPassword", "graph.oauth2PermissionGrants.create", "graph.deletedItems.purge", "graph.applications.removePassword"} {
			if !seen[must] {
				t.Errorf("%s: the run never called %s; the test no longer covers it", kind, must)
			}
		}
	}
}

// scopeRows are the doc's table of what each kind of command asks for (auth.PermissionsFor).
func scopeRows() string {
	var b strings.Builder
	for _, c := range []struct {
		what string
		a    auth.Access
	}{
		{"list, doctor (read only)", auth.Access{}},
		{"init, doctor --fix, reset", auth.Access{Write: true}},
		{"init and doctor --fix when they grant admin consent (a second token, same sign-in); lab provision", auth.Access{Write: true, Consent: true}},
	} {
		for _, ext := range []bool{false, true} {
			a := c.a
			a.ExternalID = ext
			kind := "workforce"
			if ext {
				kind = "External ID"
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", c.what, kind, strings.Join(auth.PermissionsFor(a), "`, `"))
		}
	}
	return b.String()
}

// TestPermissionsDoc keeps docs/permissions.md equal to the tables it prints (-update rewrites it).
func TestPermissionsDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString(`# Graph permissions: every call the tool makes

Generated by ` + "`go test ./provision -run TestPermissionsDoc -update`" + ` from the emulator's permission table
(` + "`internal/emulator/graph_permissions.go`" + `, taken from each call's Microsoft Graph v1.0 reference page) and the
tool's list of calls. The emulator enforces the same table: a token without a permission for a call gets
` + "`403 Authorization_RequestDenied`" + `, and ` + "`TestDelegatedScopesCoverEveryCall`" + ` runs the tool with a token holding
only the scopes below.

## What the tool asks for

| command | tenant | delegated scopes (the person's sign-in) |
|---|---|---|
` + scopeRows() + `
With ` + "`User.Read`" + ` Graph shows only ` + "`id`" + `, ` + "`displayName`" + ` and ` + "`verifiedDomains`" + ` of the organization:
` + "`tenantType`" + ` comes back null. The tool therefore learns the tenant's kind from the sign-in service's public
External ID discovery document (` + "`https://{tenant-id}.ciamlogin.com/{tenant-id}/v2.0/.well-known/openid-configuration`" + `,
served only for External ID tenants), and uses Graph's ` + "`tenantType`" + ` only where a token may read it
(app-only with ` + "`Organization.Read.All`" + `). Automation signing in as an app (` + "`AZURE_CLIENT_ID`" + `/` + "`AZURE_CLIENT_SECRET`" + `)
needs the application permissions ` + "`Application.ReadWrite.All`" + `, ` + "`DelegatedPermissionGrant.ReadWrite.All`" + `,
` + "`Organization.Read.All`" + ` and, for External ID, ` + "`EventListener.ReadWrite.All`" + `.

The sign-in check's ` + "`GET /me`" + ` is made with the new app's own token (` + "`User.Read`" + `, consented by the
tool), not with the tool's sign-in.

## Every call

| call | Go (internal/graph) | used by | least delegated | least application | the tool's scope that allows it | reference page |
|---|---|---|---|---|---|---|
`)
	for _, c := range toolCalls {
		p := permissionOf(t, c.route)
		scopes := auth.Permissions(strings.HasPrefix(c.usedBy, "External ID") || strings.Contains(c.route, "authenticationEventsFlows"))
		app := "none"
		if len(p.Application) > 0 {
			app = "`" + p.Application[0] + "`"
		}
		note := ""
		if p.Note != "" {
			note = " (" + p.Note + ")"
		}
		fmt.Fprintf(&b, "| `%s`%s | `%s` | %s | `%s` | %s | `%s` | %s |\n", strings.ReplaceAll(p.Call, "|", "or"), note, c.op, c.usedBy, p.Delegated[0], app, covering(p, scopes), p.Page)
	}
	testkit.Golden(t, filepath.Join("..", "docs", "permissions.md"), []byte(b.String()))
}
