package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

var grantsCollection = collection{
	set: "oauth2PermissionGrants", typ: "microsoft.graph.oAuth2PermissionGrant", resource: "OAuth2PermissionGrant",
	filterable: []string{"clientId", "consentType", "principalId", "resourceId", "id"},
	template:   grantTemplate,
}

// grantID is Graph's id for a delegated grant: base64url (no padding) of the little-endian
// (.NET) bytes of clientId, resourceId and, for a Principal grant, principalId.
func grantID(clientID, resourceID string, principalID *string) string {
	var b []byte
	for _, s := range []string{clientID, resourceID} {
		b = append(b, guidBytesLE(s)...)
	}
	if principalID != nil {
		b = append(b, guidBytesLE(*principalID)...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// guidBytesLE is a GUID in .NET's byte order: the first three groups little-endian.
func guidBytesLE(s string) []byte {
	u, err := uuid.Parse(s)
	if err != nil {
		return make([]byte, 16)
	}
	b := u[:]
	return []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
}

// visibleGrants are the grants this call can see: replicated, and of a live client.
func (g *gcall) visibleGrants() []*Grant {
	var out []*Grant
	for _, gr := range g.t.Grants {
		if g.sees(gr.VisibleAt) && g.t.SPByID(gr.ClientID) != nil {
			out = append(out, gr)
		}
	}
	return out
}

func (e *Emulator) grantsList(g *gcall) bool {
	var items []map[string]any
	for _, gr := range g.visibleGrants() {
		items = append(items, renderGrant(gr))
	}
	return g.list(grantsCollection, items)
}

func (g *gcall) findGrant() *Grant {
	for _, gr := range g.visibleGrants() {
		if gr.ID == g.p["id"] {
			return gr
		}
	}
	return nil
}

func (e *Emulator) grantsGet(g *gcall) bool {
	gr := g.findGrant()
	if gr == nil {
		return g.notFound(g.p["id"])
	}
	return g.entity(http.StatusOK, grantsCollection, renderGrant(gr))
}

// grantsCreate is POST /oauth2PermissionGrants: tenant-wide (AllPrincipals) or per-user
// (Principal) consent. The client and resource service principals must be visible (404
// during replication lag); a second grant for the same key is "Permission entry already
// exists." (400 today, 409 with FaultConfig.DuplicateGrantConflict as in 2021).
func (e *Emulator) grantsCreate(g *gcall) bool {
	if !g.mayConsentForOrg() {
		return g.denied()
	}
	var in struct {
		ClientID    string  `json:"clientId"`
		ConsentType string  `json:"consentType"`
		PrincipalID *string `json:"principalId"`
		ResourceID  string  `json:"resourceId"`
		Scope       string  `json:"scope"`
	}
	if json.Unmarshal(g.body, &in) != nil {
		return g.badJSON()
	}
	switch {
	case !isGUID(in.ClientID):
		return g.invalidValue("clientId", "OAuth2PermissionGrant")
	case !isGUID(in.ResourceID):
		return g.invalidValue("resourceId", "OAuth2PermissionGrant")
	case in.ConsentType != "AllPrincipals" && in.ConsentType != "Principal":
		return g.invalidValue("consentType", "OAuth2PermissionGrant")
	case in.ConsentType == "AllPrincipals" && in.PrincipalID != nil:
		return g.invalidValue("principalId", "OAuth2PermissionGrant")
	case in.ConsentType == "Principal" && (in.PrincipalID == nil || !isGUID(*in.PrincipalID)):
		return g.invalidValue("principalId", "OAuth2PermissionGrant")
	case len(in.Scope) > 3850:
		return g.invalidValue("scope", "OAuth2PermissionGrant")
	}
	for _, id := range []string{in.ClientID, in.ResourceID} {
		if s := g.t.SPByID(id); s == nil || !g.sees(s.VisibleAt) {
			return g.notFound(id)
		}
	}
	if in.PrincipalID != nil && g.t.UserByID(*in.PrincipalID) == nil {
		return g.notFound(*in.PrincipalID)
	}
	id := grantID(strings.ToLower(in.ClientID), strings.ToLower(in.ResourceID), in.PrincipalID)
	for _, gr := range g.t.Grants {
		// Keyed by (client, resource, principal), whoever made the grant (the consent page too).
		if gr.ID == id || strings.EqualFold(gr.ClientID, in.ClientID) && strings.EqualFold(gr.ResourceID, in.ResourceID) &&
			gr.ConsentType == in.ConsentType && strings.EqualFold(deref(gr.PrincipalID), deref(in.PrincipalID)) {
			if g.e.faults.config().DuplicateGrantConflict {
				return g.fail(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
			}
			return g.fail(http.StatusBadRequest, "Request_BadRequest", "Permission entry already exists.")
		}
	}
	gr := &Grant{
		ID: id, ClientID: strings.ToLower(in.ClientID), ConsentType: in.ConsentType, PrincipalID: in.PrincipalID,
		ResourceID: strings.ToLower(in.ResourceID), Scope: in.Scope, VisibleAt: g.e.visibleAt(),
	}
	g.t.Grants = append(g.t.Grants, gr)
	g.entity(http.StatusCreated, grantsCollection, renderGrant(gr))
	return true
}

// grantsPatch changes a grant's scope → 204.
func (e *Emulator) grantsPatch(g *gcall) bool {
	if !g.mayConsentForOrg() {
		return g.denied()
	}
	gr := g.findGrant()
	if gr == nil {
		return g.notFound(g.p["id"])
	}
	m, ok := g.decodeObject()
	if !ok {
		return false
	}
	for k, raw := range m {
		switch k {
		case "scope":
			var s string
			if json.Unmarshal(raw, &s) != nil || len(s) > 3850 {
				return g.invalidValue("scope", "OAuth2PermissionGrant")
			}
			gr.Scope = s
		case "id", "clientId", "consentType", "principalId", "resourceId":
			// keys of the grant: ignored, as Graph does for unchanged values
		default:
			return g.unknownProperty(k, "microsoft.graph.oAuth2PermissionGrant")
		}
	}
	writeGraphNoContent(g.w, g.r)
	return true
}

func (e *Emulator) grantsDelete(g *gcall) bool {
	if !g.mayConsentForOrg() {
		return g.denied()
	}
	gr := g.findGrant()
	if gr == nil {
		return g.notFound(g.p["id"])
	}
	g.t.Grants = removeGrant(g.t.Grants, gr.ID)
	writeGraphNoContent(g.w, g.r)
	return true
}

func removeGrant(gs []*Grant, id string) []*Grant {
	var out []*Grant
	for _, x := range gs {
		if x.ID != id {
			out = append(out, x)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func isGUID(s string) bool { return len(s) == 36 && guidRE.MatchString(s) }
