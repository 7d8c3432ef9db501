package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var appsCollection = collection{
	set: "applications", typ: "microsoft.graph.application", resource: "Application",
	filterable: []string{"appId", "id", "displayName", "tags", "identifierUris", "publisherDomain", "signInAudience", "createdDateTime", "requiredResourceAccess", "keyCredentials", "web", "spa", "publicClient"},
	orderable:  []string{"displayName", "createdDateTime"},
	template:   appTemplate,
}

// visibleApps are the live applications replication has made visible to this call.
func (g *gcall) visibleApps() []*Application {
	var out []*Application
	for _, a := range g.t.Applications {
		if !a.Deleted() && g.sees(a.VisibleAt) {
			out = append(out, a)
		}
	}
	return out
}

func (e *Emulator) appsList(g *gcall) bool {
	var items []map[string]any
	withKeys := selectsKeyCredentials(g.r, "/applications")
	for _, a := range g.visibleApps() {
		items = append(items, renderApp(a, withKeys))
	}
	return g.list(appsCollection, items)
}

func (e *Emulator) appsCount(g *gcall) bool { return g.countOnly(len(g.visibleApps())) }

// findApp resolves the application a path names: /applications/{id}, (appId='…') or
// (uniqueName='…'). It also returns the key for error messages. Replication is not applied
// here: callers decide (a write by unique key sees every object, as the directory's uniqueness
// check does).
func (g *gcall) findApp() (app *Application, key string, ok bool) {
	if id := g.p["id"]; id != "" {
		for _, a := range g.t.Applications {
			if strings.EqualFold(a.ID, id) && !a.Deleted() {
				return a, id, true
			}
		}
		return nil, id, true
	}
	name, val, okKey := altKey(g.p["alt"])
	if !okKey {
		g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Bad Request - Error in query syntax: the key segment '%s' is not valid.", g.p["alt"]))
		return nil, "", false
	}
	switch name {
	case "appId":
		return g.t.AppByAppID(val), val, true
	case "uniqueName":
		for _, a := range g.t.Applications {
			if a.UniqueName != nil && strings.EqualFold(*a.UniqueName, val) {
				return a, val, true // may be soft-deleted: the name stays reserved until purge
			}
		}
		return nil, val, true
	}
	g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The key property '%s' is not an alternate key of type 'microsoft.graph.application'; use appId or uniqueName.", name))
	return nil, "", false
}

// liveApp is findApp for reads and actions: a soft-deleted or not yet replicated app is 404.
func (g *gcall) liveApp() (*Application, bool) {
	a, key, ok := g.findApp()
	if !ok {
		return nil, false
	}
	if a == nil || a.Deleted() || !g.sees(a.VisibleAt) {
		g.notFound(key)
		return nil, false
	}
	return a, true
}

func (e *Emulator) appsGet(g *gcall) bool {
	a, ok := g.liveApp()
	if !ok {
		return false
	}
	// Graph returns keyCredentials.key only when $select names keyCredentials (lists alike).
	return g.entity(http.StatusOK, appsCollection, renderApp(a, selectsKeyCredentials(g.r, "/applications")))
}

// quotaExceeded enforces the non-admin object quota (FaultConfig.ObjectQuota): objects the
// caller created count, soft-deleted ones included, until purged.
func (g *gcall) quotaExceeded() bool {
	q := g.e.faults.config().ObjectQuota
	if q <= 0 || (g.c.Delegated() && g.isAdmin()) {
		return false
	}
	who, n := g.principal(), 0
	for _, a := range g.t.Applications {
		if a.CreatedBy == who {
			n++
		}
	}
	for _, s := range g.t.ServicePrincipals {
		if s.CreatedBy == who {
			n++
		}
	}
	if n < q {
		return false
	}
	// Status unverified (facts/graph.md §5): 403 as Graph answers its other directory quotas.
	g.fail(http.StatusForbidden, "Directory_QuotaExceeded", "The directory object quota limit for the Principal has been exceeded. Please ask your administrator to increase the quota limit or delete objects to reduce the used quota.")
	return true
}

// newApp makes an application with Graph's defaults, counted for the quota against the caller,
// and owned by it unless it is an admin.
func (g *gcall) newApp() *Application {
	return &Application{
		ID:              NewGUID(),
		AppID:           NewGUID(),
		SignInAudience:  "AzureADMyOrg",
		PublisherDomain: g.t.Domain,
		CreatedDateTime: g.e.now().UTC(),
		Tags:            []string{},
		CreatedBy:       g.principal(),
		Owners:          g.ownedBy(),
		VisibleAt:       g.e.visibleAt(),
	}
}

// appsCreate is POST /applications: displayName required; passwordCredentials allowed here
// (their secretText is in this answer only); uniqueName may be given (the service accepts it,
// though the v1.0 reference calls it read-only) and must not be taken.
func (e *Emulator) appsCreate(g *gcall) bool {
	m, ok := g.decodeObject()
	if !ok {
		return false
	}
	if !g.mayCreateApp() {
		return g.denied()
	}
	uniqueName, hasUnique, ok := g.uniqueNameIn(m, nil)
	if !ok {
		return false
	}
	if !hasString(m, "displayName") {
		return g.invalidValue("displayName", "Application")
	}
	if g.quotaExceeded() {
		return false
	}
	a := g.newApp()
	if hasUnique {
		a.UniqueName = &uniqueName
	}
	pwRaw, hasPw := m["passwordCredentials"]
	delete(m, "passwordCredentials")
	if !g.applyAppProps(a, m) {
		return false
	}
	var secrets []map[string]any
	if hasPw && string(pwRaw) != "null" {
		var reqs []passwordRequest
		if json.Unmarshal(pwRaw, &reqs) != nil {
			return g.invalidValue("passwordCredentials", "Application")
		}
		for _, pr := range reqs {
			pc, ok := g.newPassword(pr)
			if !ok {
				return false
			}
			a.PasswordCredentials = append(a.PasswordCredentials, pc)
			secrets = append(secrets, renderPassword(pc, true))
		}
	}
	g.t.Applications = append(g.t.Applications, a)
	out := renderApp(a, false)
	if secrets != nil {
		out["passwordCredentials"] = generic(map[string]any{"v": secrets})["v"]
	}
	g.location(a.ID, "Application")
	g.entity(http.StatusCreated, appsCollection, out)
	return true
}

// uniqueNameIn reads and removes uniqueName from a create or update body: a non-empty string
// that no other application holds (a soft-deleted one's stays taken until purged). ok is false
// when the call already failed.
func (g *gcall) uniqueNameIn(m map[string]json.RawMessage, self *Application) (name string, has, ok bool) {
	raw, has := m["uniqueName"]
	if !has {
		return "", false, true
	}
	delete(m, "uniqueName")
	if json.Unmarshal(raw, &name) != nil || strings.TrimSpace(name) == "" {
		g.invalidValue("uniqueName", "Application")
		return "", true, false
	}
	for _, x := range g.t.Applications {
		if x != self && x.UniqueName != nil && strings.EqualFold(*x.UniqueName, name) {
			msg := "Another object with the same value for property uniqueName already exists."
			g.fail(http.StatusBadRequest, "Request_BadRequest", msg, GraphErrorDetail{Code: "ObjectConflict", Message: msg, Target: "uniqueName"})
			return "", true, false
		}
	}
	return name, true, true
}

// appsPatch is PATCH /applications/{id} (update) and PATCH /applications(uniqueName='…')
// (upsert with Prefer: create-if-missing: 201 and the new app, else 204; 404 without the
// header when missing).
func (e *Emulator) appsPatch(g *gcall) bool {
	m, ok := g.decodeObject()
	if !ok {
		return false
	}
	a, key, ok := g.findApp()
	if !ok {
		return false
	}
	if _, has := m["passwordCredentials"]; has && !passwordsKept(a, m["passwordCredentials"]) {
		return g.fail(http.StatusBadRequest, "Request_BadRequest", "New password credentials must be generated using service actions.")
	}
	altName, _, _ := altKey(g.p["alt"])
	byUniqueName := altName == "uniqueName"
	var setUnique *string
	if _, has := m["uniqueName"]; has {
		v, _, ok := g.uniqueNameIn(m, a)
		if !ok {
			return false
		}
		switch {
		case byUniqueName && !strings.EqualFold(v, key):
			return g.fail(http.StatusBadRequest, "Request_BadRequest", "Property 'uniqueName' in the body does not match the key '"+key+"'.")
		case a != nil && a.UniqueName != nil && !strings.EqualFold(*a.UniqueName, v):
			// Settable once (POST or PATCH), "Immutable" after (the v1.0 reference); wording unverified.
			return g.fail(http.StatusBadRequest, "Request_BadRequest", "Property 'uniqueName' is immutable once set.")
		case a != nil && a.UniqueName == nil:
			setUnique = &v
		}
	}
	upsert := g.preferCreate()
	switch {
	case a != nil && a.Deleted():
		// The uniqueName of a soft-deleted app stays taken until it is purged: 400
		// Request_BadRequest as for a taken uniqueName on create (tenants.md §5). What the upsert
		// answers for a deleted app's key, and this wording, are [unverified].
		msg := "Another object with the same value for property uniqueName already exists."
		return g.fail(http.StatusBadRequest, "Request_BadRequest", msg, GraphErrorDetail{Code: "ObjectConflict", Message: msg, Target: "uniqueName"})
	case a != nil:
		// An upsert is a write by unique key: it finds the app even before replication shows it
		// to reads, so retries converge on one object.
		if !upsert && !g.sees(a.VisibleAt) {
			return g.notFound(key)
		}
		if !g.mayManageApp(a) {
			return g.denied()
		}
		_, keys := m["keyCredentials"]
		if keys && g.credentialRace(a) {
			return false
		}
		cp := *a
		if !g.applyAppProps(&cp, m) {
			return false
		}
		if raw, has := m["passwordCredentials"]; has {
			cp.PasswordCredentials = keptPasswords(a, raw)
		}
		if setUnique != nil {
			cp.UniqueName = setUnique
		}
		*a = cp
		if keys {
			a.credentialWrite = g.e.now()
		}
		writeGraphNoContent(g.w, g.r)
		return true
	case !upsert || !byUniqueName:
		return g.notFound(key)
	}
	if !g.mayCreateApp() {
		return g.denied()
	}
	// Create through the upsert.
	if !hasString(m, "displayName") {
		return g.invalidValue("displayName", "Application")
	}
	if g.quotaExceeded() {
		return false
	}
	na := g.newApp()
	name := key
	na.UniqueName = &name
	if !g.applyAppProps(na, m) {
		return false
	}
	g.t.Applications = append(g.t.Applications, na)
	g.location(na.ID, "Application")
	g.entity(http.StatusCreated, appsCollection, renderApp(na, false))
	return true
}

// appsDelete soft-deletes an application and its service principal: both move to deleted
// items for 30 days (restorable, still counted by the quota, uniqueName still reserved).
func (e *Emulator) appsDelete(g *gcall) bool {
	a, ok := g.liveApp()
	if !ok {
		return false
	}
	if !g.mayManageApp(a) {
		return g.denied()
	}
	now := g.e.now().UTC()
	a.DeletedDateTime = &now
	for _, s := range g.t.ServicePrincipals {
		if strings.EqualFold(s.AppID, a.AppID) && !s.Deleted() {
			t := now
			s.DeletedDateTime = &t
		}
	}
	writeGraphNoContent(g.w, g.r)
	return true
}

// passwordRequest is the passwordCredential of addPassword or of a create.
type passwordRequest struct {
	DisplayName   *string    `json:"displayName"`
	StartDateTime *time.Time `json:"startDateTime"`
	EndDateTime   *time.Time `json:"endDateTime"`
}

// newPassword makes a client secret: 40 characters with "8Q~", hint = its first 3, from now
// (or startDateTime) to two years later (or endDateTime), checked against the lifetime policy.
func (g *gcall) newPassword(pr passwordRequest) (PasswordCredential, bool) {
	start := g.e.now().UTC()
	if pr.StartDateTime != nil {
		start = pr.StartDateTime.UTC()
	}
	end := start.AddDate(2, 0, 0)
	if pr.EndDateTime != nil {
		end = pr.EndDateTime.UTC()
	}
	if !end.After(start) {
		g.invalidValue("endDateTime", "PasswordCredential")
		return PasswordCredential{}, false
	}
	policy := g.t.settings().AppManagementPolicy
	if policy.BlockPasswordAddition {
		// 400 as the Microsoft 365 Agents Toolkit's tests expect ([unverified] live), tenants.md §4.
		g.fail(http.StatusBadRequest, "CredentialTypeNotAllowedAsPerAppPolicy", "Credential type not allowed as per assigned policy")
		return PasswordCredential{}, false
	}
	max := time.Duration(g.e.faults.config().MaxSecretLifetime)
	if p := time.Duration(policy.MaxPasswordLifetime); p > 0 && (max <= 0 || p < max) {
		max = p
	}
	if max > 0 && end.Sub(start) > max {
		// The tenant default policy (tenants.md §4); the fault knob plays the same policy.
		msg := fmt.Sprintf("Credential lifetime exceeds the max value allowed as per assigned policy '%s'.", defaultAppManagementPolicyID)
		g.fail(http.StatusBadRequest, "CredentialInvalidLifetimeAsPerAppPolicy", msg, GraphErrorDetail{Code: "InvalidKeyEndDate", Message: msg, Target: "EndDate"})
		return PasswordCredential{}, false
	}
	secret := NewSecretText()
	return PasswordCredential{
		KeyID: NewGUID(), DisplayName: pr.DisplayName, Hint: secret[:3], SecretText: secret,
		StartDateTime: start, EndDateTime: end, VisibleAt: g.e.visibleAt(),
	}, true
}

// passwordApp is the live app of an addPassword or removePassword call (the action segment),
// named by id or appId.
func (g *gcall) passwordApp(action string) (*Application, bool) {
	if name, _, _ := altKey(g.p["alt"]); g.p["alt"] != "" && name != "appId" {
		return nil, g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", action))
	}
	return g.liveApp()
}

// appsAddPassword is POST /applications/{id}/addPassword or (appId='…')/addPassword.
func (e *Emulator) appsAddPassword(g *gcall) bool {
	a, ok := g.passwordApp("addPassword")
	if !ok {
		return false
	}
	if !g.mayManageApp(a) {
		return g.denied()
	}
	if g.credentialRace(a) {
		return false
	}
	var body struct {
		PasswordCredential *passwordRequest `json:"passwordCredential"`
	}
	if len(strings.TrimSpace(string(g.body))) > 0 && json.Unmarshal(g.body, &body) != nil {
		return g.badJSON()
	}
	pr := passwordRequest{}
	if body.PasswordCredential != nil {
		pr = *body.PasswordCredential
	}
	pc, ok := g.newPassword(pr)
	if !ok {
		return false
	}
	a.PasswordCredentials = append(append([]PasswordCredential(nil), a.PasswordCredentials...), pc)
	a.credentialWrite = g.e.now()
	out := renderPassword(pc, true)
	out["@odata.context"] = g.metadata() + "microsoft.graph.passwordCredential"
	writeGraphJSON(g.w, g.r, http.StatusOK, out)
	return true
}

// appsRemovePassword is POST /applications/{id}/removePassword {"keyId": …} → 204.
func (e *Emulator) appsRemovePassword(g *gcall) bool {
	a, ok := g.passwordApp("removePassword")
	if !ok {
		return false
	}
	if !g.mayManageApp(a) {
		return g.denied()
	}
	if g.credentialRace(a) {
		return false
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if json.Unmarshal(g.body, &body) != nil {
		return g.badJSON()
	}
	var kept []PasswordCredential
	found := false
	for _, p := range a.PasswordCredentials {
		if strings.EqualFold(p.KeyID, body.KeyID) {
			found = true
			continue
		}
		kept = append(kept, p)
	}
	if !found {
		// Unverified wording: Graph documents no error for an unknown keyId.
		return g.invalidValue("keyId", "PasswordCredential")
	}
	a.PasswordCredentials = kept
	a.credentialWrite = g.e.now()
	writeGraphNoContent(g.w, g.r)
	return true
}

// passwordsKept reports whether a PATCHed passwordCredentials list only keeps or removes
// existing secrets (by keyId); adding one needs addPassword.
func passwordsKept(a *Application, raw json.RawMessage) bool {
	var ps []struct {
		KeyID string `json:"keyId"`
	}
	if json.Unmarshal(raw, &ps) != nil {
		return false
	}
	for _, p := range ps {
		found := false
		if a != nil {
			for _, x := range a.PasswordCredentials {
				found = found || strings.EqualFold(x.KeyID, p.KeyID)
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func keptPasswords(a *Application, raw json.RawMessage) []PasswordCredential {
	var ps []struct {
		KeyID string `json:"keyId"`
	}
	_ = json.Unmarshal(raw, &ps)
	var out []PasswordCredential
	for _, x := range a.PasswordCredentials {
		for _, p := range ps {
			if strings.EqualFold(x.KeyID, p.KeyID) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func hasString(m map[string]json.RawMessage, key string) bool {
	var s string
	return json.Unmarshal(m[key], &s) == nil && strings.TrimSpace(s) != ""
}

// credentialRace answers 409 Directory_ConcurrencyViolation when the app's credentials changed
// less than the tenant's CredentialConcurrencyWindow ago, as Entra does for back-to-back
// credential writes to one app (tenants.md §5; Graph sends no Retry-After we know of).
func (g *gcall) credentialRace(a *Application) bool {
	w := time.Duration(g.t.settings().CredentialConcurrencyWindow)
	if w <= 0 || a.credentialWrite.IsZero() || g.e.now().Sub(a.credentialWrite) >= w {
		return false
	}
	g.fail(http.StatusConflict, "Directory_ConcurrencyViolation", "Error due to concurrent requests being made to the tenant. Please wait briefly and retry.")
	return true
}
