package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

var spsCollection = collection{
	set: "servicePrincipals", typ: "microsoft.graph.servicePrincipal", resource: "ServicePrincipal",
	filterable: []string{"appId", "id", "displayName", "servicePrincipalNames", "tags", "accountEnabled", "servicePrincipalType", "appOwnerOrganizationId", "publisherName", "createdDateTime"},
	orderable:  []string{"displayName"},
	template:   spTemplate,
}

// spWritable are servicePrincipal properties kept verbatim; the typed ones are handled below.
var spWritable = map[string]bool{
	"alternativeNames": true, "appDescription": true, "appRoleAssignmentRequired": true, "description": true,
	"homepage": true, "info": true, "loginUrl": true, "logoutUrl": true, "notes": true, "notificationEmailAddresses": true,
	"preferredSingleSignOnMode": true, "preferredTokenSigningKeyThumbprint": true, "replyUrls": true,
	"samlSingleSignOnSettings": true, "customSecurityAttributes": true,
}

var spReadOnly = map[string]bool{
	"id": true, "appId": true, "deletedDateTime": true, "appDisplayName": true, "appOwnerOrganizationId": true,
	"servicePrincipalType": true, "signInAudience": true, "applicationTemplateId": true, "createdDateTime": true,
	"publisherName": true, "verifiedPublisher": true, "appRoles": true, "oauth2PermissionScopes": true,
}

// appOf is the live application behind a service principal, if it is in this tenant.
func (t *Tenant) appOf(s *ServicePrincipal) *Application { return t.AppByAppID(s.AppID) }

func (e *Emulator) spsList(g *gcall) bool {
	var items []map[string]any
	for _, s := range g.t.ServicePrincipals {
		if !s.Deleted() && g.sees(s.VisibleAt) {
			items = append(items, renderSP(s, g.t.appOf(s)))
		}
	}
	return g.list(spsCollection, items)
}

// findSP resolves /servicePrincipals/{id} or (appId='…'), live ones only.
func (g *gcall) findSP() (sp *ServicePrincipal, key string, ok bool) {
	if id := g.p["id"]; id != "" {
		return g.t.SPByID(id), id, true
	}
	name, val, okKey := altKey(g.p["alt"])
	if !okKey || name != "appId" {
		g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Bad Request - Error in query syntax: the key segment '%s' is not valid; servicePrincipals take (appId='…').", g.p["alt"]))
		return nil, "", false
	}
	return g.t.SPByAppID(val), val, true
}

func (e *Emulator) spsGet(g *gcall) bool {
	s, key, ok := g.findSP()
	if !ok {
		return false
	}
	if s == nil || !g.sees(s.VisibleAt) {
		return g.notFound(key)
	}
	return g.entity(http.StatusOK, spsCollection, renderSP(s, g.t.appOf(s)))
}

// noBackingApp is Graph's answer when the appId names no application it can see yet: the
// usual symptom of replication lag right after the app was created.
func (g *gcall) noBackingApp(appID string) bool {
	msg := fmt.Sprintf("The appId '%s' of the service principal does not reference a valid application object.", appID)
	return g.fail(http.StatusBadRequest, "Request_BadRequest", msg, GraphErrorDetail{Code: "NoBackingApplicationObject", Message: msg, Target: "appId"})
}

// spConflict is the answer to a second service principal for the same app.
func (g *gcall) spConflict(appID string) bool {
	msg := fmt.Sprintf("The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", appID)
	return g.fail(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", msg, GraphErrorDetail{Code: "ObjectConflict", Message: msg, Target: "servicePrincipalNames"})
}

// createSP makes the service principal of a visible application, with the app's display name
// and tags (Graph copies them at creation) unless the body sets its own, and answers 201 with
// it.
func (g *gcall) createSP(appID string, m map[string]json.RawMessage) bool {
	app := g.t.AppByAppID(appID)
	if app == nil || !g.sees(app.VisibleAt) {
		return g.noBackingApp(appID)
	}
	if !g.mayCreateSP(app) {
		return g.denied()
	}
	if g.t.SPByAppID(appID) != nil {
		return g.spConflict(appID)
	}
	if g.quotaExceeded() {
		return false
	}
	s := &ServicePrincipal{
		ID:                     NewGUID(),
		AppID:                  app.AppID,
		DisplayName:            app.DisplayName,
		AppOwnerOrganizationID: g.t.ID,
		ServicePrincipalNames:  []string{app.AppID},
		ServicePrincipalType:   "Application",
		AccountEnabled:         true,
		Tags:                   append([]string{}, app.Tags...),
		CreatedDateTime:        g.e.now().UTC(),
		CreatedBy:              g.principal(),
		Owners:                 g.ownedBy(),
		VisibleAt:              g.e.visibleAt(),
	}
	if !g.applySPProps(s, m) {
		return false
	}
	g.t.ServicePrincipals = append(g.t.ServicePrincipals, s)
	g.location(s.ID, "ServicePrincipal")
	g.entity(http.StatusCreated, spsCollection, renderSP(s, g.t.appOf(s)))
	return true
}

// spsCreate is POST /servicePrincipals {"appId": …} → 201.
func (e *Emulator) spsCreate(g *gcall) bool {
	m, ok := g.decodeObject()
	if !ok {
		return false
	}
	var appID string
	if json.Unmarshal(m["appId"], &appID) != nil || appID == "" {
		return g.invalidValue("appId", "ServicePrincipal")
	}
	return g.createSP(appID, m)
}

// spsPatch is PATCH /servicePrincipals/{id} and the upsert PATCH /servicePrincipals(appId='…')
// with Prefer: create-if-missing (201 + body when created, 204 when it exists).
func (e *Emulator) spsPatch(g *gcall) bool {
	m, ok := g.decodeObject()
	if !ok {
		return false
	}
	s, key, ok := g.findSP()
	if !ok {
		return false
	}
	if _, has := m["passwordCredentials"]; has {
		return g.fail(http.StatusBadRequest, "Request_BadRequest", "New password credentials must be generated using service actions.")
	}
	upsert := g.preferCreate()
	if s != nil {
		if !upsert && !g.sees(s.VisibleAt) {
			return g.notFound(key)
		}
		if !g.mayManageSP(s) {
			return g.denied()
		}
		cp := *s
		if !g.applySPProps(&cp, m) {
			return false
		}
		*s = cp
		writeGraphNoContent(g.w, g.r)
		return true
	}
	if !upsert || g.p["alt"] == "" {
		return g.notFound(key)
	}
	return g.createSP(key, m)
}

// spsDelete soft-deletes a service principal (restorable from deleted items).
func (e *Emulator) spsDelete(g *gcall) bool {
	s, key, ok := g.findSP()
	if !ok {
		return false
	}
	if s == nil || !g.sees(s.VisibleAt) {
		return g.notFound(key)
	}
	if s.AppID == GraphAppID || !g.mayManageSP(s) {
		return g.denied()
	}
	now := g.e.now().UTC()
	s.DeletedDateTime = &now
	writeGraphNoContent(g.w, g.r)
	return true
}

// applySPProps applies a create or PATCH body to a service principal.
func (g *gcall) applySPProps(s *ServicePrincipal, m map[string]json.RawMessage) bool {
	for k, raw := range m {
		switch {
		case k == "displayName":
			var v string
			if json.Unmarshal(raw, &v) != nil || strings.TrimSpace(v) == "" {
				return g.invalidValue("displayName", "ServicePrincipal")
			}
			s.DisplayName = v
		case k == "accountEnabled":
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				return g.invalidValue("accountEnabled", "ServicePrincipal")
			}
			s.AccountEnabled = v
		case k == "tags":
			tags, ok := decodeStrings(raw)
			if !ok || !validTags(tags) {
				return g.invalidValue("tags", "ServicePrincipal")
			}
			s.Tags = tags
		case k == "servicePrincipalNames":
			names, ok := decodeStrings(raw)
			if !ok {
				return g.invalidValue("servicePrincipalNames", "ServicePrincipal")
			}
			if !contains(names, s.AppID) {
				names = append([]string{s.AppID}, names...)
			}
			s.ServicePrincipalNames = names
		case spWritable[k]:
			s.Extra = withExtra(s.Extra, k, raw)
		case spReadOnly[k], k == "keyCredentials":
		default:
			return g.unknownProperty(k, "microsoft.graph.servicePrincipal")
		}
	}
	return true
}
