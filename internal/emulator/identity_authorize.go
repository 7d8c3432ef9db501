package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authFlow is one pending interactive sign-in: the validated authorize request, carried
// through the login, account picker, consent and sign-up pages by its id.
type authFlow struct {
	ID       string
	Expires  time.Time
	Site     site
	PageBase string
	TenantID string // "" for /common until the user is known
	Multi    string
	ClientID string

	RedirectURI  string // as requested; the code is bound to it
	Target       string // where the answer goes
	Platform     platform
	ResponseType []string
	ResponseMode string
	State        string
	HasState     bool
	Nonce        string
	Scope        string
	Challenge    string
	Method       string
	Prompt       string
	LoginHint    string
	ClientInfo   bool

	// Device is the device_code this flow approves (device code flow): no redirect.
	Device string

	// Set once the user is known.
	UserID     string
	UserTenant string
	SID        string
	Consented  bool // prompt=consent was satisfied in this flow
}

func (f *authFlow) wants(rt string) bool {
	for _, x := range f.ResponseType {
		if x == rt {
			return true
		}
	}
	return false
}

// respond is an answer computed under the locks and written after they are released.
type respond func(w http.ResponseWriter, r *http.Request)

func errorPage(tenantName string, a aadstsError) respond {
	return func(w http.ResponseWriter, _ *http.Request) { renderErrorPage(w, tenantName, a) }
}

func page(status int, name string, data pageData) respond {
	return func(w http.ResponseWriter, _ *http.Request) { renderPage(w, status, name, data) }
}

func tenantLabel(t *Tenant) string {
	if t == nil {
		return ""
	}
	return t.DisplayName
}

func missingParam(e *Emulator, name string) aadstsError {
	return aadsts(e.now(), 900144, "The request body must contain the following parameter: '"+name+"'.")
}

// handleAuthorize is the authorization endpoint (GET, or POST with a form body).
func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request, ps params) {
	_ = r.ParseForm()
	var out respond
	e.store.View(func(d *Directory) {
		f, fail := e.startAuthorize(r, ps, d)
		if fail != nil {
			out = fail
			return
		}
		out = e.advance(w, r, d, f)
	})
	out(w, r)
}

// startAuthorize validates an authorize request in the order Entra does: the errors it cannot
// send to the app (unknown tenant or client, a redirect URI that is not registered) on its own
// error page, the rest to the redirect URI. d must be locked.
func (e *Emulator) startAuthorize(r *http.Request, ps params, d *Directory) (*authFlow, respond) {
	q := r.Form
	a, terr := e.resolveAuthority(r, ps, d)
	if terr != nil {
		return nil, errorPage("", *terr)
	}
	tname := tenantLabel(a.tenant)
	clientID := strings.TrimSpace(q.Get("client_id"))
	if clientID == "" {
		return nil, errorPage(tname, missingParam(e, "client_id"))
	}
	c, ok := e.findClient(d, a.tenant, clientID)
	if !ok {
		return nil, errorPage(tname, appNotFound(e, clientID, a))
	}
	ru := q.Get("redirect_uri")
	if !hasAnyRedirect(c.app) {
		return nil, errorPage(tname, aadsts(e.now(), 500113, "No reply address is registered for the application."))
	}
	if ru == "" {
		if len(c.app.Web.RedirectURIs) == 0 {
			return nil, errorPage(tname, aadsts(e.now(), 900971, "No reply address provided."))
		}
		ru = c.app.Web.RedirectURIs[0] // Entra picks one; the first is as good as any
	}
	plat, ok := matchRedirect(c.app, ru)
	if !ok {
		return nil, errorPage(tname, aadsts(e.now(), 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.%s", ru, clientID, trailingSlashHint(c.app, ru))))
	}
	rtRaw := strings.TrimSpace(q.Get("response_type"))
	if rtRaw == "" {
		return nil, errorPage(tname, missingParam(e, "response_type"))
	}
	f := &authFlow{
		ID: randomToken("", 24), Expires: e.now().Add(flowLifetime), Site: a.site, PageBase: a.pageBase(),
		Multi: a.multi, ClientID: c.app.AppID, RedirectURI: ru, Target: redirectTarget(ru), Platform: plat,
		ResponseType: strings.Fields(rtRaw), State: q.Get("state"), Nonce: q.Get("nonce"), Scope: q.Get("scope"),
		Challenge: q.Get("code_challenge"), Method: q.Get("code_challenge_method"), Prompt: strings.ToLower(q.Get("prompt")),
		LoginHint: q.Get("login_hint"), ClientInfo: q.Get("client_info") == "1",
	}
	_, f.HasState = q["state"]
	if a.tenant != nil {
		f.TenantID = a.tenant.ID
	}
	for _, x := range f.ResponseType {
		if x != "code" && x != "id_token" && x != "token" {
			f.ResponseMode = responseModeOr(q.Get("response_mode"), "query")
			return nil, e.redirectError(f, "unsupported_response_type", aadsts(e.now(), 9002313, fmt.Sprintf("Invalid request. Request is malformed or invalid. The response_type '%s' is not supported.", rtRaw)))
		}
	}
	def := "query"
	if f.wants("id_token") || f.wants("token") {
		def = "fragment"
	}
	f.ResponseMode = strings.ToLower(q.Get("response_mode"))
	switch f.ResponseMode {
	case "":
		f.ResponseMode = def
	case "query", "fragment", "form_post":
	default:
		f.ResponseMode = def
		return nil, e.redirectError(f, "invalid_request", aadsts(e.now(), 9002313, "Invalid request. Request is malformed or invalid. The response_mode '"+q.Get("response_mode")+"' is not supported."))
	}
	if f.ResponseMode == "query" && (f.wants("id_token") || f.wants("token")) {
		f.ResponseMode = "fragment"
		return nil, e.redirectError(f, "invalid_request", aadsts(e.now(), 900144, "The 'query' response mode is not allowed when requesting tokens. Use 'fragment' or 'form_post'."))
	}
	if f.wants("id_token") && c.firstParty == nil && !c.app.Web.ImplicitGrantSettings.EnableIDTokenIssuance {
		return nil, e.redirectError(f, "unsupported_response_type", aadsts(e.now(), 700054, "response_type 'id_token' is not enabled for the application."))
	}
	if f.wants("token") && c.firstParty == nil && !c.app.Web.ImplicitGrantSettings.EnableAccessTokenIssuance {
		return nil, e.redirectError(f, "unsupported_response_type", aadsts(e.now(), 700051, "response_type 'token' is not enabled for the application."))
	}
	if a.multiTenant() && !c.multiTenantApp() {
		return nil, e.redirectError(f, "invalid_request", aadsts(e.now(), 50194, fmt.Sprintf("Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", c.app.AppID, c.name())))
	}
	if strings.TrimSpace(f.Scope) == "" {
		return nil, e.redirectError(f, "invalid_request", missingParam(e, "scope"))
	}
	if f.wants("id_token") && f.Nonce == "" {
		return nil, e.redirectError(f, "invalid_request", missingParam(e, "nonce"))
	}
	sc := parseScopes(f.Scope)
	if sc.other != "" {
		return nil, e.redirectError(f, "invalid_resource", resourceNotFound(e, sc.other, a))
	}
	if f.Challenge != "" {
		if f.Method == "" {
			f.Method = "plain"
		}
		if f.Method != "S256" && f.Method != "plain" {
			return nil, e.redirectError(f, "invalid_request", aadsts(e.now(), 501491, "Invalid code_challenge_method: '"+f.Method+"'. Supported values are 'plain' and 'S256'."))
		}
		if n := len(f.Challenge); n < 43 || n > 128 {
			return nil, e.redirectError(f, "invalid_request", aadsts(e.now(), 501491, "Invalid size of Code_Challenge parameter."))
		}
	}
	if t := tenantOf(d, f.TenantID); t != nil {
		if _, unknown := neededPermissions(t, c, sc); unknown != "" {
			return nil, e.redirectError(f, "invalid_client", aadsts(e.now(), 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", c.name(), unknown, GraphAppID)))
		}
	}
	e.identity.mu.Lock()
	e.identity.sweepLocked(e.now())
	e.identity.flows[f.ID] = f
	e.identity.mu.Unlock()
	return f, nil
}

func responseModeOr(m, def string) string {
	switch strings.ToLower(m) {
	case "query", "fragment", "form_post":
		return strings.ToLower(m)
	}
	return def
}

func tenantOf(d *Directory, id string) *Tenant {
	if id == "" {
		return nil
	}
	return tenantByIDOrDomain(d, id)
}

func appNotFound(e *Emulator, clientID string, a authority) aadstsError {
	dir := a.multi
	if a.tenant != nil {
		dir = a.tenant.DisplayName
	}
	return aadsts(e.now(), 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, dir))
}

func resourceNotFound(e *Emulator, resource string, a authority) aadstsError {
	name := a.multi
	if a.tenant != nil {
		name = a.tenant.ID
	}
	return aadsts(e.now(), 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, name))
}

// serveFlow serves a page posted back by a pending sign-in: the flow the form names (an error
// page once it has expired), then step's answer, worked out under the store lock and saved
// afterwards when save is set.
func (e *Emulator) serveFlow(w http.ResponseWriter, r *http.Request, save bool, step func(d *Directory, f *authFlow) respond) {
	_ = r.ParseForm()
	id := r.Form.Get("flow")
	e.identity.mu.Lock()
	f := e.identity.flows[id]
	e.identity.mu.Unlock()
	if f == nil || e.now().After(f.Expires) {
		renderErrorPage(w, "", aadsts(e.now(), 50089, "Authentication failed due to flow token expired. Please try again."))
		return
	}
	var out respond
	if save {
		_ = e.store.Do(func(d *Directory) error { out = step(d, f); return nil })
	} else {
		e.store.View(func(d *Directory) { out = step(d, f) })
	}
	out(w, r)
}

// advance moves a sign-in to its next step: who is the user (SSO, picker, login or sign-up
// page), may they use the app, has the app consent, then the answer. d must be locked.
func (e *Emulator) advance(w http.ResponseWriter, r *http.Request, d *Directory, f *authFlow) respond {
	if f.UserID == "" {
		if out := e.pickAccount(r, d, f); out != nil {
			return out
		}
	}
	t := tenantOf(d, f.UserTenant)
	var u *User
	if t != nil {
		u = t.UserByID(f.UserID)
	}
	if u == nil { // the user was deleted meanwhile
		f.UserID = ""
		return e.loginPage(d, f, "", "", 0)
	}
	c, ok := e.findClient(d, t, f.ClientID)
	if !ok || (f.TenantID != "" && f.TenantID != t.ID) {
		appName := f.ClientID
		if c2, ok2 := e.findClient(d, nil, f.ClientID); ok2 {
			appName = c2.name()
		}
		return errorPage(t.DisplayName, aadsts(e.now(), 50020, fmt.Sprintf("User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access the application '%s'(%s) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.", signInName(t, u), t.ID, tenantDisplay(d, f.TenantID), f.ClientID, appName)))
	}
	sc := parseScopes(f.Scope)
	need, unknown := neededPermissions(t, c, sc)
	if unknown != "" {
		return e.redirectError(f, "invalid_client", aadsts(e.now(), 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", c.name(), unknown, GraphAppID)))
	}
	granted := e.grantedPermissions(t, c, u.ID)
	missing := missingPermissions(need, granted)
	forced := f.Prompt == "consent" && !f.Consented
	if len(missing) > 0 || forced {
		if f.Prompt == "none" {
			return e.redirectError(f, "consent_required", aadsts(e.now(), 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", c.app.AppID, c.name())))
		}
		show := missing
		if len(show) == 0 {
			show = need
		}
		if mustAskAdmin(t, u, show) {
			return func(w http.ResponseWriter, _ *http.Request) {
				a := aadsts(e.now(), 90094, "Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin.")
				renderPage(w, http.StatusForbidden, "error", pageData{
					Title: "Need admin approval", Tenant: t.DisplayName, Heading: "Need admin approval",
					Lead: c.name() + " needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.",
					Code: a.Code, Message: a.Text, RequestID: a.TraceID, CorrelationID: a.CorrelationID, Timestamp: a.Timestamp,
				})
			}
		}
		data := pageData{Title: "Permissions requested", Tenant: t.DisplayName, App: c.name(), Action: f.PageBase + "/consent", Flow: f.ID,
			Username: signInName(t, u), CanConsentForOrg: u.CanConsentForOrg(), Unverified: c.firstParty == nil, Publisher: "Microsoft"}
		for _, p := range show {
			data.Permissions = append(data.Permissions, pagePermission{Value: p, Text: permissionText(p)})
		}
		return page(http.StatusOK, "consent", data)
	}
	return e.complete(w, r, d, f, t, u, c, granted)
}

// mustAskAdmin reports whether a person may not consent to perms, so the sign-in stops at "Need
// admin approval" (AADSTS90094). GA, PRA, App and Cloud App Admins may consent to anything
// delegated (tenants.md §3.3). Anyone else: never in an External ID tenant (customers cannot
// consent, §3.2); never while the tenant's user consent is off (Settings.UserConsent; Entra may
// say AADSTS90093 for a policy block, [unverified] which one a tenant without any ForSelf policy
// shows: we answer 90094 as for admin-only permissions); and under the Legacy policy only to
// permissions that need no admin (openid, profile, offline_access, email, User.Read).
func mustAskAdmin(t *Tenant, u *User, perms []string) bool {
	if u.CanConsentForOrg() {
		return false
	}
	return t.Type == ExternalID || !t.settings().UserConsent || requiresAdmin(t, perms)
}

func tenantDisplay(d *Directory, id string) string {
	if t := tenantOf(d, id); t != nil {
		return t.DisplayName
	}
	return id
}

// pickAccount decides who signs in: an account of the SSO session (at once, or through the
// picker), or the login / sign-up page. It returns nil once f.UserID is set. d must be locked.
func (e *Emulator) pickAccount(r *http.Request, d *Directory, f *authFlow) respond {
	e.identity.mu.Lock()
	var cands []*account
	if b := e.identity.browserLocked(r); b != nil && f.Prompt != "login" && f.Prompt != "create" {
		for _, a := range b.Accounts {
			t := tenantOf(d, a.TenantID)
			if t == nil || t.UserByID(a.UserID) == nil {
				continue
			}
			if f.TenantID == "" && t.Type == ExternalID {
				continue // /common and /organizations are for work accounts
			}
			if f.TenantID == "" || a.TenantID == f.TenantID {
				cands = append(cands, a)
			}
		}
	}
	if f.LoginHint != "" {
		for _, a := range cands {
			if strings.EqualFold(a.Username, f.LoginHint) {
				cands = []*account{a}
				break
			}
		}
	}
	e.identity.mu.Unlock()
	switch {
	case len(cands) == 1 && f.Prompt != "select_account":
		f.UserID, f.UserTenant, f.SID = cands[0].UserID, cands[0].TenantID, cands[0].SID
		return nil
	case f.Prompt == "none":
		code, text := 50058, "A silent sign-in request was sent but no user is signed in."
		if len(cands) > 1 {
			code, text = 16000, "Multiple users are signed in; select one."
		}
		errCode := "login_required"
		if code == 16000 {
			errCode = "interaction_required"
		}
		return e.redirectError(f, errCode, aadsts(e.now(), code, text))
	case len(cands) > 0:
		data := pageData{Title: "Pick an account", Tenant: tenantDisplay(d, f.TenantID), App: e.clientName(d, f), Action: f.PageBase + "/login", Flow: f.ID}
		for _, a := range cands {
			data.Accounts = append(data.Accounts, pageAccount{Name: a.Name, Username: a.Username})
		}
		return page(http.StatusOK, "picker", data)
	}
	if f.Prompt == "create" {
		if out := e.signUpPage(d, f, "", "", ""); out != nil {
			return out
		}
	}
	return e.loginPage(d, f, f.LoginHint, "", 0)
}

func (e *Emulator) clientName(d *Directory, f *authFlow) string {
	if c, ok := e.findClient(d, tenantOf(d, f.TenantID), f.ClientID); ok {
		return c.name()
	}
	return ""
}

// signUpURL is the "No account? Create one" link: only for External ID apps linked to a user
// flow.
func (e *Emulator) signUpURL(d *Directory, f *authFlow) string {
	t := tenantOf(d, f.TenantID)
	if t == nil || t.Type != ExternalID || t.FlowForApp(f.ClientID) == nil {
		return ""
	}
	return f.PageBase + "/signup?flow=" + url.QueryEscape(f.ID)
}

func (e *Emulator) loginPage(d *Directory, f *authFlow, username, msg string, code int) respond {
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnauthorized
	}
	return page(status, "login", pageData{
		Title: "Sign in to your account", Tenant: tenantDisplay(d, f.TenantID), App: e.clientName(d, f),
		Action: f.PageBase + "/login", Flow: f.ID, Username: username, Error: msg, ErrorCode: code, SignUpURL: e.signUpURL(d, f),
		DemoUser: demoUserOf(d, f.TenantID),
	})
}

// demoUserOf is the tenant's first plain member still on the seeded demo password, for the
// sign-in page to name (the emulator is for local testing only: its users are not secrets).
func demoUserOf(d *Directory, tenantID string) *User {
	t := tenantOf(d, tenantID)
	if t == nil {
		return nil
	}
	for _, u := range t.Users {
		if u.Password == DemoPassword && !u.IsGlobalAdmin() && !u.SignedUp {
			return u
		}
	}
	return nil
}

// handleLoginPost takes the login form (username and password) and the account picker; a GET
// shows the login page of a pending sign-in.
func (e *Emulator) handleLoginPost(w http.ResponseWriter, r *http.Request, _ params) {
	e.serveFlow(w, r, false, func(d *Directory, f *authFlow) respond {
		if r.Method != http.MethodPost { // the sign-up page's "Sign in" link
			return e.loginPage(d, f, "", "", 0)
		}
		return e.login(w, r, d, f)
	})
}

func (e *Emulator) login(w http.ResponseWriter, r *http.Request, d *Directory, f *authFlow) respond {
	if r.Form.Get("action") == "pick" {
		name := r.Form.Get("account")
		if name == "" {
			return e.loginPage(d, f, "", "", 0)
		}
		e.identity.mu.Lock()
		var picked *account
		if b := e.identity.browserLocked(r); b != nil {
			for _, a := range b.Accounts {
				if strings.EqualFold(a.Username, name) && (f.TenantID == "" || a.TenantID == f.TenantID) {
					picked = a
				}
			}
		}
		e.identity.mu.Unlock()
		if picked == nil {
			return e.loginPage(d, f, name, "", 0)
		}
		f.UserID, f.UserTenant, f.SID = picked.UserID, picked.TenantID, picked.SID
		return e.advance(w, r, d, f)
	}
	username := strings.TrimSpace(r.Form.Get("username"))
	password := r.Form.Get("password")
	if username == "" {
		return e.loginPage(d, f, "", "Enter a valid email address, phone number, or Skype name.", 900144)
	}
	var home *Tenant
	var user *User
	if t := tenantOf(d, f.TenantID); t != nil {
		home, user = t, t.UserByName(username)
	}
	if user == nil {
		for _, t := range d.Tenants {
			if u := t.UserByName(username); u != nil && (f.TenantID == "" || u.Password == password) {
				if f.TenantID == "" && t.Type == ExternalID {
					continue
				}
				home, user = t, u
				break
			}
		}
	}
	if user == nil {
		msg := "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
		if t := tenantOf(d, f.TenantID); t != nil && t.Type == ExternalID {
			msg = "We couldn't find an account with this email address."
		}
		return e.loginPage(d, f, username, msg, 50034)
	}
	if user.Password != password {
		return e.loginPage(d, f, username, "Your account or password is incorrect. If you don't remember your password, reset it now.", 50126)
	}
	e.identity.mu.Lock()
	acc := e.identity.signInLocked(w, r, e.now(), home, user)
	e.identity.mu.Unlock()
	f.UserID, f.UserTenant, f.SID = user.ID, home.ID, acc.SID
	return e.advance(w, r, d, f)
}

// handleConsentPost takes the consent page's answer.
func (e *Emulator) handleConsentPost(w http.ResponseWriter, r *http.Request, _ params) {
	e.serveFlow(w, r, true, func(d *Directory, f *authFlow) respond {
		t := tenantOf(d, f.UserTenant)
		if f.UserID == "" || t == nil || t.UserByID(f.UserID) == nil {
			return e.loginPage(d, f, "", "", 0)
		}
		u := t.UserByID(f.UserID)
		if r.Form.Get("action") != "accept" {
			return e.redirectError(f, "access_denied", aadsts(e.now(), 65004, "User declined to consent to access the app."))
		}
		c, ok := e.findClient(d, t, f.ClientID)
		if !ok {
			return e.advance(w, r, d, f)
		}
		need, _ := neededPermissions(t, c, parseScopes(f.Scope))
		if mustAskAdmin(t, u, need) {
			return e.advance(w, r, d, f) // shows the admin-approval page
		}
		e.recordConsent(t, c, u.ID, need, u.CanConsentForOrg() && r.Form.Get("consent_org") == "1")
		f.Consented = true
		return e.advance(w, r, d, f)
	})
}

// ---- answers to the app ----

// redirectError sends an error to the app's redirect URI, as Entra does for errors once the
// client and the redirect URI are trusted. For a device flow it shows the error instead.
func (e *Emulator) redirectError(f *authFlow, errCode string, a aadstsError) respond {
	if f.Device != "" {
		e.identity.mu.Lock()
		if g := e.identity.devices[f.Device]; g != nil {
			g.Declined = errCode == "access_denied"
		}
		e.identity.mu.Unlock()
		return errorPage("", a)
	}
	fields := []formField{
		{"error", errCode},
		{"error_description", a.Description()},
		{"error_uri", fmt.Sprintf("%s/error?code=%d", f.Site.loginBase, a.Code)},
	}
	if f.HasState {
		fields = append(fields, formField{"state", f.State})
	}
	return e.sendToApp(f, fields)
}

// sendToApp delivers fields to the redirect URI in the flow's response mode.
func (e *Emulator) sendToApp(f *authFlow, fields []formField) respond {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.ResponseMode == "form_post" {
			renderPage(w, http.StatusOK, "formpost", pageData{FormAction: f.Target, Fields: fields})
			return
		}
		v := url.Values{}
		for _, x := range fields {
			v.Add(x.Name, x.Value)
		}
		u, err := url.Parse(f.Target)
		if err != nil {
			http.Error(w, "bad redirect URI", http.StatusBadRequest)
			return
		}
		if f.ResponseMode == "fragment" {
			u.Fragment = ""
			w.Header().Set("Location", u.String()+"#"+v.Encode())
		} else {
			if u.RawQuery != "" {
				u.RawQuery += "&" + v.Encode()
			} else {
				u.RawQuery = v.Encode()
			}
			w.Header().Set("Location", u.String())
		}
		w.Header().Set("Cache-Control", "no-store, no-cache")
		w.WriteHeader(http.StatusFound)
	}
}

// complete ends a sign-in that needs nothing more from the user: the code (and tokens for the
// implicit and hybrid response types) to the app, or the device code approved.
func (e *Emulator) complete(w http.ResponseWriter, r *http.Request, d *Directory, f *authFlow, t *Tenant, u *User, c client, granted map[string]string) respond {
	now := e.now()
	e.identity.mu.Lock()
	delete(e.identity.flows, f.ID)
	// By sid, not by cookie: on the first sign-in the cookie is only being set by this answer.
	if _, a := e.identity.accountBySIDLocked(f.SID); a != nil {
		a.addApp(c.app.AppID)
	}
	if f.Device != "" {
		if g := e.identity.devices[f.Device]; g != nil {
			g.UserID, g.TenantID, g.SID, g.Approved = u.ID, t.ID, f.SID, true
		}
		e.identity.mu.Unlock()
		return page(http.StatusOK, "message", pageData{Title: "Device sign-in", Tenant: t.DisplayName, Heading: c.name(),
			Lead: "You have signed in to the " + c.name() + " application on your device. You may now close this window."})
	}
	var code string
	if f.wants("code") {
		code = randomToken("0.A", 48)
		e.identity.sweepLocked(now)
		e.identity.codes[code] = &authCode{
			ClientID: c.app.AppID, TenantID: t.ID, UserID: u.ID, RedirectURI: f.RedirectURI, Platform: f.Platform,
			Scope: f.Scope, Nonce: f.Nonce, Challenge: f.Challenge, Method: f.Method, SID: f.SID, Expires: now.Add(codeLifetime),
		}
	}
	e.identity.mu.Unlock()
	var fields []formField
	if code != "" {
		fields = append(fields, formField{"code", code})
	}
	sc := parseScopes(f.Scope)
	if f.wants("token") {
		at, _, err := e.graphAccessToken(GraphTokenRequest{Tenant: t, AppID: c.app.AppID, User: u, Scopes: accessScopes(granted)}, tokenLifetime)
		if err == nil {
			fields = append(fields, formField{"access_token", at}, formField{"token_type", "Bearer"},
				formField{"expires_in", fmt.Sprint(int(tokenLifetime.Seconds()))}, formField{"scope", answerScope(sc, granted)})
		}
	}
	if f.wants("id_token") {
		idt, err := e.idToken(idTokenRequest{site: f.Site, tenant: t, user: u, client: c, scopes: sc, nonce: f.Nonce, sid: f.SID, code: code})
		if err == nil {
			fields = append(fields, formField{"id_token", idt})
		}
	}
	if f.HasState {
		fields = append(fields, formField{"state", f.State})
	}
	fields = append(fields, formField{"session_state", f.SID})
	if f.ClientInfo {
		fields = append(fields, formField{"client_info", clientInfo(u.ID, t.ID)})
	}
	return e.sendToApp(f, fields)
}
