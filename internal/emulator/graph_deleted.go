package emulator

import (
	"net/http"
	"strings"
)

// Deleted items: soft-deleted applications and service principals stay here for 30 days
// (the emulator keeps them until purged), restorable, counted by the quota, and an app's
// uniqueName stays reserved until it is purged.

var deletedAppsCollection = collection{
	set: "applications", typ: "microsoft.graph.application", resource: "Application",
	filterable: []string{"appId", "id", "displayName", "tags", "deletedDateTime", "createdDateTime", "publisherDomain"},
	orderable:  []string{"displayName", "deletedDateTime"},
	template:   appTemplate,
}

var deletedSPsCollection = collection{
	set: "servicePrincipals", typ: "microsoft.graph.servicePrincipal", resource: "ServicePrincipal",
	filterable: []string{"appId", "id", "displayName", "tags", "deletedDateTime"},
	orderable:  []string{"displayName", "deletedDateTime"},
	template:   spTemplate,
}

// directoryObjects is the context of a single deleted item, typed by @odata.type.
var directoryObjectsCollection = collection{set: "directoryObjects", typ: "microsoft.graph.directoryObject", resource: "DirectoryObject", template: nil}

func (e *Emulator) deletedList(g *gcall) bool {
	var items []map[string]any
	if g.p["cast"] == "application" {
		for _, a := range g.t.Applications {
			if a.Deleted() {
				items = append(items, typed(renderApp(a, false), "application"))
			}
		}
		return g.list(deletedAppsCollection, items)
	}
	for _, s := range g.t.ServicePrincipals {
		if s.Deleted() {
			items = append(items, typed(renderSP(s, g.t.appOf(s)), "servicePrincipal"))
		}
	}
	return g.list(deletedSPsCollection, items)
}

// deletedBare answers GET /directory/deletedItems, which Graph does not serve without a type cast.
func (e *Emulator) deletedBare(g *gcall) bool {
	return g.fail(http.StatusBadRequest, "Request_BadRequest", "Listing deleted items requires a type cast segment, for example /directory/deletedItems/microsoft.graph.application.")
}

// typed adds @odata.type, which directoryObject answers carry so clients pick the right type.
func typed(m map[string]any, typ string) map[string]any {
	m["@odata.type"] = "#microsoft.graph." + typ
	return m
}

// findDeleted finds a soft-deleted application or service principal by object id.
func (g *gcall) findDeleted() (*Application, *ServicePrincipal) {
	id := g.p["id"]
	for _, a := range g.t.Applications {
		if a.Deleted() && strings.EqualFold(a.ID, id) {
			return a, nil
		}
	}
	for _, s := range g.t.ServicePrincipals {
		if s.Deleted() && strings.EqualFold(s.ID, id) {
			return nil, s
		}
	}
	return nil, nil
}

func (g *gcall) deletedObject(a *Application, s *ServicePrincipal) map[string]any {
	if a != nil {
		return typed(renderApp(a, false), "application")
	}
	return typed(renderSP(s, g.t.appOf(s)), "servicePrincipal")
}

func (e *Emulator) deletedGet(g *gcall) bool {
	a, s := g.findDeleted()
	if a == nil && s == nil {
		return g.notFound(g.p["id"])
	}
	obj := g.deletedObject(a, s)
	col := directoryObjectsCollection
	col.template = obj
	return g.entity(http.StatusOK, col, obj)
}

// deletedPurge permanently deletes an item: the uniqueName is free again, the quota counts it
// no more, and a purged service principal's grants go with it.
func (e *Emulator) deletedPurge(g *gcall) bool {
	a, s := g.findDeleted()
	if a == nil && s == nil {
		return g.notFound(g.p["id"])
	}
	if !g.mayPurge() {
		return g.denied()
	}
	if a != nil {
		var keep []*Application
		for _, x := range g.t.Applications {
			if x != a {
				keep = append(keep, x)
			}
		}
		g.t.Applications = keep
	} else {
		var keep []*ServicePrincipal
		for _, x := range g.t.ServicePrincipals {
			if x != s {
				keep = append(keep, x)
			}
		}
		g.t.ServicePrincipals = keep
		var grants []*Grant
		for _, gr := range g.t.Grants {
			if !strings.EqualFold(gr.ClientID, s.ID) {
				grants = append(grants, gr)
			}
		}
		g.t.Grants = grants
	}
	writeGraphNoContent(g.w, g.r)
	return true
}

// deletedRestore brings an item back. Restoring an application does not restore its service
// principal (restore that separately), as in Entra.
func (e *Emulator) deletedRestore(g *gcall) bool {
	a, s := g.findDeleted()
	if a == nil && s == nil {
		return g.notFound(g.p["id"])
	}
	// Owners may restore what they own (users-default-permissions), app admins anything.
	if (a != nil && !g.mayManageApp(a)) || (s != nil && !g.mayManageSP(s)) {
		return g.denied()
	}
	if a != nil {
		if g.t.AppByAppID(a.AppID) != nil {
			return g.invalidValue("appId", "Application")
		}
		a.DeletedDateTime = nil
	} else {
		if g.t.SPByAppID(s.AppID) != nil {
			return g.spConflict(s.AppID)
		}
		s.DeletedDateTime = nil
	}
	obj := g.deletedObject(a, s)
	col := directoryObjectsCollection
	col.template = obj
	g.entity(http.StatusOK, col, obj)
	return true
}
