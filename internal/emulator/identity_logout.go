package emulator

import (
	"net/http"
	"net/url"
)

// handleLogout is the end-session endpoint (GET or POST): it signs the browser out (the SSO
// cookie's accounts, or the one named by logout_hint or id_token_hint), tells every app the
// account signed in to through its front-channel logout URL (GET logoutUrl?sid=, no iss, as
// Entra does), and returns to post_logout_redirect_uri only when it is a registered redirect URI
// of the app named by client_id or id_token_hint (or, when neither is sent, of an app the ended
// session signed in to); otherwise it shows "You signed out of your account".
//
// Front-channel logout is the browser's, as Entra's is (facts/endpoints.md §4): the signed-out
// page loads each URL in a hidden iframe, and the emulator itself never calls an app. A browser
// may not load a frame (a public https page framing http://localhost, a self-signed certificate,
// Private Network Access): then the app is not told, as with Entra. The scripted browser
// (emuclient) loads the frames as a browser would.
func (e *Emulator) handleLogout(w http.ResponseWriter, r *http.Request, ps params) {
	e.logout(w, r, ps, false)
}

// handleLogoutV1 is the v1 end-session endpoint {authority}/oauth2/logout, the
// end_session_endpoint of the v1 document (the `identity` package's sign-out, facts
// §2.5): it signs out as v2.0 does (never an account picker), but returns to a
// post_logout_redirect_uri whose origin (scheme, host and port) is that of a registered redirect
// URI ("only works if the base of the uri is registered", facts §5; the Python samples send their
// home page http://localhost:5000/ with /getAToken registered).
func (e *Emulator) handleLogoutV1(w http.ResponseWriter, r *http.Request, ps params) {
	e.logout(w, r, ps, true)
}

func (e *Emulator) logout(w http.ResponseWriter, r *http.Request, ps params, v1 bool) {
	_ = r.ParseForm()
	q := r.Form
	var fail *aadstsError
	var tenantName, redirect string
	var front []string
	e.store.View(func(d *Directory) {
		a, terr := e.resolveAuthority(r, ps, d)
		if terr != nil {
			fail = terr
			return
		}
		tenantName = tenantLabel(a.tenant)
		clientID := q.Get("client_id")
		var hint map[string]any
		if h := q.Get("id_token_hint"); h != "" {
			if c, _ := e.verifyJWT(h); c != nil { // an expired hint still names the app and session
				hint = c
				if aud, _ := c["aud"].(string); clientID == "" {
					clientID = aud
				}
			}
		}
		var apps []appRef
		front, apps = e.signOutLocked(w, r, d, q.Get("logout_hint"), hint)
		if clientID != "" {
			apps = []appRef{{tenant: a.tenant, appID: clientID}}
		}
		// Without client_id or id_token_hint (the Node samples send neither), the apps of the
		// session being ended are the ones the URI may belong to.
		plr := q.Get("post_logout_redirect_uri")
		for _, ref := range apps {
			if plr == "" || redirect != "" {
				break
			}
			if c, ok := e.findClient(d, ref.tenant, ref.appID); ok {
				if ok := logoutTargetAllowed(c.app, plr, v1); ok {
					redirect = redirectTarget(plr)
					if st, has := q["state"]; has {
						u, _ := url.Parse(redirect)
						v := u.Query()
						v.Set("state", st[0])
						u.RawQuery = v.Encode()
						redirect = u.String()
					}
				}
			}
		}
	})
	if fail != nil {
		renderErrorPage(w, "", *fail)
		return
	}
	if len(front) == 0 && redirect != "" {
		w.Header().Set("Location", redirect)
		w.Header().Set("Cache-Control", "no-store, no-cache")
		w.WriteHeader(http.StatusFound)
		return
	}
	renderPage(w, http.StatusOK, "signedout", pageData{Title: "Sign out", Tenant: tenantName, FrontChannel: front, PostLogoutURL: redirect})
}

// logoutTargetAllowed reports whether sign-out may return to plr: a registered redirect URI
// (v2.0), or for v1 a URI on the origin of one.
func logoutTargetAllowed(app *Application, plr string, v1 bool) bool {
	if _, ok := matchRedirect(app, plr); ok {
		return true
	}
	if !v1 {
		return false
	}
	req, err := url.Parse(plr)
	if err != nil || req.Fragment != "" || req.User != nil || req.Host == "" {
		return false
	}
	for _, uris := range [][]string{app.Web.RedirectURIs, app.PublicClient.RedirectURIs, app.Spa.RedirectURIs} {
		for _, reg := range uris {
			if ru, err := url.Parse(reg); err == nil && ru.Host != "" {
				origin := *ru
				origin.Path, origin.RawPath, origin.RawQuery = "/", "", ""
				withPath := *req
				withPath.Path, withPath.RawPath, withPath.RawQuery = "/", "", ""
				if redirectMatches(origin.String(), withPath.String()) {
					return true
				}
			}
		}
	}
	return false
}

// appRef names an app as seen from a tenant.
type appRef struct {
	tenant *Tenant
	appID  string
}

// signOutLocked ends the sessions the request names and returns the front-channel logout URLs
// to call and the apps those sessions had signed in to. d must be locked.
func (e *Emulator) signOutLocked(w http.ResponseWriter, r *http.Request, d *Directory, logoutHint string, idHint map[string]any) ([]string, []appRef) {
	e.identity.mu.Lock()
	defer e.identity.mu.Unlock()
	b := e.identity.browserLocked(r)
	hintOID, hintTID, byHint := accountFromHint(logoutHint)
	hintSID, _ := idHint["sid"].(string)
	var browsers []*browserSession
	if b != nil {
		browsers = []*browserSession{b}
	} else if hintSID != "" || byHint {
		for _, x := range e.identity.browsers {
			browsers = append(browsers, x)
		}
	}
	var urls []string
	var apps []appRef
	for _, br := range browsers {
		kept := br.Accounts[:0]
		for _, acc := range br.Accounts {
			out := false
			switch {
			case byHint:
				out = acc.UserID == hintOID && acc.TenantID == hintTID
			case hintSID != "":
				out = acc.SID == hintSID
			default:
				out = true // no hint: sign the whole browser out rather than ask which account
			}
			if !out {
				kept = append(kept, acc)
				continue
			}
			urls = append(urls, e.frontChannelURLs(d, acc)...)
			for _, id := range acc.Apps {
				apps = append(apps, appRef{tenant: tenantOf(d, acc.TenantID), appID: id})
			}
		}
		br.Accounts = kept
		if len(kept) == 0 {
			delete(e.identity.browsers, br.ID)
		}
	}
	if b != nil && len(b.Accounts) == 0 {
		http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	}
	return urls, apps
}

// frontChannelURLs are logoutUrl?sid=<sid> for each app of an account that has a logout URL.
func (e *Emulator) frontChannelURLs(d *Directory, acc *account) []string {
	t := tenantOf(d, acc.TenantID)
	if t == nil {
		return nil
	}
	var urls []string
	for _, appID := range acc.Apps {
		c, ok := e.findClient(d, t, appID)
		if !ok || c.app.Web.LogoutURL == nil || *c.app.Web.LogoutURL == "" {
			continue
		}
		u, err := url.Parse(*c.app.Web.LogoutURL)
		if err != nil {
			continue
		}
		v := u.Query()
		v.Set("sid", acc.SID)
		u.RawQuery = v.Encode()
		urls = append(urls, u.String())
	}
	return urls
}
