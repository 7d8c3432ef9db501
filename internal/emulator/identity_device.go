package emulator

import (
	"crypto/rand"
	"net/http"
	"strings"
)

// The device code flow (RFC 8628): the device asks for a code, the user enters it on the
// verification page in any browser and signs in there (login, consent), the device polls the
// token endpoint until the sign-in is done.

// handleDeviceCode is {authority}/oauth2/v2.0/devicecode.
func (e *Emulator) handleDeviceCode(w http.ResponseWriter, r *http.Request, ps params) {
	_ = r.ParseForm()
	var body map[string]any
	var fail *tokenErr
	e.store.View(func(d *Directory) {
		a, terr := e.resolveAuthority(r, ps, d)
		if terr != nil {
			fail = &tokenErr{code: "invalid_request", a: *terr}
			return
		}
		clientID := strings.TrimSpace(r.PostForm.Get("client_id"))
		if clientID == "" {
			fail = &tokenErr{code: "invalid_request", a: missingParam(e, "client_id")}
			return
		}
		c, ok := e.findClient(d, a.tenant, clientID)
		if !ok {
			fail = &tokenErr{code: "unauthorized_client", a: appNotFound(e, clientID, a)}
			return
		}
		scope := r.PostForm.Get("scope")
		if strings.TrimSpace(scope) == "" {
			fail = &tokenErr{code: "invalid_request", a: missingParam(e, "scope")}
			return
		}
		if sc := parseScopes(scope); sc.other != "" {
			fail = &tokenErr{code: "invalid_resource", a: resourceNotFound(e, sc.other, a)}
			return
		}
		g := &deviceGrant{DeviceCode: randomToken("DAQABAAEAAAA", 96), UserCode: userCode(), ClientID: c.app.AppID, Scope: scope, Expires: e.now().Add(deviceLifetime)}
		if a.tenant != nil {
			g.TenantID = a.tenant.ID
		}
		verify := a.site.loginBase + "/common/oauth2/deviceauth"
		if a.site.kind == siteCIAM {
			verify = a.endpointBase() + "/oauth2/deviceauth"
		}
		e.identity.mu.Lock()
		e.identity.sweepLocked(e.now())
		e.identity.devices[g.DeviceCode] = g
		e.identity.userCode[g.UserCode] = g.DeviceCode
		e.identity.mu.Unlock()
		body = map[string]any{
			"user_code":        g.UserCode,
			"device_code":      g.DeviceCode,
			"verification_uri": verify,
			"expires_in":       int(deviceLifetime.Seconds()),
			"interval":         devicePollEvery,
			"message":          "To sign in, use a web browser to open the page " + verify + " and enter the code " + g.UserCode + " to authenticate.",
		}
	})
	if fail != nil {
		fail.write(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// userCode is a code a person can type: nine letters and digits without look-alikes.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// handleDeviceAuth is the verification page: enter the code, then sign in as usual.
func (e *Emulator) handleDeviceAuth(w http.ResponseWriter, r *http.Request, ps params) {
	_ = r.ParseForm()
	s := siteOf(r)
	pageBase := s.base
	if ps["tenant"] != "" {
		pageBase += "/" + ps["tenant"]
	}
	action := pageBase + "/oauth2/deviceauth"
	code := strings.ToUpper(strings.TrimSpace(r.Form.Get("otc")))
	if r.Method != http.MethodPost || code == "" {
		renderPage(w, http.StatusOK, "device", pageData{Title: "Enter code", Action: action, Username: code})
		return
	}
	e.identity.mu.Lock()
	g := e.identity.devices[e.identity.userCode[code]]
	var prev deviceGrant
	if g != nil {
		prev = *g
	}
	e.identity.mu.Unlock()
	if g == nil || e.now().After(prev.Expires) || prev.Approved || prev.Declined {
		renderPage(w, http.StatusBadRequest, "device", pageData{Title: "Enter code", Action: action, Username: code,
			Error: "That code didn't work. Check the code and try again."})
		return
	}
	f := &authFlow{ID: randomToken("", 24), Expires: prev.Expires, Site: s, PageBase: pageBase, TenantID: prev.TenantID,
		ClientID: prev.ClientID, Scope: prev.Scope, Device: prev.DeviceCode, Prompt: "select_account"}
	if prev.TenantID == "" {
		f.Multi = "organizations"
	}
	var out respond
	e.store.View(func(d *Directory) {
		e.identity.mu.Lock()
		e.identity.flows[f.ID] = f
		e.identity.mu.Unlock()
		out = e.advance(w, r, d, f)
	})
	out(w, r)
}
