package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// An application's owners (GET /applications/{id}/owners, POST …/owners/$ref) and the signed-in
// person's directory roles (GET /me/memberOf), so a client can know its rights before trying
// (tenants.md §1.5, §2).

var directoryObjectsList = collection{
	set: "directoryObjects", typ: "microsoft.graph.directoryObject", resource: "DirectoryObject",
	filterable: []string{"id"},
	template:   map[string]any{"id": nil, "displayName": nil, "@odata.type": nil},
}

// maxOwners is Entra's limit of owners per app (service limits, tenants.md §2).
const maxOwners = 100

// ownerObject renders an owner: a user or a service principal, typed; nil when it is gone.
func (g *gcall) ownerObject(id string) map[string]any {
	if u := g.t.UserByID(id); u != nil {
		return typed(renderUser(u), "user")
	}
	if s := g.t.SPByID(id); s != nil {
		return typed(renderSP(s, g.t.appOf(s)), "servicePrincipal")
	}
	return nil
}

// appOwnersList is GET /applications/{id}/owners (or by appId or uniqueName).
func (e *Emulator) appOwnersList(g *gcall) bool {
	a, ok := g.liveApp()
	if !ok {
		return false
	}
	items := []map[string]any{}
	for _, id := range a.Owners {
		if o := g.ownerObject(id); o != nil {
			items = append(items, o)
		}
	}
	return g.list(directoryObjectsList, items)
}

// directoryObjectRef is the @odata.id of a $ref body: a Graph URL ending in the object's id.
var directoryObjectRef = regexp.MustCompile(`(?i)/(?:directoryObjects|users|servicePrincipals)/([0-9a-f-]{36})/?$`)

// appOwnersAdd is POST /applications/{id}/owners/$ref {"@odata.id": ".../directoryObjects/{id}"}
// → 204. Owners and app admins may add owners (owners/update, tenants.md §1.2).
func (e *Emulator) appOwnersAdd(g *gcall) bool {
	a, ok := g.liveApp()
	if !ok {
		return false
	}
	if !g.mayManageApp(a) {
		return g.denied()
	}
	var body struct {
		Ref string `json:"@odata.id"`
	}
	if json.Unmarshal(g.body, &body) != nil {
		return g.badJSON()
	}
	m := directoryObjectRef.FindStringSubmatch(body.Ref)
	if m == nil {
		// Wording [unverified]: Graph documents no error for a malformed reference.
		return g.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid object identifier '%s'.", body.Ref))
	}
	id := strings.ToLower(m[1])
	if g.ownerObject(id) == nil {
		return g.notFound(id)
	}
	for _, o := range a.Owners {
		if strings.EqualFold(o, id) {
			return g.fail(http.StatusBadRequest, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'owners'.")
		}
	}
	if len(a.Owners) >= maxOwners {
		// Wording [unverified]; the limit is documented.
		return g.fail(http.StatusBadRequest, "Request_BadRequest", "The maximum number of owners for this object has been reached.")
	}
	a.Owners = append(append([]string(nil), a.Owners...), id)
	writeGraphNoContent(g.w, g.r)
	return true
}

// roleDescriptions are the built-in roles' descriptions (entra-docs permissions-reference).
var roleDescriptions = map[string]string{
	RoleGlobalAdmin:         "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
	RoleAppAdmin:            "Can create and manage all aspects of app registrations and enterprise apps.",
	RoleCloudAppAdmin:       "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
	RoleAppDeveloper:        "Can create application registrations independent of the 'Users can register applications' setting.",
	RolePrivilegedRoleAdmin: "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
	RoleUserFlowAdmin:       "Can create and manage all aspects of user flows.",
}

// meMemberOf is GET /me/memberOf: the person's directory roles as #microsoft.graph.directoryRole
// items with roleTemplateId (the emulator has no groups). Needs only User.Read (§1.5).
func (e *Emulator) meMemberOf(g *gcall) bool {
	u := g.user()
	if u == nil {
		return g.notFound(g.c.UserID)
	}
	items := []map[string]any{}
	for _, r := range u.Roles {
		tmpl := RoleTemplateID(r)
		desc := any(nil)
		if d, ok := roleDescriptions[r]; ok {
			desc = d
		}
		items = append(items, map[string]any{
			"@odata.type": "#microsoft.graph.directoryRole",
			// A role's object id differs per tenant from its template id.
			"id":              stableGUID(g.t.ID + "/role/" + tmpl),
			"deletedDateTime": nil,
			"description":     desc,
			"displayName":     r,
			"roleTemplateId":  tmpl,
		})
	}
	return g.list(directoryObjectsList, items)
}
