package emulator

import "strings"

// The permissions each Graph route needs, from the permission table of its Microsoft Graph v1.0
// reference page (learn.microsoft.com/graph/api/<page>?view=graph-rest-1.0, "Permissions"):
// delegated (work or school account) and application, least privileged first. A caller holding
// none of the list for its kind of token gets 403 Authorization_RequestDenied, as Graph answers.
// Directory roles are checked by the handlers on top of this (tenants.md §0: a delegated call gets
// the intersection of its scopes and the person's rights).
//
// The same table is printed as docs/permissions.md (TestPermissionsDoc keeps the two equal).

// RoutePermissions are one route's permissions.
type RoutePermissions struct {
	Route string `json:"route"` // the emulator's route name, as in the request log
	Call  string `json:"call"`  // the call as the reference writes it
	Page  string `json:"page"`  // the v1.0 reference page
	// Delegated and Application list the permissions that allow the call, least privileged
	// first; an empty Application list means app-only tokens cannot make the call at all.
	Delegated   []string `json:"delegated"`
	Application []string `json:"application"`
	// Note says what the least permission does not show, where Graph trims the answer.
	Note string `json:"note,omitempty"`
}

var (
	appsReadD    = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	appsReadA    = []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	appsWriteD   = []string{"Application.ReadWrite.All"}
	appsWriteA   = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}
	spWriteD     = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}
	spWriteA     = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
	grantsReadD  = []string{"DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	grantsReadA  = []string{"DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	grantsWrite  = []string{"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"}
	flowsRead    = []string{"EventListener.Read.All", "EventListener.ReadWrite.All"}
	flowsWrite   = []string{"EventListener.ReadWrite.All"}
	orgReadD     = []string{"User.Read", "Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	orgReadA     = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}
	meReadD      = []string{"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	usersReadD   = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	usersReadA   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	deletedReadD = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	ownersWrite  = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}
	memberOfD    = []string{"User.Read", "User.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

// orgFullRead are the delegated permissions that show every property of the organization.
// "Applications granted the User.Read permission are able to read only the id, displayName, and
// verifiedDomains properties of the organization. All other properties return with null values.
// To read all properties, use at least Organization.Read.All." (v1.0 organization-get; tenants.md
// §6). Directory.AccessAsUser.All is the Azure CLI's: `az rest GET /v1.0/organization` shows
// tenantType in public output (identity.md §7).
var orgFullRead = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}

// orgLimitedProperties are what a User.Read token sees of the organization.
var orgLimitedProperties = []string{"id", "displayName", "verifiedDomains"}

// graphPermissions is the table, in the order docs/permissions.md prints it.
var graphPermissions = []RoutePermissions{
	{Route: "graph.applications.list", Call: "GET /applications", Page: "application-list", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.applications.count", Call: "GET /applications/$count", Page: "application-list", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.applications.get", Call: "GET /applications/{id} | (appId='…') | (uniqueName='…')", Page: "application-get", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.applications.create", Call: "POST /applications", Page: "application-post-applications", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.update", Call: "PATCH /applications/{id}", Page: "application-update", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.upsert", Call: "PATCH /applications(uniqueName='…') with Prefer: create-if-missing", Page: "application-upsert", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.addPassword", Call: "POST /applications/{id}/addPassword", Page: "application-addpassword", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.removePassword", Call: "POST /applications/{id}/removePassword", Page: "application-removepassword", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.delete", Call: "DELETE /applications/{id}", Page: "application-delete", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.applications.owners.list", Call: "GET /applications/{id}/owners", Page: "application-list-owners", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.applications.owners.add", Call: "POST /applications/{id}/owners/$ref", Page: "application-post-owners", Delegated: ownersWrite, Application: ownersWrite,
		Note: "Application.ReadWrite.OwnedBy isn't sufficient to add another owner"},
	{Route: "graph.servicePrincipals.list", Call: "GET /servicePrincipals", Page: "serviceprincipal-list", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.servicePrincipals.get", Call: "GET /servicePrincipals/{id} | (appId='…')", Page: "serviceprincipal-get", Delegated: appsReadD, Application: appsReadA},
	{Route: "graph.servicePrincipals.create", Call: "POST /servicePrincipals", Page: "serviceprincipal-post-serviceprincipals", Delegated: spWriteD, Application: spWriteA},
	{Route: "graph.servicePrincipals.update", Call: "PATCH /servicePrincipals/{id}", Page: "serviceprincipal-update", Delegated: spWriteD, Application: spWriteA},
	{Route: "graph.servicePrincipals.upsert", Call: "PATCH /servicePrincipals(appId='…') with Prefer: create-if-missing", Page: "serviceprincipal-upsert", Delegated: spWriteD, Application: spWriteA},
	{Route: "graph.servicePrincipals.delete", Call: "DELETE /servicePrincipals/{id}", Page: "serviceprincipal-delete", Delegated: spWriteD, Application: spWriteA},
	{Route: "graph.oauth2PermissionGrants.list", Call: "GET /oauth2PermissionGrants", Page: "oauth2permissiongrant-list", Delegated: grantsReadD, Application: grantsReadA},
	{Route: "graph.oauth2PermissionGrants.get", Call: "GET /oauth2PermissionGrants/{id}", Page: "oauth2permissiongrant-get", Delegated: grantsReadD, Application: grantsReadA},
	{Route: "graph.oauth2PermissionGrants.create", Call: "POST /oauth2PermissionGrants", Page: "oauth2permissiongrant-post", Delegated: grantsWrite, Application: grantsWrite},
	{Route: "graph.oauth2PermissionGrants.update", Call: "PATCH /oauth2PermissionGrants/{id}", Page: "oauth2permissiongrant-update", Delegated: grantsWrite, Application: grantsWrite},
	{Route: "graph.oauth2PermissionGrants.delete", Call: "DELETE /oauth2PermissionGrants/{id}", Page: "oauth2permissiongrant-delete", Delegated: grantsWrite, Application: grantsWrite},
	{Route: "graph.deletedItems.list", Call: "GET /directory/deletedItems/microsoft.graph.application", Page: "directory-deleteditems-list", Delegated: deletedReadD, Application: appsReadA},
	{Route: "graph.deletedItems.get", Call: "GET /directory/deletedItems/{id}", Page: "directory-deleteditems-get", Delegated: deletedReadD, Application: appsReadA},
	{Route: "graph.deletedItems.restore", Call: "POST /directory/deletedItems/{id}/restore", Page: "directory-deleteditems-restore", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.deletedItems.purge", Call: "DELETE /directory/deletedItems/{id}", Page: "directory-deleteditems-delete", Delegated: appsWriteD, Application: appsWriteA},
	{Route: "graph.organization.list", Call: "GET /organization", Page: "organization-list", Delegated: orgReadD, Application: orgReadA,
		Note: "with User.Read only id, displayName and verifiedDomains; every other property is null (tenantType included)"},
	{Route: "graph.organization.get", Call: "GET /organization/{id}", Page: "organization-get", Delegated: orgReadD, Application: orgReadA,
		Note: "with User.Read only id, displayName and verifiedDomains; every other property is null (tenantType included)"},
	{Route: "graph.me.get", Call: "GET /me", Page: "user-get", Delegated: meReadD,
		Note: "delegated only: an app-only token gets 400 BadRequest"},
	{Route: "graph.me.memberOf", Call: "GET /me/memberOf", Page: "user-list-memberof", Delegated: memberOfD,
		Note: "delegated only: an app-only token gets 400 BadRequest; directory roles carry roleTemplateId"},
	{Route: "graph.users.list", Call: "GET /users", Page: "user-list", Delegated: usersReadD, Application: usersReadA},
	{Route: "graph.users.get", Call: "GET /users/{id}", Page: "user-get", Delegated: usersReadD, Application: usersReadA},
	{Route: "graph.authenticationEventsFlows.list", Call: "GET /identity/authenticationEventsFlows", Page: "identitycontainer-list-authenticationeventsflows", Delegated: flowsRead, Application: flowsRead},
	{Route: "graph.authenticationEventsFlows.get", Call: "GET /identity/authenticationEventsFlows/{id}", Page: "authenticationeventsflow-get", Delegated: flowsRead, Application: flowsRead},
	{Route: "graph.authenticationEventsFlows.create", Call: "POST /identity/authenticationEventsFlows", Page: "identitycontainer-post-authenticationeventsflows", Delegated: flowsWrite, Application: flowsWrite},
	{Route: "graph.authenticationEventsFlows.delete", Call: "DELETE /identity/authenticationEventsFlows/{id}", Page: "authenticationeventsflow-delete", Delegated: flowsWrite, Application: flowsWrite},
	{Route: "graph.authenticationEventsFlows.includeApplications.list", Call: "GET /identity/authenticationEventsFlows/{id}/conditions/applications/includeApplications", Page: "authenticationconditionsapplications-list-includeapplications", Delegated: flowsRead, Application: flowsRead},
	{Route: "graph.authenticationEventsFlows.includeApplications.add", Call: "POST /identity/authenticationEventsFlows/{id}/conditions/applications/includeApplications", Page: "authenticationconditionsapplications-post-includeapplications", Delegated: flowsWrite, Application: flowsWrite},
	{Route: "graph.authenticationEventsFlows.includeApplications.remove", Call: "DELETE /identity/authenticationEventsFlows/{id}/conditions/applications/includeApplications/{appId}", Page: "authenticationconditionapplication-delete", Delegated: flowsWrite, Application: flowsWrite},
}

// GraphPermissions returns the permission table of every Graph route the emulator serves ($batch
// items go through the same routes and checks).
func GraphPermissions() []RoutePermissions {
	out := make([]RoutePermissions, len(graphPermissions))
	copy(out, graphPermissions)
	return out
}

// permissionsOf finds a route's permissions; routes outside the table need none (there is none).
func permissionsOf(route string) (RoutePermissions, bool) {
	for _, p := range graphPermissions {
		if p.Route == route {
			return p, true
		}
	}
	return RoutePermissions{}, false
}

// allows reports whether the caller's token holds a permission that allows the call.
func (p RoutePermissions) allows(c *Caller) bool {
	if c.Delegated() {
		return c.Has(p.Delegated...)
	}
	return c.Has(p.Application...)
}

// trimOrganization nulls what a caller without a full-read permission may not see of the
// organization. App-only callers reached the route with Organization.Read.All or more.
func trimOrganization(c *Caller, org map[string]any) map[string]any {
	if !c.Delegated() || c.Has(orgFullRead...) {
		return org
	}
	out := make(map[string]any, len(org))
	for k, v := range org {
		out[k] = nil
		for _, keep := range orgLimitedProperties {
			if strings.EqualFold(k, keep) || strings.HasPrefix(k, "@odata.") {
				out[k] = v
			}
		}
	}
	return out
}
