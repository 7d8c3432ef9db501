package emulator

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// putSettings sends PUT /_emulator/settings (query e.g. "?tenant=contoso") and returns the
// status and body.
func putSettings(t *testing.T, e *Emulator, query, doc string) (int, string) {
	t.Helper()
	req, _ := emuclient.NewAdminRequest(context.Background(), "PUT", e.URL(), "/settings"+query, e.AdminToken(), strings.NewReader(doc))
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSettingsAdminEndpoint: PUT changes only the properties given, in one tenant or all; GET
// shows every tenant's; a wrong document is refused with 400.
func TestSettingsAdminEndpoint(t *testing.T) {
	e := start(t, Options{})
	cases := []struct {
		query, doc string
		status     int
		want       map[string]Settings // by domain, after the call
	}{
		{"?tenant=contoso", `{"allowedToCreateApps": false}`, 200, map[string]Settings{
			"contoso.onmicrosoft.com":              {AllowedToCreateApps: false, UserConsent: true},
			"wingtiptoyscustomers.onmicrosoft.com": DefaultSettings(),
		}},
		{"", `{"appManagementPolicy": {"maxPasswordLifetime": "4320h"}, "credentialConcurrencyWindow": "500ms"}`, 200, map[string]Settings{
			"contoso.onmicrosoft.com": {AllowedToCreateApps: false, UserConsent: true,
				AppManagementPolicy: AppManagementPolicy{MaxPasswordLifetime: Duration(180 * 24 * time.Hour)}, CredentialConcurrencyWindow: Duration(500 * time.Millisecond)},
			"wingtiptoyscustomers.onmicrosoft.com": {AllowedToCreateApps: true, UserConsent: true,
				AppManagementPolicy: AppManagementPolicy{MaxPasswordLifetime: Duration(180 * 24 * time.Hour)}, CredentialConcurrencyWindow: Duration(500 * time.Millisecond)},
		}},
		{"", `{"usersCanDoAnything": true}`, 400, nil},
		{"?tenant=nowhere", `{}`, 400, nil},
		{"", `{"credentialConcurrencyWindow": "-1s"}`, 400, nil},
	}
	for _, c := range cases {
		before := e.Settings()
		status, body := putSettings(t, e, c.query, c.doc)
		if status != c.status {
			t.Fatalf("PUT %s %s: %d %s", c.query, c.doc, status, body)
		}
		want := c.want
		if want == nil {
			want = before // refused: nothing changed
		}
		got := e.Settings()
		for domain, w := range want {
			if got[domain] != w {
				t.Errorf("after PUT %s %s: %s = %+v, want %+v", c.query, c.doc, domain, got[domain], w)
			}
		}
	}
	var viaGET map[string]Settings
	if resp := adminJSON(t, e, e.Client(), e.URL(), "/settings", &viaGET); resp.StatusCode != 200 || len(viaGET) != 2 || viaGET["contoso.onmicrosoft.com"].AllowedToCreateApps {
		t.Fatalf("GET settings: %v", viaGET)
	}
}

// TestUsersMayRegisterAppsSetting: with "Users can register applications" off, a person without
// an app role is refused creation (403) but still manages the app they own; App Developers and
// admins still create.
func TestUsersMayRegisterAppsSetting(t *testing.T) {
	off := DefaultSettings()
	off.AllowedToCreateApps = false
	g := newGraphEnv(t, Options{Settings: &off}, Workforce)
	owned := g.createApp(map[string]any{"displayName": "megan's"})
	megan := g.tenant.UserByName("megan@contoso.onmicrosoft.com").ID
	g.must(g.call("POST", "/applications/"+owned.str("id")+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + megan}), 204)
	cases := []struct {
		upn, method, path string
		body              any
		status            int
	}{
		{"megan@contoso.onmicrosoft.com", "POST", "/applications", map[string]any{"displayName": "x"}, 403},
		{"megan@contoso.onmicrosoft.com", "PATCH", "/applications(uniqueName='megan-x')", map[string]any{"displayName": "x"}, 403},
		{"megan@contoso.onmicrosoft.com", "POST", "/servicePrincipals", map[string]any{"appId": owned.str("appId")}, 403},
		{"megan@contoso.onmicrosoft.com", "POST", "/applications/" + owned.str("id") + "/addPassword", map[string]any{}, 200},
		{"lee@contoso.onmicrosoft.com", "POST", "/applications", map[string]any{"displayName": "x"}, 201},
		{"alex@contoso.onmicrosoft.com", "POST", "/applications", map[string]any{"displayName": "x"}, 201},
	}
	for _, c := range cases {
		r := g.callAs(g.userToken(c.upn, toolScopes...), c.method, c.path, c.body, "Prefer: create-if-missing")
		if r.status != c.status {
			t.Errorf("%s %s %s: %d, want %d: %s", c.upn, c.method, c.path, r.status, c.status, r.raw)
		}
		if c.status == 403 && r.code() != "Authorization_RequestDenied" {
			t.Errorf("%s %s: code %s", c.method, c.path, r.code())
		}
	}
}

// TestAppManagementPolicy: a blocked password type and a maximum lifetime refuse new secrets
// with the shapes of tenants.md §4; addPassword without endDateTime asks for two years.
func TestAppManagementPolicy(t *testing.T) {
	days := func(n int) string {
		return time.Now().Add(time.Duration(n) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	lifetime := Duration(180 * 24 * time.Hour)
	cases := []struct {
		name         string
		policy       AppManagementPolicy
		path         string // addPassword, or "" for POST /applications with a secret
		body         map[string]any
		status       int
		code, detail string
	}{
		{"no policy, no endDateTime", AppManagementPolicy{}, "addPassword", map[string]any{}, 200, "", ""},
		{"password addition blocked", AppManagementPolicy{BlockPasswordAddition: true}, "addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": days(7)}}, 400, "CredentialTypeNotAllowedAsPerAppPolicy", ""},
		{"password addition blocked on create", AppManagementPolicy{BlockPasswordAddition: true}, "", map[string]any{"displayName": "x", "passwordCredentials": []any{map[string]any{"displayName": "s"}}}, 400, "CredentialTypeNotAllowedAsPerAppPolicy", ""},
		{"lifetime over the maximum", AppManagementPolicy{MaxPasswordLifetime: lifetime}, "addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": days(365)}}, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "InvalidKeyEndDate"},
		{"no endDateTime means two years", AppManagementPolicy{MaxPasswordLifetime: lifetime}, "addPassword", map[string]any{}, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "InvalidKeyEndDate"},
		{"within the maximum", AppManagementPolicy{MaxPasswordLifetime: lifetime}, "addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": days(90)}}, 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := DefaultSettings()
			s.AppManagementPolicy = c.policy
			g := newGraphEnv(t, Options{Settings: &s}, Workforce)
			var r graphResp
			if c.path == "" {
				r = g.call("POST", "/applications", c.body)
			} else {
				a := g.createApp(map[string]any{"displayName": "app"})
				r = g.call("POST", "/applications/"+a.str("id")+"/"+c.path, c.body)
			}
			if r.status != c.status || r.code() != c.code || r.detailCode() != c.detail {
				t.Fatalf("%d %s %s, want %d %s %s: %s", r.status, r.code(), r.detailCode(), c.status, c.code, c.detail, r.raw)
			}
			switch c.code {
			case "CredentialInvalidLifetimeAsPerAppPolicy":
				if r.message() != "Credential lifetime exceeds the max value allowed as per assigned policy '00000000-0000-0000-0000-000000000000'." {
					t.Fatalf("message %q", r.message())
				}
				d := r.body["error"].(map[string]any)["details"].([]any)[0].(map[string]any)
				if d["target"] != "EndDate" {
					t.Fatalf("detail %v", d)
				}
			case "CredentialTypeNotAllowedAsPerAppPolicy":
				if r.message() != "Credential type not allowed as per assigned policy" {
					t.Fatalf("message %q", r.message())
				}
			}
		})
	}
}

// TestCredentialConcurrencyWindow: credential writes to one app closer together than the window
// get 409 Directory_ConcurrencyViolation; after the window, or to another app, they pass; off by
// default.
func TestCredentialConcurrencyWindow(t *testing.T) {
	clock := &testClock{t: time.Now()}
	s := DefaultSettings()
	s.CredentialConcurrencyWindow = Duration(500 * time.Millisecond)
	g := newGraphEnv(t, Options{Now: clock.now, Settings: &s}, Workforce)
	a := g.createApp(map[string]any{"displayName": "one"})
	b := g.createApp(map[string]any{"displayName": "two"})
	add := func(app graphResp) graphResp {
		return g.call("POST", "/applications/"+app.str("id")+"/addPassword", map[string]any{})
	}
	first := g.must(add(a), 200)
	steps := []struct {
		name   string
		wait   time.Duration
		do     func() graphResp
		status int
	}{
		{"addPassword right after", 0, func() graphResp { return add(a) }, 409},
		{"another app meanwhile", 0, func() graphResp { return add(b) }, 200},
		{"removePassword within the window", 100 * time.Millisecond, func() graphResp {
			return g.call("POST", "/applications/"+a.str("id")+"/removePassword", map[string]any{"keyId": first.str("keyId")})
		}, 409},
		{"removePassword after the window", 500 * time.Millisecond, func() graphResp {
			return g.call("POST", "/applications/"+a.str("id")+"/removePassword", map[string]any{"keyId": first.str("keyId")})
		}, 204},
		{"keyCredentials PATCH right after", 0, func() graphResp {
			return g.call("PATCH", "/applications/"+a.str("id"), map[string]any{"keyCredentials": []any{}})
		}, 409},
		{"a PATCH without credentials", 0, func() graphResp {
			return g.call("PATCH", "/applications/"+a.str("id"), map[string]any{"displayName": "renamed"})
		}, 204},
		{"keyCredentials PATCH after the window", time.Second, func() graphResp {
			return g.call("PATCH", "/applications/"+a.str("id"), map[string]any{"keyCredentials": []any{}})
		}, 204},
	}
	for _, st := range steps {
		clock.advance(st.wait)
		r := st.do()
		if r.status != st.status {
			t.Fatalf("%s: %d, want %d: %s", st.name, r.status, st.status, r.raw)
		}
		if r.status == 409 && (r.code() != "Directory_ConcurrencyViolation" || r.message() != "Error due to concurrent requests being made to the tenant. Please wait briefly and retry.") {
			t.Fatalf("%s: %s", st.name, r.raw)
		}
	}
	// Off by default.
	d := newGraphEnv(t, Options{}, Workforce)
	c := d.createApp(map[string]any{"displayName": "three"})
	for i := 0; i < 3; i++ {
		d.must(d.call("POST", "/applications/"+c.str("id")+"/addPassword", map[string]any{}), 200)
	}
}

// TestConsentSettings: user consent on or off, and an earlier tenant-wide consent to the
// wizard's own sign-in client, decide who gets through the consent page (tenants.md §3).
func TestConsentSettings(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	app := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}}) // nobody consented yet
	toolAuthorize := "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {toolClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost"},
		"scope": {"openid profile offline_access https://graph.microsoft.com/User.Read https://graph.microsoft.com/Application.ReadWrite.All"}}.Encode()
	cases := []struct {
		name     string
		settings string
		upn      string
		url      string
		want     int // 0: signed in; else the AADSTS code on the page
	}{
		{"member consents for self to the Legacy scopes", `{"userConsent": true}`, "megan@contoso.onmicrosoft.com", authorizeURL(wf.ID, app.AppID, nil), 0},
		{"member refused with user consent off", `{"userConsent": false}`, "megan@contoso.onmicrosoft.com", authorizeURL(wf.ID, app.AppID, url.Values{"prompt": {"consent"}}), 90094},
		{"an admin still consents with user consent off", `{"userConsent": false}`, "alex@contoso.onmicrosoft.com", authorizeURL(wf.ID, app.AppID, url.Values{"prompt": {"consent"}}), 0},
		{"member asks the tool for admin scopes, no earlier consent", `{"userConsent": true, "toolConsentGranted": false}`, "megan@contoso.onmicrosoft.com", toolAuthorize, 90094},
		{"App Developer asks the tool for admin scopes, no earlier consent", `{"toolConsentGranted": false}`, "lee@contoso.onmicrosoft.com", toolAuthorize, 90094},
		{"member signs in to the tool after tenant-wide consent", `{"toolConsentGranted": true}`, "megan@contoso.onmicrosoft.com", toolAuthorize, 0},
		{"App Developer signs in to the tool after tenant-wide consent", `{"toolConsentGranted": true}`, "lee@contoso.onmicrosoft.com", toolAuthorize, 0},
		{"consent withdrawn again", `{"toolConsentGranted": false}`, "lee@contoso.onmicrosoft.com", toolAuthorize, 90094},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, body := putSettings(t, e, "?tenant=contoso", c.settings); status != 200 {
				t.Fatalf("settings: %d %s", status, body)
			}
			a, err := emuclient.SignIn(context.Background(), browser(e), c.url, emuclient.SignInOptions{Username: c.upn, Password: DemoPassword})
			var pe *emuclient.PageError
			switch {
			case c.want == 0 && (err != nil || a.Params().Get("code") == ""):
				t.Fatalf("sign-in: %v %v", err, a)
			case c.want != 0 && (!errors.As(err, &pe) || pe.Code != c.want):
				t.Fatalf("sign-in: %v %v, want AADSTS%d", err, a, c.want)
			}
		})
	}
	// The tool's tenant-wide grant is an ordinary oauth2PermissionGrant while the setting is on.
	if err := e.SetSettings("contoso", Settings{AllowedToCreateApps: true, UserConsent: true, ToolConsentGranted: true}); err != nil {
		t.Fatal(err)
	}
	var grants []*Grant
	e.Store().View(func(*Directory) {
		sp := wf.SPByAppID(toolClientID)
		for _, gr := range wf.Grants {
			if sp != nil && gr.ClientID == sp.ID && gr.ConsentType == "AllPrincipals" {
				grants = append(grants, gr)
			}
		}
	})
	if len(grants) != 1 || !strings.Contains(grants[0].Scope, "Application.ReadWrite.All") {
		t.Fatalf("tool grants %+v", grants)
	}
}

// TestB2CTenant: Options.B2CTenant adds an Azure AD B2C tenant whose organization.tenantType is
// "AAD B2C" for a token that may read it (Organization.Read.All), null with User.Read alone.
func TestB2CTenant(t *testing.T) {
	g := newGraphEnv(t, Options{B2CTenant: true}, B2C)
	if g.tenant == nil {
		t.Fatal("no B2C tenant")
	}
	if ti, ok := g.e.Info().Tenant(B2C); !ok || ti.Domain != "fabrikamb2c.onmicrosoft.com" || len(ti.Users) < 2 || !ti.Users[0].Admin {
		t.Fatalf("info %+v", ti)
	}
	admin := g.tenant.Users[0].UserPrincipalName
	cases := []struct {
		name string
		tok  string
		want any
	}{
		{"User.Read only", g.userToken(admin, "User.Read"), nil},
		{"Organization.Read.All", g.userToken(admin, "User.Read", "Organization.Read.All"), "AAD B2C"},
		{"app-only Organization.Read.All", g.appToken("Organization.Read.All"), "AAD B2C"},
	}
	for _, c := range cases {
		r := g.must(g.callAs(c.tok, "GET", "/organization", nil), 200)
		org := r.body["value"].([]any)[0].(map[string]any)
		if org["tenantType"] != c.want {
			t.Errorf("%s: tenantType %v, want %v", c.name, org["tenantType"], c.want)
		}
	}
	// Not there unless asked for.
	if _, ok := start(t, Options{}).Info().Tenant(B2C); ok {
		t.Error("a B2C tenant without Options.B2CTenant")
	}
}

// TestDeletedAppKeepsItsUniqueName: the upsert by a soft-deleted app's uniqueName is refused
// with 400 Request_BadRequest until the app is purged (tenants.md §5).
func TestDeletedAppKeepsItsUniqueName(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	tok := g.userToken("adele@contoso.onmicrosoft.com", toolScopes...)
	prefer := "Prefer: create-if-missing"
	a := g.must(g.callAs(tok, "PATCH", "/applications(uniqueName='held')", map[string]any{"displayName": "held"}, prefer), 201)
	g.must(g.callAs(tok, "DELETE", "/applications/"+a.str("id"), nil), 204)
	for _, st := range []struct {
		name   string
		method string
		path   string
		status int
		code   string
	}{
		{"upsert while deleted", "PATCH", "/applications(uniqueName='held')", 400, "Request_BadRequest"},
		{"purge", "DELETE", "/directory/deletedItems/" + a.str("id"), 204, ""},
		{"upsert after purge", "PATCH", "/applications(uniqueName='held')", 201, ""},
	} {
		var body any
		if st.method == "PATCH" {
			body = map[string]any{"displayName": "again"}
		}
		r := g.callAs(tok, st.method, st.path, body, prefer)
		if r.status != st.status || r.code() != st.code {
			t.Fatalf("%s: %d %s, want %d %s", st.name, r.status, r.raw, st.status, st.code)
		}
	}
}
