package emulator

import (
	"encoding/json"
	"sort"
	"strings"
)

// ---- clients: the app registration behind a client_id ----

// firstPartyApp is a Microsoft application every tenant trusts without a registration of its
// own: the public clients the wizard signs in with (facts/identity.md §7).
type firstPartyApp struct {
	AppID string
	Name  string
	// PreAuthorized lists the Graph permissions the app holds in every tenant without consent;
	// its tokens carry exactly these.
	PreAuthorized []string
}

// azureCLIGraphScopes are the Azure CLI's pre-authorized Graph permissions, as its Graph tokens'
// scp shows them in public output [unverified as a complete list; identity.md §7: it includes
// Application.ReadWrite.All and Directory.AccessAsUser.All but not EventListener.ReadWrite.All].
var azureCLIGraphScopes = []string{
	"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "AuditLog.Read.All",
	"DelegatedPermissionGrant.ReadWrite.All", "Directory.AccessAsUser.All", "Group.ReadWrite.All",
	"User.Read.All", "User.ReadWrite.All",
}

// firstPartyApps are the first-party public clients the emulator knows.
var firstPartyApps = []firstPartyApp{
	{AppID: "14d82eec-204b-4c2f-b7e8-296a70dab67e", Name: "Microsoft Graph Command Line Tools"},
	{AppID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", Name: "Microsoft Azure CLI", PreAuthorized: azureCLIGraphScopes},
}

// microsoftTenantID owns the first-party apps (appOwnerOrganizationId of their service principals).
const microsoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// client is the application a request names.
type client struct {
	app        *Application
	home       *Tenant // the tenant holding the registration; nil for a first-party app
	firstParty *firstPartyApp
}

// public reports whether the app may redeem without a credential (device code, refresh tokens of
// a public client): first-party public clients and apps with isFallbackPublicClient.
func (c client) public() bool {
	if c.firstParty != nil {
		return true
	}
	var b bool
	if raw, ok := c.app.Extra["isFallbackPublicClient"]; ok {
		_ = json.Unmarshal(raw, &b)
	}
	return b
}

// multiTenantApp reports whether users of other tenants may sign in to the app.
func (c client) multiTenantApp() bool {
	if c.firstParty != nil {
		return true
	}
	switch c.app.SignInAudience {
	case "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount":
		return true
	}
	return false
}

func (c client) name() string {
	if c.firstParty != nil {
		return c.firstParty.Name
	}
	return c.app.DisplayName
}

func firstPartyClient(appID string) (client, bool) {
	for i := range firstPartyApps {
		f := &firstPartyApps[i]
		if strings.EqualFold(f.AppID, appID) {
			app := &Application{AppID: f.AppID, DisplayName: f.Name, SignInAudience: "AzureADandPersonalMicrosoftAccount",
				PublicClient: RedirectSettings{RedirectURIs: []string{"http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"}}}
			return client{app: app, firstParty: f}, true
		}
	}
	return client{}, false
}

// findClient finds the app behind a client_id as seen from tenant t (nil: any tenant, for
// /common before the user is known). A registration still replicating is not found
// (AADSTS700016 right after creation). d must be locked.
func (e *Emulator) findClient(d *Directory, t *Tenant, clientID string) (client, bool) {
	if c, ok := firstPartyClient(clientID); ok {
		return c, true
	}
	if t != nil {
		if app := t.AppByAppID(clientID); app != nil && e.visible(app.VisibleAt) {
			return client{app: app, home: t}, true
		}
	}
	for _, o := range d.Tenants {
		if o == t {
			continue
		}
		if app := o.AppByAppID(clientID); app != nil && e.visible(app.VisibleAt) {
			c := client{app: app, home: o}
			if t == nil || c.multiTenantApp() {
				return c, true
			}
		}
	}
	return client{}, false
}

// ---- scopes ----

// Graph's resource identifiers as scopes may be prefixed with them.
var graphResourcePrefixes = []string{"https://graph.microsoft.com/", "https://graph.microsoft.com//", GraphAppID + "/", "https://canary.graph.microsoft.com/"}

// oidcScopes are the OpenID Connect scopes (Graph permissions too, in Entra).
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// scopeSet is a parsed scope parameter.
type scopeSet struct {
	oidc         []string // of oidcScopes, canonical
	graph        []string // Graph permission values asked for, as written without the prefix
	graphDefault bool     // .default for Graph
	resource     []string // resource scopes verbatim, as asked (for the answer's scope)
	other        string   // a scope of a resource the emulator does not have
}

func (s scopeSet) has(oidc string) bool {
	for _, x := range s.oidc {
		if x == oidc {
			return true
		}
	}
	return false
}

func parseScopes(raw string) scopeSet {
	var s scopeSet
	seen := map[string]bool{}
	for _, f := range strings.Fields(raw) {
		low := strings.ToLower(f)
		if seen[low] {
			continue
		}
		seen[low] = true
		isOIDC := false
		for _, o := range oidcScopes {
			if low == o {
				s.oidc = append(s.oidc, o)
				isOIDC = true
			}
		}
		if isOIDC {
			continue
		}
		name, graph := f, !strings.Contains(f, "/")
		for _, p := range graphResourcePrefixes {
			if strings.HasPrefix(low, strings.ToLower(p)) {
				name, graph = f[len(p):], true
				break
			}
		}
		if !graph {
			if s.other == "" {
				s.other = f
			}
			continue
		}
		s.resource = append(s.resource, f)
		if name == ".default" {
			s.graphDefault = true
			continue
		}
		s.graph = append(s.graph, name)
	}
	return s
}

// graphScopeValue finds a delegated Graph permission by value in a tenant's Graph service
// principal, case-insensitively; "" when Graph has no such permission.
func graphScopeValue(t *Tenant, name string) (PermissionScope, bool) {
	sp := t.SPByAppID(GraphAppID)
	scopes := graphScopes
	if sp != nil && len(sp.OAuth2PermissionScopes) > 0 {
		scopes = sp.OAuth2PermissionScopes
	}
	for _, p := range scopes {
		if strings.EqualFold(p.Value, name) {
			return p, true
		}
	}
	return PermissionScope{}, false
}

// neededPermissions is what the sign-in needs consent for: the OpenID scopes plus the Graph
// permissions asked for, or for .default the app's configured Graph permissions.
func neededPermissions(t *Tenant, c client, sc scopeSet) (need []string, unknown string) {
	add := func(v string) {
		for _, x := range need {
			if strings.EqualFold(x, v) {
				return
			}
		}
		need = append(need, v)
	}
	for _, o := range sc.oidc {
		add(o)
	}
	for _, g := range sc.graph {
		p, ok := graphScopeValue(t, g)
		if !ok {
			return nil, g
		}
		add(p.Value)
	}
	if sc.graphDefault && c.firstParty == nil {
		for _, rra := range c.app.RequiredResourceAccess {
			if rra.ResourceAppID != GraphAppID {
				continue
			}
			for _, ra := range rra.ResourceAccess {
				if ra.Type != "Scope" {
					continue
				}
				for _, p := range graphScopeList(t) {
					if strings.EqualFold(p.ID, ra.ID) {
						add(p.Value)
					}
				}
			}
		}
	}
	return need, ""
}

func graphScopeList(t *Tenant) []PermissionScope {
	if sp := t.SPByAppID(GraphAppID); sp != nil && len(sp.OAuth2PermissionScopes) > 0 {
		return sp.OAuth2PermissionScopes
	}
	return graphScopes
}

// grantedPermissions is the delegated consent for Graph a client holds in tenant t for a user:
// the tenant-wide (AllPrincipals) grants plus the user's own, ignoring grants still
// replicating. Keys are lower case. d must be locked.
func (e *Emulator) grantedPermissions(t *Tenant, c client, userID string) map[string]string {
	got := map[string]string{}
	if c.firstParty != nil && len(c.firstParty.PreAuthorized) > 0 {
		for _, p := range c.firstParty.PreAuthorized {
			got[strings.ToLower(p)] = p
		}
		for _, p := range []string{"openid", "profile", "offline_access", "email"} {
			got[p] = p
		}
		return got
	}
	sp := t.SPByAppID(c.app.AppID)
	graph := t.SPByAppID(GraphAppID)
	if sp == nil || graph == nil || !e.visible(sp.VisibleAt) {
		return got
	}
	for _, g := range t.Grants {
		if !strings.EqualFold(g.ClientID, sp.ID) || !strings.EqualFold(g.ResourceID, graph.ID) || !e.visible(g.VisibleAt) {
			continue
		}
		if g.ConsentType == "AllPrincipals" || (g.PrincipalID != nil && strings.EqualFold(*g.PrincipalID, userID)) {
			for _, s := range strings.Fields(g.Scope) {
				got[strings.ToLower(s)] = s
			}
		}
	}
	return got
}

// missingPermissions lists what of need is not granted.
func missingPermissions(need []string, granted map[string]string) []string {
	var miss []string
	for _, n := range need {
		if _, ok := granted[strings.ToLower(n)]; !ok {
			miss = append(miss, n)
		}
	}
	return miss
}

// requiresAdmin reports whether any of the permissions is one only an admin may consent to.
func requiresAdmin(t *Tenant, perms []string) bool {
	for _, p := range perms {
		if s, ok := graphScopeValue(t, p); ok && s.Type == "Admin" {
			return true
		}
	}
	return false
}

// ensureServicePrincipal returns the client's service principal in t, creating it as Entra does
// on first consent (first-party apps and apps from other tenants get one in each tenant they are
// used in). d must be locked.
func (e *Emulator) ensureServicePrincipal(t *Tenant, c client) *ServicePrincipal {
	if sp := t.SPByAppID(c.app.AppID); sp != nil {
		return sp
	}
	owner := microsoftTenantID
	if c.home != nil {
		owner = c.home.ID
	}
	sp := &ServicePrincipal{
		ID:                     NewGUID(),
		AppID:                  c.app.AppID,
		DisplayName:            c.name(),
		AppOwnerOrganizationID: owner,
		ServicePrincipalNames:  []string{c.app.AppID},
		ServicePrincipalType:   "Application",
		AccountEnabled:         true,
		Tags:                   []string{},
		CreatedDateTime:        e.now(),
	}
	t.ServicePrincipals = append(t.ServicePrincipals, sp)
	return sp
}

// recordConsent adds permissions to the client's Graph grant for a user (consentType Principal)
// or for everyone (AllPrincipals, admin consent), creating the grant if there is none.
func (e *Emulator) recordConsent(t *Tenant, c client, userID string, perms []string, allPrincipals bool) {
	sp := e.ensureServicePrincipal(t, c)
	graph := t.SPByAppID(GraphAppID)
	if graph == nil {
		return
	}
	consent := "Principal"
	var principal *string
	if allPrincipals {
		consent = "AllPrincipals"
	} else {
		u := userID
		principal = &u
	}
	var g *Grant
	for _, x := range t.Grants {
		if strings.EqualFold(x.ClientID, sp.ID) && strings.EqualFold(x.ResourceID, graph.ID) && x.ConsentType == consent &&
			(allPrincipals || (x.PrincipalID != nil && strings.EqualFold(*x.PrincipalID, userID))) {
			g = x
			break
		}
	}
	if g == nil {
		g = &Grant{ID: randomToken("", 32)[:43], ClientID: sp.ID, ConsentType: consent, PrincipalID: principal, ResourceID: graph.ID}
		t.Grants = append(t.Grants, g)
	}
	g.Scope = mergeScopes(g.Scope, perms)
}

// sortedValues lists a granted set's values in a stable order.
func sortedValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
