package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

func TestClientCredentials(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	c := e.Client()
	tokenURL := "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/token"
	// The automation client holds its roles.
	for _, scope := range []string{"https://graph.microsoft.com/.default", GraphAppID + "/.default"} {
		status, body := tokenCall(t, c, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {wf.Automation.AppID},
			"client_secret": {wf.Automation.Secret}, "scope": {scope}})
		if status != 200 {
			t.Fatalf("%s: %v", scope, body)
		}
		if _, has := body["scope"]; has {
			t.Fatalf("client credentials answer has a scope field (MSAL would check it): %v", body)
		}
		cl := claimsOf(t, body["access_token"].(string))
		if cl["idtyp"] != "app" || cl["aud"] != GraphAudience || len(cl["roles"].([]any)) != len(AutomationRoles) {
			t.Fatalf("claims %v", cl)
		}
	}
	// A brand-new app with no roles still gets a token (the wizard's readiness probe).
	ta := addApp(t, e, appSpec{kind: Workforce})
	status, body := tokenCall(t, c, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {ta.AppID},
		"client_secret": {ta.Secret}, "scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 || claimsOf(t, body["access_token"].(string))["roles"] != nil {
		t.Fatalf("new app: %d %v", status, body)
	}
	noSP := addApp(t, e, appSpec{kind: Workforce, noSP: true})
	cases := []struct {
		name    string
		form    url.Values
		status  int
		errCode string
		code    int
	}{
		{"scope without .default", url.Values{"scope": {"https://graph.microsoft.com/User.Read"}}, 400, "invalid_scope", 1002012},
		{"unknown app", url.Values{"client_id": {NewGUID()}}, 400, "unauthorized_client", 700016},
		{"wrong secret", url.Values{"client_secret": {"x"}}, 401, "invalid_client", 7000215},
		{"app without a service principal", url.Values{"client_id": {noSP.AppID}, "client_secret": {noSP.Secret}}, 401, "invalid_client", 7000229},
	}
	for _, tc := range cases {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {ta.AppID}, "client_secret": {ta.Secret}, "scope": {"https://graph.microsoft.com/.default"}}
		for k, v := range tc.form {
			f[k] = v
		}
		status, body := tokenCall(t, c, tokenURL, f)
		if status != tc.status || body["error"] != tc.errCode || errorCode(body) != tc.code {
			t.Errorf("%s: %d %v", tc.name, status, body)
		}
	}
}

func TestReplicationLag(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	tokenURL := "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/token"
	e.SetReplicationLag(400 * time.Millisecond)
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, edit: func(a *Application) {
		a.VisibleAt = e.visibleAt()
	}})
	probe := func() (int, map[string]any) {
		return tokenCall(t, e.Client(), tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {ta.AppID},
			"client_secret": {ta.Secret}, "scope": {"https://graph.microsoft.com/.default"}})
	}
	if status, body := probe(); status != 400 || errorCode(body) != 700016 {
		t.Fatalf("app still replicating: %d %v; want AADSTS700016", status, body)
	}
	if _, err := emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, nil), emuclient.SignInOptions{}); err == nil {
		t.Fatalf("authorize found an app still replicating")
	} else if pe := (*emuclient.PageError)(nil); !errors.As(err, &pe) || pe.Code != 700016 {
		t.Fatalf("authorize: %v", err)
	}
	time.Sleep(450 * time.Millisecond)
	if status, body := probe(); status != 200 {
		t.Fatalf("after the lag: %d %v", status, body)
	}
	// A new secret replicates too: AADSTS7000215 first.
	secret := NewSecretText()
	_ = e.Store().Do(func(d *Directory) error {
		a := wf.AppByAppID(ta.AppID)
		a.PasswordCredentials = append(a.PasswordCredentials, PasswordCredential{KeyID: NewGUID(), SecretText: secret, EndDateTime: e.now().Add(time.Hour), VisibleAt: e.visibleAt()})
		return nil
	})
	ta.Secret = secret
	if status, body := probe(); status != 401 || errorCode(body) != 7000215 {
		t.Fatalf("secret still replicating: %d %v", status, body)
	}
	time.Sleep(450 * time.Millisecond)
	if status, body := probe(); status != 200 {
		t.Fatalf("secret after the lag: %d %v", status, body)
	}
}

func TestConsent(t *testing.T) {
	e := start(t, Options{})
	wf, ex := tenantOfType(e, Workforce), tenantOfType(e, ExternalID)
	// A user consents for themselves: a Principal grant.
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}})
	e.ResetRequests()
	back, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, nil), "megan@contoso.onmicrosoft.com", DemoPassword)
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("user consent: %v %v", back, err)
	}
	if countRoute(e, "login.consent") != 1 {
		t.Fatalf("no consent page was answered")
	}
	var grants []Grant
	e.Store().View(func(d *Directory) {
		sp := wf.SPByAppID(ta.AppID)
		for _, g := range wf.Grants {
			if g.ClientID == sp.ID {
				grants = append(grants, *g)
			}
		}
	})
	if len(grants) != 1 || grants[0].ConsentType != "Principal" || grants[0].PrincipalID == nil || !strings.Contains(grants[0].Scope, "User.Read") {
		t.Fatalf("grants %+v", grants)
	}
	// Second sign-in: no consent page.
	e.ResetRequests()
	if _, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, nil), "megan@contoso.onmicrosoft.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	if countRoute(e, "login.consent") != 0 {
		t.Fatalf("consent asked twice")
	}
	// An admin consents for the organisation: AllPrincipals, and then nobody is asked.
	tb := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}})
	if _, err := emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, tb.AppID, nil), emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword, ConsentForOrganization: true}); err != nil {
		t.Fatal(err)
	}
	e.ResetRequests()
	if _, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(wf.ID, tb.AppID, nil), "megan@contoso.onmicrosoft.com", DemoPassword); err != nil || countRoute(e, "login.consent") != 0 {
		t.Fatalf("after admin consent: %v, %d consent pages", err, countRoute(e, "login.consent"))
	}
	// External ID customers cannot consent: "Need admin approval".
	tc := addApp(t, e, appSpec{kind: ExternalID, redirects: []string{testRedirect}})
	ciam := "https://" + ex.Subdomain() + ".ciamlogin.com/" + ex.Domain + "/oauth2/v2.0/authorize?" + url.Values{"client_id": {tc.AppID},
		"response_type": {"code"}, "scope": {"openid profile offline_access"}, "redirect_uri": {testRedirect}}.Encode()
	_, err = emuclient.SignIn(context.Background(), browser(e), ciam, emuclient.SignInOptions{Username: "ada@example.com", Password: DemoPassword})
	var pe *emuclient.PageError
	if !errors.As(err, &pe) || pe.Code != 90094 || pe.Status != http.StatusForbidden {
		t.Fatalf("customer without admin consent: %v", err)
	}
	// prompt=none without consent: consent_required to the app.
	a, err := emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}}).AppID, url.Values{"prompt": {"none"}}), emuclient.SignInOptions{})
	if err != nil || a.Params().Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session: %v %v", a, err)
	}
}

func TestExternalIDSignUp(t *testing.T) {
	e := start(t, Options{})
	ex := tenantOfType(e, ExternalID)
	ta := addApp(t, e, appSpec{kind: ExternalID, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read", userFlow: true})
	unlinked := addApp(t, e, appSpec{kind: ExternalID, redirects: []string{testRedirect}, consent: "openid profile offline_access"})
	authz := func(appID string, extra url.Values) string {
		q := url.Values{"client_id": {appID}, "response_type": {"code"}, "scope": {"openid profile offline_access"}, "redirect_uri": {testRedirect}, "nonce": {"n1"}}
		for k, v := range extra {
			q[k] = v
		}
		return "https://" + ex.Subdomain() + ".ciamlogin.com/" + ex.Domain + "/oauth2/v2.0/authorize?" + q.Encode()
	}
	opts := emuclient.SignInOptions{Username: "new.customer@example.com", Password: "Str0ng-enough", SignUp: true, DisplayName: "New Customer"}
	if _, err := emuclient.SignIn(context.Background(), browser(e), authz(unlinked.AppID, nil), opts); err == nil || !strings.Contains(err.Error(), "not linked to a user flow") {
		t.Fatalf("sign-up offered for an app without a user flow: %v", err)
	}
	a, err := emuclient.SignIn(context.Background(), browser(e), authz(ta.AppID, nil), opts)
	if err != nil || a.Params().Get("code") == "" {
		t.Fatalf("sign-up: %v %v", a, err)
	}
	var u *User
	e.Store().View(func(d *Directory) { u = ex.UserByName("new.customer@example.com") })
	if u == nil || !u.SignedUp || u.DisplayName != "New Customer" {
		t.Fatalf("signed-up user %+v", u)
	}
	status, body := tokenCall(t, e.Client(), "https://"+ex.Subdomain()+".ciamlogin.com/"+ex.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {ta.AppID}, "client_secret": {ta.Secret}, "code": {a.Params().Get("code")}, "redirect_uri": {testRedirect}})
	if status != 200 {
		t.Fatal(body)
	}
	cl := claimsOf(t, body["id_token"].(string))
	if cl["preferred_username"] != "new.customer@example.com" || cl["iss"] != "https://"+ex.ID+".ciamlogin.com/"+ex.ID+"/v2.0" || cl["nonce"] != "n1" {
		t.Fatalf("claims %v", cl)
	}
	// The same email cannot sign up twice; prompt=create goes straight to the sign-up page.
	_, err = emuclient.SignIn(context.Background(), browser(e), authz(ta.AppID, url.Values{"prompt": {"create"}}), opts)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate sign-up: %v", err)
	}
}

func TestResponseModesAndClientInfo(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read",
		edit: func(a *Application) { a.Web.ImplicitGrantSettings.EnableIDTokenIssuance = true }})
	a, err := emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, url.Values{"response_mode": {"form_post"}, "client_info": {"1"}}),
		emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword})
	if err != nil || a.Method != http.MethodPost || a.URL.String() != testRedirect {
		t.Fatalf("form_post: %+v %v", a, err)
	}
	p := a.Params()
	ci, _ := base64.RawURLEncoding.DecodeString(p.Get("client_info"))
	var info map[string]string
	_ = json.Unmarshal(ci, &info)
	adele := wf.UserByName("adele@contoso.onmicrosoft.com")
	if p.Get("code") == "" || p.Get("state") != "st" || p.Get("session_state") == "" || info["uid"] != adele.ID || info["utid"] != wf.ID {
		t.Fatalf("form_post fields %v client_info %v", p, info)
	}
	// Hybrid: code and id_token in the fragment, with c_hash.
	a, err = emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, url.Values{"response_type": {"code id_token"}, "nonce": {"abc"}}),
		emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword})
	if err != nil || a.URL.Fragment == "" {
		t.Fatalf("hybrid: %+v %v", a, err)
	}
	p = a.Params()
	cl := claimsOf(t, p.Get("id_token"))
	if p.Get("code") == "" || cl["nonce"] != "abc" || cl["c_hash"] != halfHash(p.Get("code")) {
		t.Fatalf("hybrid fields %v claims %v", p, cl)
	}
}

func TestDeviceCodeFlow(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	const graphCLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
	base := "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/"
	scope := "https://graph.microsoft.com/Application.ReadWrite.All openid offline_access profile"
	status, dc := tokenCall(t, e.Client(), base+"devicecode", url.Values{"client_id": {graphCLI}, "scope": {scope}})
	if status != 200 || dc["user_code"] == nil || dc["verification_uri"] == nil || dc["interval"] == nil {
		t.Fatalf("devicecode: %d %v", status, dc)
	}
	poll := url.Values{"grant_type": {grantDeviceCode}, "client_id": {graphCLI}, "device_code": {dc["device_code"].(string)}, "client_info": {"1"}}
	if status, body := tokenCall(t, e.Client(), base+"token", poll); status != 400 || body["error"] != "authorization_pending" || errorCode(body) != 70016 {
		t.Fatalf("before sign-in: %d %v", status, body)
	}
	// A non-admin cannot consent to an admin-only permission.
	err := emuclient.ApproveDeviceCode(context.Background(), browser(e), dc["verification_uri"].(string), dc["user_code"].(string), emuclient.SignInOptions{Username: "megan@contoso.onmicrosoft.com", Password: DemoPassword})
	var pe *emuclient.PageError
	if !errors.As(err, &pe) || pe.Code != 90094 {
		t.Fatalf("non-admin: %v", err)
	}
	if err := emuclient.ApproveDeviceCode(context.Background(), browser(e), dc["verification_uri"].(string), dc["user_code"].(string), emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword}); err != nil {
		t.Fatal(err)
	}
	status, body := tokenCall(t, e.Client(), base+"token", poll)
	if status != 200 || body["refresh_token"] == nil || body["client_info"] == nil {
		t.Fatalf("after sign-in: %d %v", status, body)
	}
	if !strings.Contains(body["scope"].(string), "https://graph.microsoft.com/Application.ReadWrite.All") {
		t.Fatalf("scope %v does not echo the request", body["scope"])
	}
	if !strings.Contains(claimsOf(t, body["access_token"].(string))["scp"].(string), "Application.ReadWrite.All") {
		t.Fatalf("access token lacks the scope")
	}
	if status, body := tokenCall(t, e.Client(), base+"token", poll); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("second redemption: %d %v", status, body)
	}
}

func TestCrossTenantSignInIsRefused(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read"})
	_, err := emuclient.SignIn(context.Background(), browser(e), authorizeURL(wf.ID, ta.AppID, nil), emuclient.SignInOptions{Username: "admin@wingtiptoyscustomers.onmicrosoft.com", Password: DemoPassword})
	var pe *emuclient.PageError
	if !errors.As(err, &pe) || pe.Code != 50020 {
		t.Fatalf("a user of another tenant: %v", err)
	}
}

func TestSignOutLikeTheSamples(t *testing.T) {
	var calls []string
	app := httptestApp(t, func(r *http.Request) { calls = append(calls, r.URL.Query().Get("sid")) })
	e := start(t, Options{})
	ex := tenantOfType(e, ExternalID)
	ta := addApp(t, e, appSpec{kind: ExternalID, redirects: []string{testRedirect, "http://localhost:3000"}, consent: "openid profile offline_access",
		logoutURL: app + "/signout-callback-oidc"})
	c := browser(e)
	authz := "https://" + ex.Subdomain() + ".ciamlogin.com/" + ex.Domain + "/oauth2/v2.0/authorize?" + url.Values{"client_id": {ta.AppID},
		"response_type": {"code"}, "scope": {"openid profile offline_access"}, "redirect_uri": {testRedirect}}.Encode()
	if _, err := emuclient.SignInWithForm(context.Background(), c, authz, "ada@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	// The External ID Node sample: host-only path, unencoded URI, no client_id, no id_token_hint.
	to, err := emuclient.SignOut(context.Background(), c, "https://"+ex.Subdomain()+".ciamlogin.com/oauth2/v2.0/logout?post_logout_redirect_uri=http://localhost:3000")
	if err != nil || to == nil || to.String() != "http://localhost:3000/" || len(calls) != 1 || calls[0] == "" {
		t.Fatalf("sign-out: %v %v, front-channel calls %q", to, err, calls)
	}
	// ASP.NET style: id_token_hint only, from a client without the cookie.
	back, err := emuclient.SignInWithForm(context.Background(), c, authz, "ada@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, body := tokenCall(t, e.Client(), "https://"+ex.Subdomain()+".ciamlogin.com/"+ex.ID+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {ta.AppID}, "client_secret": {ta.Secret}, "code": {back.Query().Get("code")}, "redirect_uri": {testRedirect}})
	idt := body["id_token"].(string)
	to, err = emuclient.SignOut(context.Background(), browser(e), "https://"+ex.Subdomain()+".ciamlogin.com/"+ex.ID+"/oauth2/v2.0/logout?"+url.Values{
		"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://localhost:3000"}, "state": {"x"}}.Encode())
	if err != nil || to == nil || to.Query().Get("state") != "x" || len(calls) != 2 || calls[1] != claimsOf(t, idt)["sid"] {
		t.Fatalf("sign-out by id_token_hint: %v %v, calls %q", to, err, calls)
	}
}

// httptestApp is a local app whose handler sees every request; it returns its base URL. It
// answers plain HTTP on loopback, which a browser frames from an https page (loopback is
// potentially trustworthy), as the scripted browser does.
func httptestApp(t *testing.T, seen func(*http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen(r) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func BenchmarkClientCredentialsToken(b *testing.B) {
	e := start(b, Options{})
	wf := tenantOfType(e, Workforce)
	c := e.Client()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {wf.Automation.AppID}, "client_secret": {wf.Automation.Secret},
		"scope": {"https://graph.microsoft.com/.default"}}
	tokenURL := "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/token"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.PostForm(tokenURL, form)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp)
		}
		resp.Body.Close()
	}
}

func TestAccountPicker(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read"})
	c := browser(e)
	if _, err := emuclient.SignInWithForm(context.Background(), c, authorizeURL(wf.ID, ta.AppID, nil), "adele@contoso.onmicrosoft.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	pick := authorizeURL(wf.ID, ta.AppID, url.Values{"prompt": {"select_account"}})
	e.ResetRequests()
	if back, err := emuclient.SignInWithForm(context.Background(), c, pick, "adele@contoso.onmicrosoft.com", "unused"); err != nil || back.Query().Get("code") == "" {
		t.Fatalf("picking the signed-in account: %v %v", back, err)
	}
	if countRoute(e, "login.credentials") != 1 { // the picker's post, no password
		t.Fatalf("picker posts: %d", countRoute(e, "login.credentials"))
	}
	// "Use another account": the login page, then two accounts in the session.
	if _, err := emuclient.SignInWithForm(context.Background(), c, pick, "megan@contoso.onmicrosoft.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	back, err := emuclient.SignInWithForm(context.Background(), c, authorizeURL(wf.ID, ta.AppID, url.Values{"login_hint": {"megan@contoso.onmicrosoft.com"}}), "", "")
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("login_hint among two accounts: %v %v", back, err)
	}
}
