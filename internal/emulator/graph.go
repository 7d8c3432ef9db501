package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Route patterns match the escaped path after /v1.0. Alternate keys arrive raw
// (`(uniqueName='x')`) or percent-encoded; altKey decodes them.
const (
	pID  = `/(?P<id>[^/()$]+)`
	pAlt = `(?P<alt>(?:\(|%28)[^/]*(?:\)|%29))`
)

// graphAPIRoutes are the Graph v1.0 routes, matched against the path after /v1.0. Route names
// are what faults target and the request log records.
func (e *Emulator) graphAPIRoutes() []route {
	// g is a Graph route whose permissions come from the table under its name.
	g := func(name, method, pattern string, h func(*gcall) bool) route {
		return rt(name, method, pattern, e.graphHandler(name, h))
	}
	return []route{
		// applications
		g("graph.applications.list", http.MethodGet, `/applications`, e.appsList),
		g("graph.applications.count", http.MethodGet, `/applications/\$count`, e.appsCount),
		g("graph.applications.create", http.MethodPost, `/applications`, e.appsCreate),
		g("graph.applications.addPassword", http.MethodPost, `/applications(?:`+pID+`|`+pAlt+`)/addPassword`, e.appsAddPassword),
		g("graph.applications.removePassword", http.MethodPost, `/applications(?:`+pID+`|`+pAlt+`)/removePassword`, e.appsRemovePassword),
		g("graph.applications.owners.list", http.MethodGet, `/applications(?:`+pID+`|`+pAlt+`)/owners`, e.appOwnersList),
		g("graph.applications.owners.add", http.MethodPost, `/applications(?:`+pID+`|`+pAlt+`)/owners/(?:\$|%24)ref`, e.appOwnersAdd),
		g("graph.applications.get", http.MethodGet, `/applications(?:`+pID+`|`+pAlt+`)`, e.appsGet),
		g("graph.applications.update", http.MethodPatch, `/applications`+pID, e.appsPatch),
		g("graph.applications.upsert", http.MethodPatch, `/applications`+pAlt, e.appsPatch),
		g("graph.applications.delete", http.MethodDelete, `/applications(?:`+pID+`|`+pAlt+`)`, e.appsDelete),

		// service principals
		g("graph.servicePrincipals.list", http.MethodGet, `/servicePrincipals`, e.spsList),
		g("graph.servicePrincipals.create", http.MethodPost, `/servicePrincipals`, e.spsCreate),
		g("graph.servicePrincipals.get", http.MethodGet, `/servicePrincipals(?:`+pID+`|`+pAlt+`)`, e.spsGet),
		g("graph.servicePrincipals.update", http.MethodPatch, `/servicePrincipals`+pID, e.spsPatch),
		g("graph.servicePrincipals.upsert", http.MethodPatch, `/servicePrincipals`+pAlt, e.spsPatch),
		g("graph.servicePrincipals.delete", http.MethodDelete, `/servicePrincipals(?:`+pID+`|`+pAlt+`)`, e.spsDelete),

		// delegated permission grants (admin consent)
		g("graph.oauth2PermissionGrants.list", http.MethodGet, `/oauth2PermissionGrants`, e.grantsList),
		g("graph.oauth2PermissionGrants.create", http.MethodPost, `/oauth2PermissionGrants`, e.grantsCreate),
		g("graph.oauth2PermissionGrants.get", http.MethodGet, `/oauth2PermissionGrants`+pID, e.grantsGet),
		g("graph.oauth2PermissionGrants.update", http.MethodPatch, `/oauth2PermissionGrants`+pID, e.grantsPatch),
		g("graph.oauth2PermissionGrants.delete", http.MethodDelete, `/oauth2PermissionGrants`+pID, e.grantsDelete),

		// deleted items: the cast segment is required, as in Graph; the Go SDK writes it with the
		// namespace alias (graph.application), others in full (microsoft.graph.application)
		g("graph.deletedItems.list", http.MethodGet, `/directory/deletedItems/(?:microsoft\.)?graph\.(?P<cast>application|servicePrincipal)`, e.deletedList),
		g("graph.deletedItems.list", http.MethodGet, `/directory/deletedItems`, e.deletedBare),
		g("graph.deletedItems.restore", http.MethodPost, `/directory/deletedItems`+pID+`/restore`, e.deletedRestore),
		g("graph.deletedItems.get", http.MethodGet, `/directory/deletedItems`+pID, e.deletedGet),
		g("graph.deletedItems.purge", http.MethodDelete, `/directory/deletedItems`+pID, e.deletedPurge),

		// tenant, signed-in user, users
		g("graph.organization.list", http.MethodGet, `/organization`, e.orgList),
		g("graph.organization.get", http.MethodGet, `/organization`+pID, e.orgGet),
		g("graph.me.get", http.MethodGet, `/me`, e.meGet),
		g("graph.me.memberOf", http.MethodGet, `/me/memberOf`, e.meMemberOf),
		g("graph.users.list", http.MethodGet, `/users`, e.usersList),
		g("graph.users.get", http.MethodGet, `/users`+pID, e.usersGet),

		// External ID user flows
		g("graph.authenticationEventsFlows.list", http.MethodGet, `/identity/authenticationEventsFlows`, e.flowsList),
		g("graph.authenticationEventsFlows.create", http.MethodPost, `/identity/authenticationEventsFlows`, e.flowsCreate),
		g("graph.authenticationEventsFlows.get", http.MethodGet, `/identity/authenticationEventsFlows`+pID, e.flowsGet),
		g("graph.authenticationEventsFlows.delete", http.MethodDelete, `/identity/authenticationEventsFlows`+pID, e.flowsDelete),
		g("graph.authenticationEventsFlows.includeApplications.list", http.MethodGet, `/identity/authenticationEventsFlows`+pID+`/conditions/applications/includeApplications`, e.flowAppsList),
		g("graph.authenticationEventsFlows.includeApplications.add", http.MethodPost, `/identity/authenticationEventsFlows`+pID+`/conditions/applications/includeApplications`, e.flowAppsAdd),
		g("graph.authenticationEventsFlows.includeApplications.remove", http.MethodDelete, `/identity/authenticationEventsFlows`+pID+`/conditions/applications/includeApplications/(?P<appId>[^/]+)`, e.flowAppsRemove),

		// JSON batching: its items go through these same routes
		rt("graph.batch", http.MethodPost, `/\$batch`, e.batch),
	}
}

// gcall is one Graph call in progress: the locked directory, the verified caller and its
// tenant, the request body (inflated) and the path parameters.
type gcall struct {
	e    *Emulator
	w    http.ResponseWriter
	r    *http.Request
	d    *Directory
	c    *Caller
	t    *Tenant
	p    params
	body []byte
}

// errNoChange tells Store.Do that a handler changed nothing, so nothing is saved.
var errNoChange = errors.New("no change")

// graphHandler wraps a Graph handler: it reads the body, takes the store lock, verifies the
// bearer token and checks that the caller holds one of the route's permissions for its kind of
// token (graph_permissions.go); a route with no application permissions (the /me routes) answers an
// app-only token with 400, as Graph does. The handler reports whether it changed the directory (only then is it saved).
func (e *Emulator) graphHandler(route string, h func(g *gcall) bool) func(http.ResponseWriter, *http.Request, params) {
	perms, checked := permissionsOf(route)
	return func(w http.ResponseWriter, r *http.Request, p params) {
		var body []byte
		if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodDelete {
			b, err := readGraphBody(r)
			if err != nil {
				writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
				return
			}
			body = b
		}
		_ = e.store.Do(func(d *Directory) error {
			c := e.graphCaller(w, r, d)
			if c == nil {
				return errNoChange
			}
			if checked && !c.Delegated() && len(perms.Application) == 0 {
				// Graph answers an app-only token on /me routes with 400, not 403.
				writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
				return errNoChange
			}
			if checked && !perms.allows(c) {
				writeGraphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
				return errNoChange
			}
			g := &gcall{e: e, w: w, r: r, d: d, c: c, t: c.Tenant, p: p, body: body}
			if !h(g) {
				return errNoChange
			}
			return nil
		})
	}
}

// ---- answers ----

func (g *gcall) fail(status int, code, msg string, details ...GraphErrorDetail) bool {
	writeGraphError(g.w, g.r, status, code, msg, details...)
	return false
}

// notFound is Graph's answer for a missing (or not yet replicated) object.
func (g *gcall) notFound(id string) bool {
	return g.fail(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func (g *gcall) invalidValue(prop, resource string) bool {
	return g.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid value specified for property '%s' of resource '%s'.", prop, resource))
}

func (g *gcall) badJSON() bool {
	return g.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

// denied is the 403 for a delegated caller who lacks a directory role the operation needs.
func (g *gcall) denied() bool {
	return g.fail(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// metadata is the @odata.context base as this client reaches Graph.
func (g *gcall) metadata() string { return siteOf(g.r).graphBase + "/v1.0/$metadata#" }

// entity answers one object with its @odata.context, honouring $select.
func (g *gcall) entity(status int, col collection, obj map[string]any) bool {
	sel, err := parseSelect(g.r.URL.Query().Get("$select"), col.template, col.typ)
	if err != nil {
		return g.fail(http.StatusBadRequest, "BadRequest", err.Error())
	}
	ctx := col.set
	if sel != nil {
		obj = project(obj, sel)
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	out := map[string]any{"@odata.context": g.metadata() + ctx + "/$entity"}
	for k, v := range obj {
		out[k] = v
	}
	writeGraphJSON(g.w, g.r, status, out)
	return false
}

// location is the Location header Graph sets on 201 answers for directory objects.
func (g *gcall) location(id, typ string) {
	g.w.Header().Set("Location", fmt.Sprintf("%s/v2/%s/directoryObjects/%s/Microsoft.DirectoryServices.%s", siteOf(g.r).graphBase, g.t.ID, id, typ))
}

// preferCreate reports whether the request asked for upsert behaviour.
func (g *gcall) preferCreate() bool {
	for _, v := range g.r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "create-if-missing") {
				return true
			}
		}
	}
	return false
}

// decodeObject reads the body as a JSON object, dropping annotations such as @odata.type.
func (g *gcall) decodeObject() (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if len(strings.TrimSpace(string(g.body))) == 0 {
		return map[string]json.RawMessage{}, true
	}
	if err := json.Unmarshal(g.body, &m); err != nil || m == nil {
		return nil, g.badJSON()
	}
	for k := range m {
		if strings.Contains(k, "@") {
			delete(m, k)
		}
	}
	return m, true
}

// sees reports whether replication has made an object visible to this call.
func (g *gcall) sees(visibleAt time.Time) bool { return g.e.visible(visibleAt) }

// principal names who creates objects, for the non-admin quota.
func (g *gcall) principal() string {
	if g.c.Delegated() {
		return "user:" + g.c.UserID
	}
	return "app:" + g.c.AppID
}

// altKey parses an alternate key segment: (appId='…') or (uniqueName='…'), raw or
// percent-encoded, with OData's ” escaping.
func altKey(seg string) (name, value string, ok bool) {
	s, err := url.PathUnescape(seg)
	if err != nil {
		return "", "", false
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return "", "", false
	}
	s = s[1 : len(s)-1]
	name, value, ok = strings.Cut(s, "=")
	if !ok {
		return "", "", false
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
		value = strings.ReplaceAll(value[1:len(value)-1], "''", "'")
	}
	return name, value, value != ""
}
