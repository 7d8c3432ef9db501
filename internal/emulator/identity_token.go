package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authCode is an issued authorization code: single use, ten minutes.
type authCode struct {
	ClientID    string
	TenantID    string
	UserID      string
	RedirectURI string
	Platform    platform
	Scope       string
	Nonce       string
	Challenge   string
	Method      string
	SID         string
	Expires     time.Time
	Used        bool
}

// refreshGrant is what a refresh token stands for. Redeeming one issues a new refresh token
// and leaves the old one valid, as Entra does.
type refreshGrant struct {
	ClientID string
	TenantID string
	UserID   string
	SID      string
	Scope    string
	Public   bool
	Expires  time.Time
}

// deviceGrant is a pending device code sign-in.
type deviceGrant struct {
	DeviceCode string
	UserCode   string
	ClientID   string
	TenantID   string
	Scope      string
	Expires    time.Time
	Approved   bool
	Declined   bool
	Redeemed   bool
	UserID     string
	SID        string
}

// tokenErr is a token-endpoint error: 401 for invalid_client, 400 otherwise.
type tokenErr struct {
	code     string
	a        aadstsError
	suberror string
}

func (t *tokenErr) write(w http.ResponseWriter) {
	status := http.StatusBadRequest
	if t.code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	var extra [][2]string
	if t.suberror != "" {
		extra = append(extra, [2]string{"suberror", t.suberror})
	}
	writeOAuthError(w, status, t.code, t.a, extra...)
}

func (e *Emulator) terr(code string, aadcode int, text string) *tokenErr {
	return &tokenErr{code: code, a: aadsts(e.now(), aadcode, text)}
}

const (
	grantDeviceCode   = "urn:ietf:params:oauth:grant-type:device_code"
	assertionTypeJWT  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	accessTokenExpiry = 3599 * time.Second
)

// tokenRequest is a parsed token request.
type tokenRequest struct {
	r        *http.Request
	form     url.Values
	auth     authority
	clientID string
}

// handleToken is the token endpoint.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, ps params) {
	if err := r.ParseForm(); err != nil {
		e.terr("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.").write(w)
		return
	}
	var body map[string]any
	var fail *tokenErr
	e.store.View(func(d *Directory) {
		body, fail = e.token(r, ps, d)
	})
	if fail != nil {
		fail.write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

func (e *Emulator) token(r *http.Request, ps params, d *Directory) (map[string]any, *tokenErr) {
	a, terr := e.resolveAuthority(r, ps, d)
	if terr != nil {
		return nil, &tokenErr{code: "invalid_request", a: *terr}
	}
	form := r.PostForm
	req := &tokenRequest{r: r, form: form, auth: a, clientID: strings.TrimSpace(form.Get("client_id"))}
	if user, _, ok := r.BasicAuth(); ok && req.clientID == "" {
		req.clientID, _ = url.QueryUnescape(user)
	}
	gt := form.Get("grant_type")
	if gt == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "grant_type")}
	}
	if req.clientID == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "client_id")}
	}
	switch gt {
	case "authorization_code":
		return e.redeemCode(req, d)
	case "refresh_token":
		return e.redeemRefresh(req, d)
	case "client_credentials":
		return e.clientCredentials(req, d)
	case grantDeviceCode, "device_code": // the RFC's URN, and the short form MSAL sends
		return e.redeemDeviceCode(req, d)
	}
	return nil, e.terr("unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
}

// clientFor finds the client in a tenant for the token endpoint, where an unknown (or not yet
// replicated) app is unauthorized_client.
func (e *Emulator) clientFor(d *Directory, t *Tenant, req *tokenRequest) (client, *tokenErr) {
	c, ok := e.findClient(d, t, req.clientID)
	if !ok {
		return client{}, &tokenErr{code: "unauthorized_client", a: appNotFound(e, req.clientID, authority{tenant: t})}
	}
	return c, nil
}

func (e *Emulator) redeemCode(req *tokenRequest, d *Directory) (map[string]any, *tokenErr) {
	codeStr := req.form.Get("code")
	if codeStr == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "code")}
	}
	now := e.now()
	e.identity.mu.Lock()
	code := e.identity.codes[codeStr]
	var prev authCode
	if code != nil {
		prev = *code
		if !code.Used && !now.After(code.Expires) && strings.EqualFold(code.ClientID, req.clientID) {
			code.Used = true // single use, even when what follows fails
		}
	}
	e.identity.mu.Unlock()
	switch {
	case code == nil:
		return nil, e.terr("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. The provided authorization code is not valid.")
	case prev.Used:
		return nil, e.terr("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case now.After(prev.Expires):
		return nil, e.terr("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(prev.ClientID, req.clientID):
		return nil, e.terr("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. The code was issued to a different client.")
	case req.auth.tenant != nil && req.auth.tenant.ID != prev.TenantID:
		return nil, e.terr("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. The code was issued for a different tenant.")
	}
	t := tenantOf(d, prev.TenantID)
	c, terr := e.clientFor(d, t, req)
	if terr != nil {
		return nil, terr
	}
	if err := e.authenticateForPlatform(req, d, t, c, prev.Platform); err != nil {
		return nil, err
	}
	ru := req.form.Get("redirect_uri")
	if ru == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "redirect_uri")}
	}
	if !redirectMatches(prev.RedirectURI, ru) {
		return nil, e.terr("invalid_grant", 70000, "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.")
	}
	if prev.Challenge != "" {
		v := req.form.Get("code_verifier") // MSAL Go sends "code_verifier=" for none
		if v == "" || !pkceMatches(prev.Challenge, prev.Method, v) {
			return nil, e.terr("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	u := t.UserByID(prev.UserID)
	if u == nil {
		return nil, e.terr("invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	scope := req.form.Get("scope")
	if strings.TrimSpace(scope) == "" {
		scope = prev.Scope
	}
	return e.userTokens(req, d, t, u, c, scope, prev.Nonce, prev.SID, prev.Platform == platformPublic)
}

// pkceMatches checks a code_verifier against the challenge (RFC 7636).
func pkceMatches(challenge, method, verifier string) bool {
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
	}
	return verifier == challenge
}

// userTokens answers a delegated grant: the consent must cover the scopes asked for (else
// AADSTS65001 with suberror consent_required), then a Graph access token, an ID token with
// openid, a refresh token with offline_access, and client_info when asked.
func (e *Emulator) userTokens(req *tokenRequest, d *Directory, t *Tenant, u *User, c client, scope, nonce, sid string, public bool) (map[string]any, *tokenErr) {
	sc := parseScopes(scope)
	if sc.other != "" {
		return nil, &tokenErr{code: "invalid_resource", a: resourceNotFound(e, sc.other, authority{tenant: t})}
	}
	need, unknown := neededPermissions(t, c, sc)
	if unknown != "" {
		return nil, e.terr("invalid_client", 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", c.name(), unknown, GraphAppID))
	}
	granted := e.grantedPermissions(t, c, u.ID)
	if miss := missingPermissions(need, granted); len(miss) > 0 {
		te := e.terr("invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", c.app.AppID, c.name()))
		te.suberror = "consent_required"
		return nil, te
	}
	at, _, err := e.graphAccessToken(GraphTokenRequest{Tenant: t, AppID: c.app.AppID, User: u, Scopes: accessScopes(granted), ClientAuth: ClientAuthClass(req.form)}, accessTokenExpiry)
	if err != nil {
		return nil, e.terr("server_error", 90033, "A transient error has occurred. Please try again.")
	}
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          answerScope(sc, granted),
		"expires_in":     int(accessTokenExpiry.Seconds()),
		"ext_expires_in": int(accessTokenExpiry.Seconds()),
		"access_token":   at,
	}
	if sc.has("offline_access") {
		rt := randomToken("1.A", 96)
		e.identity.mu.Lock()
		e.identity.sweepLocked(e.now())
		e.identity.refresh[rt] = &refreshGrant{ClientID: c.app.AppID, TenantID: t.ID, UserID: u.ID, SID: sid, Scope: scope, Public: public, Expires: e.now().Add(refreshLifetime)}
		e.identity.mu.Unlock()
		body["refresh_token"] = rt
		body["refresh_token_expires_in"] = int(refreshLifetime.Seconds())
	}
	if sc.has("openid") {
		idt, err := e.idToken(idTokenRequest{site: req.auth.site, tenant: t, user: u, client: c, scopes: sc, nonce: nonce, sid: sid})
		if err != nil {
			return nil, e.terr("server_error", 90033, "A transient error has occurred. Please try again.")
		}
		body["id_token"] = idt
	}
	if req.form.Get("client_info") == "1" {
		body["client_info"] = clientInfo(u.ID, t.ID)
	}
	return body, nil
}

func (e *Emulator) redeemRefresh(req *tokenRequest, d *Directory) (map[string]any, *tokenErr) {
	rt := req.form.Get("refresh_token")
	if rt == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "refresh_token")}
	}
	e.identity.mu.Lock()
	g := e.identity.refresh[rt]
	var prev refreshGrant
	if g != nil {
		prev = *g
	}
	e.identity.mu.Unlock()
	switch {
	case g == nil:
		return nil, e.terr("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. The provided refresh token is not valid.")
	case e.now().After(prev.Expires):
		return nil, e.terr("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(prev.ClientID, req.clientID):
		return nil, e.terr("invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. The refresh token was issued to a different client.")
	case req.auth.tenant != nil && req.auth.tenant.ID != prev.TenantID:
		return nil, e.terr("invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. The refresh token was issued for a different tenant.")
	}
	t := tenantOf(d, prev.TenantID)
	c, terr := e.clientFor(d, t, req)
	if terr != nil {
		return nil, terr
	}
	plat := platformWeb
	if prev.Public {
		plat = platformPublic
	}
	if err := e.authenticateForPlatform(req, d, t, c, plat); err != nil {
		return nil, err
	}
	u := t.UserByID(prev.UserID)
	if u == nil {
		return nil, e.terr("invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	scope := req.form.Get("scope")
	if strings.TrimSpace(scope) == "" {
		scope = prev.Scope
	}
	// A refreshed sign-in keeps offline access: Entra always answers with a new refresh token.
	if !parseScopes(scope).has("offline_access") {
		scope += " offline_access"
	}
	return e.userTokens(req, d, t, u, c, scope, "", prev.SID, prev.Public)
}

func (e *Emulator) clientCredentials(req *tokenRequest, d *Directory) (map[string]any, *tokenErr) {
	t := req.auth.tenant
	if t == nil {
		return nil, e.terr("invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	}
	scope := strings.TrimSpace(req.form.Get("scope"))
	if scope == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "scope")}
	}
	for _, s := range strings.Fields(scope) {
		// MSAL Go adds openid, offline_access and profile even here; Entra ignores them.
		if !strings.HasSuffix(s, "/.default") && !isOIDCScope(s) {
			return nil, e.terr("invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", s))
		}
	}
	sc := parseScopes(scope)
	if sc.other != "" || !sc.graphDefault {
		return nil, &tokenErr{code: "invalid_resource", a: resourceNotFound(e, scope, req.auth)}
	}
	c, terr := e.clientFor(d, t, req)
	if terr != nil {
		return nil, terr
	}
	if err := e.authenticateForPlatform(req, d, t, c, platformWeb); err != nil {
		return nil, err
	}
	sp := t.SPByAppID(c.app.AppID)
	if sp == nil {
		return nil, e.terr("invalid_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", c.app.AppID, t.ID))
	}
	if !e.visible(sp.VisibleAt) {
		return nil, &tokenErr{code: "unauthorized_client", a: appNotFound(e, c.app.AppID, req.auth)}
	}
	at, _, err := e.graphAccessToken(GraphTokenRequest{Tenant: t, AppID: c.app.AppID, Roles: append([]string(nil), sp.AppRoleAssignments...), SPObjectID: sp.ID, ClientAuth: ClientAuthClass(req.form)}, accessTokenExpiry)
	if err != nil {
		return nil, e.terr("server_error", 90033, "A transient error has occurred. Please try again.")
	}
	// No scope in the answer: MSAL then treats every requested scope as granted.
	return map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(accessTokenExpiry.Seconds()),
		"ext_expires_in": int(accessTokenExpiry.Seconds()),
		"access_token":   at,
	}, nil
}

func (e *Emulator) redeemDeviceCode(req *tokenRequest, d *Directory) (map[string]any, *tokenErr) {
	dc := req.form.Get("device_code")
	if dc == "" {
		return nil, &tokenErr{code: "invalid_request", a: missingParam(e, "device_code")}
	}
	e.identity.mu.Lock()
	g := e.identity.devices[dc]
	var prev deviceGrant
	if g != nil {
		prev = *g
		if g.Approved && !g.Redeemed && strings.EqualFold(g.ClientID, req.clientID) {
			g.Redeemed = true
		}
	}
	e.identity.mu.Unlock()
	switch {
	case g == nil || !strings.EqualFold(prev.ClientID, req.clientID):
		return nil, e.terr("invalid_grant", 70000, "The provided value for the input parameter 'device_code' is not valid.")
	case prev.Redeemed:
		return nil, e.terr("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case prev.Declined:
		return nil, e.terr("authorization_declined", 70000, "The user has denied access to the app.")
	case e.now().After(prev.Expires):
		return nil, e.terr("expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	case !prev.Approved:
		return nil, e.terr("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	t := tenantOf(d, prev.TenantID)
	c, terr := e.clientFor(d, t, req)
	if terr != nil {
		return nil, terr
	}
	plat := platformWeb
	if c.public() {
		plat = platformPublic
	}
	if err := e.authenticateForPlatform(req, d, t, c, plat); err != nil {
		return nil, err
	}
	u := t.UserByID(prev.UserID)
	if u == nil {
		return nil, e.terr("invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	return e.userTokens(req, d, t, u, c, prev.Scope, "", prev.SID, c.public())
}

func isOIDCScope(s string) bool {
	for _, o := range oidcScopes {
		if strings.EqualFold(o, s) {
			return true
		}
	}
	return false
}
