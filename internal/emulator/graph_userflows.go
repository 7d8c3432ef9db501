package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// External ID user flows (identity/authenticationEventsFlows) and the apps linked to them.
// They exist only in External ID tenants; an app must have a service principal to be linked,
// and an app can be linked to one flow only (facts/graph.md §10). The error wording for the
// last two rules and for workforce tenants is not documented: ours is marked below.

var flowsCollection = collection{
	set: "identity/authenticationEventsFlows", typ: "microsoft.graph.authenticationEventsFlow", resource: "AuthenticationEventsFlow",
	filterable: []string{"id", "displayName"},
	orderable:  []string{"displayName"},
	template:   flowTemplate,
}

const flowType = "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow"

// ciamOnly answers for workforce tenants, which have no user flows (wording unverified).
func (g *gcall) ciamOnly() bool {
	if g.t.Type == ExternalID {
		return true
	}
	return g.fail(http.StatusBadRequest, "Request_BadRequest", "Authentication events flows are only supported in external tenants (tenantType CIAM).")
}

func (e *Emulator) flowsList(g *gcall) bool {
	if !g.ciamOnly() {
		return false
	}
	if !g.mayUseUserFlows() {
		return g.denied()
	}
	var items []map[string]any
	for _, f := range g.t.UserFlows {
		items = append(items, renderFlow(f, g.metadata()))
	}
	return g.list(flowsCollection, items)
}

// flow is the flow the path names, after the checks every handler of one flow makes: an
// External ID tenant, a caller who may manage user flows (GA or External ID User Flow
// Administrator; reads too), a flow that exists. nil means the error is answered.
func (g *gcall) flow() *UserFlow {
	if !g.ciamOnly() {
		return nil
	}
	if !g.mayUseUserFlows() {
		g.denied()
		return nil
	}
	for _, f := range g.t.UserFlows {
		if strings.EqualFold(f.ID, g.p["id"]) {
			return f
		}
	}
	g.notFound(g.p["id"])
	return nil
}

func (e *Emulator) flowsGet(g *gcall) bool {
	f := g.flow()
	if f == nil {
		return false
	}
	return g.entity(http.StatusOK, flowsCollection, renderFlow(f, g.metadata()))
}

// flowsCreate is POST /identity/authenticationEventsFlows with an
// externalUsersSelfServiceSignUpEventsFlow: displayName required; an onAttributeCollection needs
// its attributeCollectionPage (required by the v1.0 resource); the attributes collected at
// sign-up come from onAttributeCollection.attributes[].id; the event handlers are kept as sent.
func (e *Emulator) flowsCreate(g *gcall) bool {
	if !g.ciamOnly() {
		return false
	}
	if !g.mayUseUserFlows() {
		return g.denied()
	}
	var in struct {
		Type                  string  `json:"@odata.type"`
		DisplayName           string  `json:"displayName"`
		Description           *string `json:"description"`
		OnAttributeCollection *struct {
			Attributes []struct {
				ID string `json:"id"`
			} `json:"attributes"`
			AttributeCollectionPage *struct {
				Views []json.RawMessage `json:"views"`
			} `json:"attributeCollectionPage"`
		} `json:"onAttributeCollection"`
	}
	if json.Unmarshal(g.body, &in) != nil {
		return g.badJSON()
	}
	if in.Type != flowType {
		return g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The @odata.type '%s' is not supported; create a %s.", in.Type, strings.TrimPrefix(flowType, "#")))
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return g.invalidValue("displayName", "AuthenticationEventsFlow")
	}
	for _, f := range g.t.UserFlows {
		if strings.EqualFold(f.DisplayName, in.DisplayName) {
			msg := "Another object with the same value for property displayName already exists."
			return g.fail(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", msg)
		}
	}
	// The onAttributeCollectionExternalUsersSelfServiceSignUp resource (v1.0) marks
	// attributeCollectionPage "Required."; the error's wording is unverified.
	if c := in.OnAttributeCollection; c != nil && (c.AttributeCollectionPage == nil || len(c.AttributeCollectionPage.Views) == 0) {
		return g.invalidValue("attributeCollectionPage", "OnAttributeCollectionExternalUsersSelfServiceSignUp")
	}
	f := &UserFlow{ID: NewGUID(), DisplayName: in.DisplayName, Description: in.Description, Attributes: []string{"email"}, Extra: json.RawMessage(g.body)}
	if in.OnAttributeCollection != nil {
		f.Attributes = nil
		for _, a := range in.OnAttributeCollection.Attributes {
			if a.ID != "" {
				f.Attributes = append(f.Attributes, a.ID)
			}
		}
	}
	g.t.UserFlows = append(g.t.UserFlows, f)
	g.entity(http.StatusCreated, flowsCollection, renderFlow(f, g.metadata()))
	return true
}

func (e *Emulator) flowsDelete(g *gcall) bool {
	f := g.flow()
	if f == nil {
		return false
	}
	var keep []*UserFlow
	for _, x := range g.t.UserFlows {
		if x != f {
			keep = append(keep, x)
		}
	}
	g.t.UserFlows = keep
	writeGraphNoContent(g.w, g.r)
	return true
}

func (g *gcall) includeApplicationsContext(f *UserFlow) string {
	return g.metadata() + "identity/authenticationEventsFlows('" + f.ID + "')/conditions/applications/includeApplications"
}

func (e *Emulator) flowAppsList(g *gcall) bool {
	f := g.flow()
	if f == nil {
		return false
	}
	items := make([]map[string]any, 0, len(f.AppIDs))
	for _, a := range f.AppIDs {
		items = append(items, map[string]any{"appId": a})
	}
	// Paged like any Graph collection (unverified for this navigation; a client that follows
	// nextLink is right either way, and a workshop links a hundred apps to one flow).
	return g.list(collection{
		set:        strings.TrimPrefix(g.includeApplicationsContext(f), g.metadata()),
		typ:        "microsoft.graph.authenticationConditionApplication",
		resource:   "AuthenticationConditionApplication",
		filterable: []string{"appId"},
		template:   map[string]any{"appId": nil},
	}, items)
}

// flowAppsAdd links an app to a flow: 201 {"appId": …}.
func (e *Emulator) flowAppsAdd(g *gcall) bool {
	f := g.flow()
	if f == nil {
		return false
	}
	var in struct {
		AppID string `json:"appId"`
	}
	if json.Unmarshal(g.body, &in) != nil {
		return g.badJSON()
	}
	if !isGUID(in.AppID) {
		return g.invalidValue("appId", "AuthenticationConditionApplication")
	}
	// The app needs a service principal this call can see: 404 meanwhile (wording unverified).
	if s := g.t.SPByAppID(in.AppID); s == nil || !g.sees(s.VisibleAt) {
		return g.notFound(in.AppID)
	}
	if other := g.t.FlowForApp(in.AppID); other != nil {
		// One flow per app (wording unverified).
		if other == f {
			return g.fail(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", fmt.Sprintf("The application '%s' is already linked to this user flow.", in.AppID))
		}
		return g.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("The application '%s' is already linked to user flow '%s'. An application can only be linked to one user flow.", in.AppID, other.ID))
	}
	f.AppIDs = append(append([]string(nil), f.AppIDs...), strings.ToLower(in.AppID))
	writeGraphJSON(g.w, g.r, http.StatusCreated, map[string]any{"@odata.context": g.includeApplicationsContext(f) + "/$entity", "appId": strings.ToLower(in.AppID)})
	return true
}

func (e *Emulator) flowAppsRemove(g *gcall) bool {
	f := g.flow()
	if f == nil {
		return false
	}
	var keep []string
	found := false
	for _, a := range f.AppIDs {
		if strings.EqualFold(a, g.p["appId"]) {
			found = true
			continue
		}
		keep = append(keep, a)
	}
	if !found {
		return g.notFound(g.p["appId"])
	}
	f.AppIDs = keep
	writeGraphNoContent(g.w, g.r)
	return true
}
