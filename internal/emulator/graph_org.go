package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// The tenant (organization), the signed-in user (me) and a minimal users collection.

var orgCollection = collection{set: "organization", typ: "microsoft.graph.organization", resource: "Organization", template: orgTemplate}

var usersCollection = collection{
	set: "users", typ: "microsoft.graph.user", resource: "User",
	filterable: []string{"id", "displayName", "userPrincipalName", "mail", "givenName", "surname"},
	orderable:  []string{"displayName", "userPrincipalName"},
	template:   userTemplate,
}

// orgList is GET /organization: one object, the caller's tenant, with tenantType AAD or CIAM,
// trimmed to what the caller's token may see (a User.Read token sees three properties).
func (e *Emulator) orgList(g *gcall) bool {
	return g.list(orgCollection, []map[string]any{trimOrganization(g.c, renderOrg(g.t))})
}

func (e *Emulator) orgGet(g *gcall) bool {
	if !strings.EqualFold(g.p["id"], g.t.ID) {
		return g.notFound(g.p["id"])
	}
	return g.entity(http.StatusOK, orgCollection, trimOrganization(g.c, renderOrg(g.t)))
}

// meGet is GET /me: only for delegated tokens, as Graph.
func (e *Emulator) meGet(g *gcall) bool {
	if !g.c.Delegated() {
		return g.fail(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	if !g.c.Has(meReadD...) {
		return g.denied()
	}
	u := g.t.UserByID(g.c.UserID)
	if u == nil {
		return g.notFound(g.c.UserID)
	}
	return g.entity(http.StatusOK, usersCollection, renderUser(u))
}

func (e *Emulator) usersList(g *gcall) bool {
	var items []map[string]any
	for _, u := range g.t.Users {
		items = append(items, renderUser(u))
	}
	return g.list(usersCollection, items)
}

// usersGet is GET /users/{id or userPrincipalName}.
func (e *Emulator) usersGet(g *gcall) bool {
	key, err := url.PathUnescape(g.p["id"])
	if err != nil {
		return g.notFound(g.p["id"])
	}
	u := g.t.UserByID(key)
	if u == nil {
		u = g.t.UserByName(key)
	}
	if u == nil {
		return g.notFound(key)
	}
	return g.entity(http.StatusOK, usersCollection, renderUser(u))
}
