package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// idTokenRequest is what an ID token is made from.
type idTokenRequest struct {
	site        site
	tenant      *Tenant
	user        *User
	client      client
	scopes      scopeSet
	nonce       string
	sid         string
	code        string // for c_hash (hybrid flow)
	accessToken string // for at_hash (implicit flow)
}

// idToken issues a v2.0 ID token with Entra's claims (facts/identity.md §3): name, oid and
// preferred_username with the profile scope, email with the email scope when the user has one,
// a pairwise sub, sid, the opaque aio/rh/uti, and login_hint when the app asks for that
// optional claim.
func (e *Emulator) idToken(req idTokenRequest) (string, error) {
	now := e.now()
	t, u := req.tenant, req.user
	c := map[string]any{
		"aud": req.client.app.AppID,
		"iss": issuerFor(req.site, t),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(tokenLifetime).Unix(),
		"sub": pairwiseSub(u.ID, req.client.app.AppID),
		"tid": t.ID,
		"ver": "2.0",
		"aio": opaque(54),
		"rh":  "0.A" + opaque(40) + ".",
		"uti": opaque(22),
	}
	if req.scopes.has("profile") {
		c["name"] = u.DisplayName
		c["oid"] = u.ID
		c["preferred_username"] = signInName(t, u)
	}
	if req.scopes.has("email") && u.Mail != "" {
		c["email"] = u.Mail
	}
	if req.nonce != "" {
		c["nonce"] = req.nonce
	}
	if req.sid != "" {
		c["sid"] = req.sid
	}
	if req.code != "" {
		c["c_hash"] = halfHash(req.code)
	}
	if req.accessToken != "" {
		c["at_hash"] = halfHash(req.accessToken)
	}
	if wantsOptionalClaim(req.client.app, "login_hint") {
		c["login_hint"] = loginHint(u.ID, t.ID, signInName(t, u))
	}
	return e.signJWT(c, nil)
}

// halfHash is the OIDC c_hash / at_hash: the left half of SHA-256, base64url.
func halfHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func opaque(n int) string {
	return randomToken("", n)[:n]
}

// loginHint is the login_hint optional claim: an opaque value that end-session accepts as
// logout_hint to pick the account without asking.
func loginHint(oid, tid, username string) string {
	b, _ := json.Marshal(map[string]string{"oid": oid, "tid": tid, "upn": username})
	return base64.RawURLEncoding.EncodeToString(b)
}

// accountFromHint reads a login_hint claim back.
func accountFromHint(h string) (oid, tid string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	var v map[string]string
	if json.Unmarshal(b, &v) != nil {
		return "", "", false
	}
	return v["oid"], v["tid"], v["oid"] != ""
}

// wantsOptionalClaim reports whether the app's optionalClaims.idToken names a claim.
func wantsOptionalClaim(app *Application, name string) bool {
	raw, ok := app.Extra["optionalClaims"]
	if !ok {
		return false
	}
	var oc struct {
		IDToken []struct {
			Name string `json:"name"`
		} `json:"idToken"`
	}
	if json.Unmarshal(raw, &oc) != nil {
		return false
	}
	for _, x := range oc.IDToken {
		if strings.EqualFold(x.Name, name) {
			return true
		}
	}
	return false
}

// clientInfo is the client_info MSAL asks for: base64url of {"uid":oid,"utid":tid}.
func clientInfo(oid, tid string) string {
	b, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// accessScopes is the scp of a delegated Graph token: every consented Graph permission but
// offline_access (Entra puts the whole consented set in, not only what was asked).
func accessScopes(granted map[string]string) []string {
	var out []string
	for _, v := range sortedValues(granted) {
		if !strings.EqualFold(v, "offline_access") {
			out = append(out, v)
		}
	}
	return out
}

// answerScope is the scope field of a token answer: the requested resource scopes verbatim
// (MSAL fails on a requested scope missing from the answer), then the other consented Graph
// permissions, then the OpenID scopes asked for except offline_access.
func answerScope(sc scopeSet, granted map[string]string) string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	prefix := ""
	for _, r := range sc.resource {
		add(r)
		if i := strings.LastIndex(r, "/"); i >= 0 {
			prefix = r[:i+1]
		}
	}
	for _, g := range sc.graph {
		seen[strings.ToLower(g)] = true
	}
	for _, v := range sortedValues(granted) {
		low := strings.ToLower(v)
		isOIDC := false
		for _, o := range oidcScopes {
			isOIDC = isOIDC || o == low
		}
		if isOIDC {
			continue
		}
		if !seen[low] {
			add(prefix + v)
			seen[low] = true
		}
	}
	for _, o := range sc.oidc {
		if o != "offline_access" {
			if _, ok := granted[o]; ok || len(granted) == 0 {
				add(o)
			}
		}
	}
	return strings.Join(out, " ")
}
