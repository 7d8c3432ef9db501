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
	"strings"
	"time"
)

// signJWT signs claims with the current signing key (RS256). The header carries typ, alg and
// kid; extra header fields (Graph access tokens carry a nonce there) are added as given.
func (e *Emulator) signJWT(claims map[string]any, extraHeader map[string]any) (string, error) {
	k := e.keys.current()
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
}

// graphAccessToken issues a Graph access token in Entra's v1.0 shape: iss sts.windows.net,
// aud Graph's appId, scp for delegated or roles for app-only, idtyp, and a nonce in the header
// (which is why clients cannot validate Graph tokens themselves).
func (e *Emulator) graphAccessToken(req GraphTokenRequest, lifetime time.Duration) (string, time.Time, error) {
	now := e.now()
	exp := now.Add(lifetime)
	c := map[string]any{
		"aud":   GraphAudience,
		"iss":   "https://sts.windows.net/" + req.Tenant.ID + "/",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   exp.Unix(),
		"appid": req.AppID,
		"tid":   req.Tenant.ID,
		"ver":   "1.0",
		"uti":   strings.ReplaceAll(NewGUID(), "-", "")[:22],
	}
	if req.User != nil {
		c["idtyp"] = "user"
		c["oid"] = req.User.ID
		c["sub"] = pairwiseSub(req.User.ID, GraphAudience)
		c["upn"] = req.User.UserPrincipalName
		c["unique_name"] = req.User.UserPrincipalName
		c["name"] = req.User.DisplayName
		c["scp"] = strings.Join(req.Scopes, " ")
	} else {
		c["idtyp"] = "app"
		c["oid"] = req.SPObjectID
		c["sub"] = req.SPObjectID
		if len(req.Roles) > 0 {
			c["roles"] = req.Roles
		}
	}
	tok, err := e.signJWT(c, map[string]any{"nonce": base64.RawURLEncoding.EncodeToString([]byte(NewGUID()))})
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
