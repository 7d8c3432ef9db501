package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// signJWT signs claims with the current signing key (RS256). The header carries typ, alg and
// kid; extra header fields (Graph access tokens carry a nonce there) are added as given.
func (e *Emulator) signJWT(claims map[string]any, extraHeader map[string]any) (string, error) {
	return signJWTWith(e.keys.current(), claims, extraHeader)
}

// signJWTWith signs claims with key k.
func signJWTWith(k *signingKey, claims map[string]any, extraHeader map[string]any) (string, error) {
	h := map[string]any{"typ": "JWT", "alg": "RS256", "kid": k.KID}
	for n, v := range extraHeader {
		h[n] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// errTokenInvalid is any failure to verify a token the emulator issued.
var errTokenInvalid = errors.New("token invalid")

// verifyJWT checks a token's RS256 signature against the published keys and its exp/nbf, and
// returns its claims.
func (e *Emulator) verifyJWT(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWS compact token", errTokenInvalid)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", errTokenInvalid, err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS256" {
		return nil, fmt.Errorf("%w: alg %q", errTokenInvalid, h.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature encoding", errTokenInvalid)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	ok := false
	for _, k := range e.keys.published() {
		if k.KID == h.Kid && rsa.VerifyPKCS1v15(&k.Key.PublicKey, crypto.SHA256, sum[:], sig) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: signature", errTokenInvalid)
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: claims encoding", errTokenInvalid)
	}
	var c map[string]any
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errTokenInvalid, err)
	}
	now := e.now().Unix()
	if exp, _ := c["exp"].(float64); int64(exp) < now {
		return c, fmt.Errorf("%w: expired", errTokenInvalid)
	}
	if nbf, _ := c["nbf"].(float64); int64(nbf) > now+300 {
		return c, fmt.Errorf("%w: not yet valid", errTokenInvalid)
	}
	return c, nil
}

// GraphAudience is the aud of a Microsoft Graph access token (v1.0 tokens, as Graph's are).
const GraphAudience = "00000003-0000-0000-c000-000000000000"

// GraphTokenRequest describes a Graph access token to issue: for a user (delegated, Scopes)
// or for an app (client credentials, Roles).
type GraphTokenRequest struct {
	Tenant *Tenant
	AppID  string   // the client
	User   *User    // nil for app-only
	Scopes []string // delegated scopes granted (values, e.g. "User.Read")
	Roles  []string // application permissions (values)
	// SPObjectID is the client's service principal (the oid of an app-only token).
	SPObjectID string
	// ClientAuth is how the client proved itself (the appidacr claim): "0" public client, "1"
	// client secret, "2" certificate. Empty: "1" for app-only tokens, "0" for delegated ones.
	ClientAuth string
}

// ClientAuthClass is the appidacr value for a token request's form: "2" when the client sent an
// assertion (certificate), "1" a secret, "0" nothing (a public client).
func ClientAuthClass(form url.Values) string {
	switch {
	case form.Get("client_assertion") != "":
		return "2"
	case form.Has("client_secret"):
		return "1"
	}
	return "0"
}

// defaultMemberRole is the template id every member's Graph token lists in wids besides its
// directory roles (tenants.md §1: "wids" carries the roles' template ids and this one).
const defaultMemberRole = "b79fbf4d-3ef9-4689-8143-76b194e85509"

// clientDisplayName is the client's name as app_displayname carries it: its service principal
// in the token's tenant, its registration there, or the first-party app's name.
func clientDisplayName(t *Tenant, appID string) string {
	if sp := t.SPByAppID(appID); sp != nil && sp.DisplayName != "" {
		return sp.DisplayName
	}
	if a := t.AppByAppID(appID); a != nil {
		return a.DisplayName
	}
	if c, ok := firstPartyClient(appID); ok {
		return c.name()
	}
	return ""
}

// graphAccessToken issues a Graph access token in Entra's v1.0 shape (Graph's tokens are v1.0
// whichever endpoint issued them; facts/identity.md §1, the access token claims reference): iss
// sts.windows.net, aud Graph's appId, appid/appidacr (v1.0 only, where v2.0 has azp/azpacr),
// app_displayname, idtyp, and for a user upn, unique_name, name, given_name/family_name, amr,
// acr, scp and wids; for an app roles and idp. The header carries a nonce (which is why clients
// cannot validate Graph tokens themselves) and x5t, which v1.0 tokens repeat from kid.
func (e *Emulator) graphAccessToken(req GraphTokenRequest, lifetime time.Duration) (string, time.Time, error) {
	now := e.now()
	exp := now.Add(lifetime)
	iss := "https://sts.windows.net/" + req.Tenant.ID + "/"
	c := map[string]any{
		"aud":   GraphAudience,
		"iss":   iss,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   exp.Unix(),
		"aio":   base64.RawURLEncoding.EncodeToString([]byte(NewGUID()))[:32],
		"appid": req.AppID,
		"tid":   req.Tenant.ID,
		"ver":   "1.0",
		"uti":   strings.ReplaceAll(NewGUID(), "-", "")[:22],
		"rh":    "0." + base64.RawURLEncoding.EncodeToString([]byte(req.Tenant.ID))[:40] + ".",
	}
	if name := clientDisplayName(req.Tenant, req.AppID); name != "" {
		c["app_displayname"] = name
	}
	acr := req.ClientAuth
	if req.User != nil {
		if acr == "" {
			acr = "0"
		}
		u := req.User
		c["idtyp"] = "user"
		c["oid"] = u.ID
		c["sub"] = pairwiseSub(u.ID, GraphAudience)
		c["upn"] = u.UserPrincipalName
		c["unique_name"] = u.UserPrincipalName
		c["name"] = u.DisplayName
		if u.GivenName != "" {
			c["given_name"] = u.GivenName
		}
		if u.Surname != "" {
			c["family_name"] = u.Surname
		}
		c["acct"] = 0
		c["acr"] = "1"
		c["amr"] = []string{"pwd"}
		c["scp"] = strings.Join(req.Scopes, " ")
		wids := []string{}
		for _, r := range u.Roles {
			if id := RoleTemplateID(r); id != "" {
				wids = append(wids, id)
			}
		}
		c["wids"] = append(wids, defaultMemberRole)
	} else {
		if acr == "" {
			acr = "1"
		}
		c["idtyp"] = "app"
		c["idp"] = iss
		c["oid"] = req.SPObjectID
		c["sub"] = req.SPObjectID
		if len(req.Roles) > 0 {
			c["roles"] = req.Roles
		}
	}
	c["appidacr"] = acr
	k := e.keys.current()
	tok, err := signJWTWith(k, c, map[string]any{"x5t": k.KID, "nonce": base64.RawURLEncoding.EncodeToString([]byte(NewGUID()))})
	return tok, exp, err
}

// pairwiseSub is the sub claim: stable per user and app, different across apps.
func pairwiseSub(userID, appID string) string {
	s := sha256.Sum256([]byte(userID + "|" + strings.ToLower(appID)))
	return base64.RawURLEncoding.EncodeToString(s[:])[:43]
}

// Caller is who a Graph request acts as, from its verified bearer token.
type Caller struct {
	Tenant *Tenant
	AppID  string
	UserID string // empty for app-only
	Scopes []string
	Roles  []string
}

// Delegated reports whether the call acts for a signed-in user.
func (c *Caller) Delegated() bool { return c.UserID != "" }

// Has reports whether the caller holds any of the permissions (scope or role values).
func (c *Caller) Has(perms ...string) bool {
	for _, p := range perms {
		for _, s := range c.Scopes {
			if strings.EqualFold(s, p) {
				return true
			}
		}
		for _, s := range c.Roles {
			if strings.EqualFold(s, p) {
				return true
			}
		}
	}
	return false
}

// graphCaller verifies a Graph request's bearer token and finds its tenant. On failure it has
// written Graph's 401 and returns nil. d must be the locked directory.
func (e *Emulator) graphCaller(w http.ResponseWriter, r *http.Request, d *Directory) *Caller {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return nil
	}
	c, err := e.verifyJWT(tok)
	if err != nil {
		msg := "Access token validation failure."
		if strings.Contains(err.Error(), "expired") {
			msg = "Lifetime validation failed, the token is expired."
		}
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return nil
	}
	if aud, _ := c["aud"].(string); aud != GraphAudience && aud != "https://graph.microsoft.com" && aud != "https://graph.microsoft.com/" {
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return nil
	}
	tid, _ := c["tid"].(string)
	t := d.Tenant(tid)
	if t == nil {
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid tenant.")
		return nil
	}
	caller := &Caller{Tenant: t}
	caller.AppID, _ = c["appid"].(string)
	if idtyp, _ := c["idtyp"].(string); idtyp == "user" {
		caller.UserID, _ = c["oid"].(string)
	}
	if scp, _ := c["scp"].(string); scp != "" {
		caller.Scopes = strings.Fields(scp)
	}
	if roles, _ := c["roles"].([]any); roles != nil {
		for _, x := range roles {
			if s, ok := x.(string); ok {
				caller.Roles = append(caller.Roles, s)
			}
		}
	}
	return caller
}
