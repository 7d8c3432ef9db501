package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// Contract tests for every endpoint the samples' libraries call (shared/facts/endpoints.md §6),
// curl-shaped: plain net/http requests, checked on status, headers and the fields the libraries
// read, for both tenant kinds, under the real host names (through the emulator's Transport) and
// at the local base.

// authorityCase is one authority as a sample configures it, and where its endpoints live.
type authorityCase struct {
	name      string
	kind      TenantType
	authority string // as configured: …/{t} or …/{sub}.onmicrosoft.com
	endpoints string // where the documents put the endpoints: host + /{tid}
	host      string // the instance discovery host (host[:port])
}

func authorityCases(e *Emulator) []authorityCase {
	wf, ex := tenantOfType(e, Workforce), tenantOfType(e, ExternalID)
	sub := ex.Subdomain()
	local := strings.TrimPrefix(e.URL(), "https://")
	return []authorityCase{
		{"workforce/real", Workforce, "https://login.microsoftonline.com/" + wf.Domain, "https://login.microsoftonline.com/" + wf.ID, "login.microsoftonline.com"},
		{"workforce/local", Workforce, e.URL() + "/" + wf.ID, e.URL() + "/" + wf.ID, local},
		{"external/real", ExternalID, "https://" + sub + ".ciamlogin.com/" + ex.Domain, "https://" + sub + ".ciamlogin.com/" + ex.ID, sub + ".ciamlogin.com"},
		{"external/local", ExternalID, e.URL() + "/ciam/" + sub + "/" + ex.Domain, e.URL() + "/ciam/" + sub + "/" + ex.ID, local},
	}
}

// curl is one plain request without following redirects; it returns the status, the headers and
// the body.
func curl(t testing.TB, c *http.Client, method, u string, form url.Values) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func curlJSON(t testing.TB, c *http.Client, u string) (int, map[string]any) {
	t.Helper()
	st, h, b := curl(t, c, http.MethodGet, u, nil)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s, not JSON: %s", u, st, h.Get("Content-Type"), b)
	}
	return st, m
}

// TestContractDiscoveryV2AndV1: rows 2-6. The v2.0 document (msal-node, MSAL Python, ASP.NET)
// and the v1 document (the `identity` package's sign-out, AadIssuerValidator) with their GUID
// endpoints, and the JWKS both name.
func TestContractDiscoveryV2AndV1(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	for _, tc := range authorityCases(e) {
		t.Run(tc.name, func(t *testing.T) {
			ten := tenantOfType(e, tc.kind)
			st, v2 := curlJSON(t, c, tc.authority+"/v2.0/.well-known/openid-configuration")
			if st != 200 {
				t.Fatalf("v2.0 document: %d %v", st, v2)
			}
			for k, want := range map[string]string{
				"authorization_endpoint": tc.endpoints + "/oauth2/v2.0/authorize",
				"token_endpoint":         tc.endpoints + "/oauth2/v2.0/token",
				"end_session_endpoint":   tc.endpoints + "/oauth2/v2.0/logout",
				"jwks_uri":               tc.endpoints + "/discovery/v2.0/keys",
			} {
				if v2[k] != want {
					t.Errorf("v2.0 %s = %v; want %s", k, v2[k], want)
				}
			}
			st, h, raw := curl(t, c, http.MethodGet, tc.authority+"/.well-known/openid-configuration", nil)
			var v1 map[string]any
			if err := json.Unmarshal(raw, &v1); st != 200 || err != nil {
				t.Fatalf("v1 document: %d %s", st, raw)
			}
			if h.Get("Cache-Control") != "max-age=86400, private" || h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("v1 document headers: %v", h)
			}
			for k, want := range map[string]string{
				"authorization_endpoint": tc.endpoints + "/oauth2/authorize",
				"token_endpoint":         tc.endpoints + "/oauth2/token",
				"end_session_endpoint":   tc.endpoints + "/oauth2/logout",
				"issuer":                 "https://sts.windows.net/" + ten.ID + "/",
			} {
				if v1[k] != want {
					t.Errorf("v1 %s = %v; want %s", k, v1[k], want)
				}
			}
			if v1["frontchannel_logout_supported"] != true || v1["microsoft_multi_refresh_token"] != true {
				t.Errorf("v1 document: %v", v1)
			}
			// Both JWKS answer with the signing key.
			for _, u := range []string{v2["jwks_uri"].(string), v1["jwks_uri"].(string)} {
				st, keys := curlJSON(t, c, u)
				if ks, _ := keys["keys"].([]any); st != 200 || len(ks) == 0 {
					t.Errorf("GET %s: %d %v", u, st, keys)
				}
			}
		})
	}
	// The common v1 document, as captured: issuer template, common endpoints.
	for _, base := range []string{"https://login.microsoftonline.com", e.URL()} {
		st, doc := curlJSON(t, c, base+"/common/.well-known/openid-configuration")
		if st != 200 || doc["issuer"] != "https://sts.windows.net/{tenantid}/" || doc["end_session_endpoint"] != base+"/common/oauth2/logout" ||
			doc["jwks_uri"] != base+"/common/discovery/keys" {
			t.Errorf("%s common v1: %d %v", base, st, doc)
		}
	}
	// An unknown tenant: the v1 document answers as the v2.0 one does.
	st, body := curlJSON(t, c, "https://login.microsoftonline.com/nosuch.onmicrosoft.com/.well-known/openid-configuration")
	if st != 400 || body["error"] != "invalid_tenant" || errorCode(body) != 90002 {
		t.Errorf("unknown tenant v1: %d %v", st, body)
	}
}

// TestContractInstanceDiscovery: row 1, as the Node workforce sample's own axios call sends it
// (raw, unencoded authorization_endpoint) and as MSAL does (encoded; api-version 1.0 too), asked
// under the real name and at the local base, about the real hosts and the emulator's own.
func TestContractInstanceDiscovery(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	for _, tc := range authorityCases(e) {
		for _, at := range []string{"https://login.microsoftonline.com", e.URL()} {
			for _, ver := range []string{"1.1", "1.0"} {
				ae := tc.authority + "/oauth2/v2.0/authorize"
				for _, q := range []string{
					"api-version=" + ver + "&authorization_endpoint=" + ae,                  // axios with the sample's params object encodes; msal-node appends it raw
					"api-version=" + ver + "&authorization_endpoint=" + url.QueryEscape(ae), // MSAL Python, MSAL.NET
				} {
					st, h, raw := curl(t, c, http.MethodGet, at+"/common/discovery/instance?"+q, nil)
					var body struct {
						TDE      string `json:"tenant_discovery_endpoint"`
						Version  string `json:"api-version"`
						Metadata []struct {
							PreferredNetwork string   `json:"preferred_network"`
							PreferredCache   string   `json:"preferred_cache"`
							Aliases          []string `json:"aliases"`
						} `json:"metadata"`
					}
					if err := json.Unmarshal(raw, &body); st != 200 || err != nil {
						t.Fatalf("%s %s: %d %s", tc.name, q, st, raw)
					}
					if h.Get("Cache-Control") != "max-age=86400, private" {
						t.Errorf("%s: Cache-Control %q", tc.name, h.Get("Cache-Control"))
					}
					if body.TDE != tc.authority+"/v2.0/.well-known/openid-configuration" || body.Version != ver {
						t.Errorf("%s %s: tenant_discovery_endpoint %q api-version %q", tc.name, q, body.TDE, body.Version)
					}
					if len(body.Metadata) < 5 || body.Metadata[0].PreferredNetwork != "login.microsoftonline.com" || body.Metadata[0].PreferredCache != "login.windows.net" {
						t.Fatalf("%s: metadata %+v; want the clouds' five entries first", tc.name, body.Metadata)
					}
					found := 0
					for _, m := range body.Metadata {
						for _, a := range m.Aliases {
							if a == tc.host {
								found++
								if m.PreferredNetwork != tc.host && m.PreferredNetwork != "login.microsoftonline.com" {
									t.Errorf("%s: %s is an alias of %s", tc.name, tc.host, m.PreferredNetwork)
								}
							}
						}
					}
					if found != 1 {
						t.Errorf("%s: %s is in %d metadata entries; want 1", tc.name, tc.host, found)
					}
				}
			}
		}
	}
	// The v1 authorization endpoint points at the v1 document.
	wf := tenantOfType(e, Workforce)
	st, body := curlJSON(t, c, "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/"+wf.ID+"/oauth2/authorize")
	if st != 200 || body["tenant_discovery_endpoint"] != "https://login.microsoftonline.com/"+wf.ID+"/.well-known/openid-configuration" {
		t.Errorf("v1 authorization endpoint: %d %v", st, body)
	}
	// A host that is not a sign-in host: 400 invalid_instance, AADSTS50049, as Entra answers.
	for _, ae := range []string{"https://login.example.com/x/oauth2/v2.0/authorize", "https://localhost:1/x/oauth2/v2.0/authorize", "http://login.microsoftonline.com/x/oauth2/v2.0/authorize"} {
		st, body := curlJSON(t, c, "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape(ae))
		if st != 400 || body["error"] != "invalid_instance" || errorCode(body) != 50049 ||
			!strings.HasPrefix(body["error_description"].(string), "AADSTS50049: Unknown or invalid instance.") {
			t.Errorf("%s: %d %v", ae, st, body)
		}
	}
}

// TestContractLogoutV1: row 11, the `identity` package's sign-out: the v1 document's
// end_session_endpoint with the home page as post_logout_redirect_uri (its origin registered,
// not the URI itself) ends the session and returns there, with no account picker.
func TestContractLogoutV1(t *testing.T) {
	e := start(t, Options{})
	for _, tc := range authorityCases(e) {
		t.Run(tc.name, func(t *testing.T) {
			ta := addApp(t, e, appSpec{kind: tc.kind, redirects: []string{"http://localhost:5000/getAToken"}, consent: "openid profile offline_access User.Read"})
			user := map[TenantType]string{Workforce: "megan@contoso.onmicrosoft.com", ExternalID: "ada@example.com"}[tc.kind]
			c := browser(e)
			authz := tc.authority + "/oauth2/v2.0/authorize?" + url.Values{"client_id": {ta.AppID}, "response_type": {"code"},
				"scope": {"openid profile offline_access"}, "redirect_uri": {"http://localhost:5000/getAToken"}, "prompt": {"select_account"}}.Encode()
			if _, err := emuclient.SignInWithForm(context.Background(), c, authz, user, DemoPassword); err != nil {
				t.Fatal(err)
			}
			_, v1 := curlJSON(t, c, tc.authority+"/.well-known/openid-configuration")
			end := v1["end_session_endpoint"].(string)
			// As identity/web.py builds it: unencoded, no client_id, no hint.
			st, h, body := curl(t, c, http.MethodGet, end+"?post_logout_redirect_uri=http://localhost:5000/", nil)
			if st != http.StatusFound || h.Get("Location") != "http://localhost:5000/" {
				t.Fatalf("v1 logout: %d Location %q %s", st, h.Get("Location"), body)
			}
			// Signed out: the next sign-in shows the login form again.
			e.ResetRequests()
			if _, err := emuclient.SignInWithForm(context.Background(), c, authz, user, DemoPassword); err != nil {
				t.Fatal(err)
			}
			if n := countRoute(e, "login.credentials"); n != 1 {
				t.Fatalf("after the v1 sign-out the password was posted %d times; want 1", n)
			}
			// Another origin is not followed: the signed-out page (127.0.0.1 is not localhost; a
			// loopback port is ignored, as for redirect URIs).
			st, h, body = curl(t, c, http.MethodGet, end+"?post_logout_redirect_uri=http://127.0.0.1:5000/", nil)
			if st != 200 || h.Get("Location") != "" || !strings.Contains(string(body), "You signed out of your account") {
				t.Fatalf("v1 logout to another origin: %d %q", st, h.Get("Location"))
			}
		})
	}
}

// TestContractFrontChannelFromTheBrowserOnly: row 12. The end-session answer is the signed-out
// page whose hidden iframes load each signed-in app's logoutUrl?sid= (sid only, no iss); the
// emulator itself never calls the app, so a plain HTTP client that does not load frames leaves
// the app untold, and the scripted browser, which loads them, tells it once.
func TestContractFrontChannelFromTheBrowserOnly(t *testing.T) {
	e := start(t, Options{})
	for _, tc := range authorityCases(e) {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []url.Values
			app := httptestApp(t, func(r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, r.URL.Query())
			})
			called := func() []url.Values {
				mu.Lock()
				defer mu.Unlock()
				return append([]url.Values(nil), calls...)
			}
			ta := addApp(t, e, appSpec{kind: tc.kind, redirects: []string{"http://localhost:3000/auth/redirect", "http://localhost:3000"},
				consent: "openid profile offline_access User.Read", logoutURL: app + "/signout-oidc"})
			user := map[TenantType]string{Workforce: "megan@contoso.onmicrosoft.com", ExternalID: "ada@example.com"}[tc.kind]
			authz := tc.authority + "/oauth2/v2.0/authorize?" + url.Values{"client_id": {ta.AppID}, "response_type": {"code"},
				"scope": {"openid profile offline_access"}, "redirect_uri": {"http://localhost:3000/auth/redirect"}}.Encode()
			c := browser(e)
			back, err := emuclient.SignInWithForm(context.Background(), c, authz, user, DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			_, tok := tokenCall(t, e.Client(), tc.endpoints+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
				"client_id": {ta.AppID}, "client_secret": {ta.Secret}, "code": {back.Query().Get("code")}, "redirect_uri": {"http://localhost:3000/auth/redirect"}})
			sid, _ := claimsOf(t, tok["id_token"].(string))["sid"].(string)
			if sid == "" {
				t.Fatalf("no sid in the ID token")
			}
			// Plain HTTP, as the Node samples build it: the page, and no call to the app.
			st, _, body := curl(t, c, http.MethodGet, tc.authority+"/oauth2/v2.0/logout?post_logout_redirect_uri=http://localhost:3000", nil)
			want := `<iframe class="frontchannel" src="` + app + `/signout-oidc?sid=` + sid + `"`
			if st != 200 || !strings.Contains(string(body), want) || !strings.Contains(string(body), `id="post-logout" href="http://localhost:3000/"`) {
				t.Fatalf("signed-out page: %d, want %s in\n%s", st, want, body)
			}
			if got := called(); len(got) != 0 {
				t.Fatalf("the emulator called the app itself: %v", got)
			}
			// The scripted browser loads the frame.
			if _, err := emuclient.SignInWithForm(context.Background(), c, authz, user, DemoPassword); err != nil {
				t.Fatal(err)
			}
			to, err := emuclient.SignOut(context.Background(), c, tc.authority+"/oauth2/v2.0/logout?post_logout_redirect_uri=http://localhost:3000")
			got := called()
			if err != nil || to == nil || to.String() != "http://localhost:3000/" || len(got) != 1 || got[0].Get("sid") == "" || got[0].Has("iss") {
				t.Fatalf("sign-out in the scripted browser: %v %v, app calls %v", to, err, got)
			}
		})
	}
}

// TestContractSampleSignIn: rows 7-10 as the samples' libraries send them. Authorize with
// form_post (msal-node: PKCE, client_info, no nonce) and with query (MSAL Python:
// prompt=select_account, nonce, PKCE); the code redeemed with client_secret_post at the
// document's token endpoint (a query string on it ignored); the refresh grant; Graph /me with the
// access token; the v2.0 logout as the Node samples build it (unencoded, no client_id) and as
// ASP.NET does (encoded, state echoed).
func TestContractSampleSignIn(t *testing.T) {
	e := start(t, Options{})
	for _, tc := range authorityCases(e) {
		t.Run(tc.name, func(t *testing.T) {
			const redirect, home = "http://localhost:3000/auth/redirect", "http://localhost:3000"
			ta := addApp(t, e, appSpec{kind: tc.kind, redirects: []string{redirect, home}, consent: "openid profile offline_access User.Read", userFlow: true})
			user := map[TenantType]string{Workforce: "megan@contoso.onmicrosoft.com", ExternalID: "ada@example.com"}[tc.kind]
			graph := "https://graph.microsoft.com"
			if strings.HasPrefix(tc.authority, e.URL()) {
				graph = e.URL()
			}
			c := browser(e)
			_, doc := curlJSON(t, c, tc.authority+"/v2.0/.well-known/openid-configuration")
			for _, mode := range []string{"form_post", "query"} {
				verifier, challenge := pkcePair()
				q := url.Values{"client_id": {ta.AppID}, "response_type": {"code"}, "redirect_uri": {redirect}, "response_mode": {mode},
					"scope": {"User.Read openid profile offline_access"}, "state": {"st-" + mode}, "client_info": {"1"},
					"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
				if mode == "query" {
					q.Set("nonce", "n-0S6_WzA2Mj")
					q.Set("prompt", "select_account")
				}
				a, err := emuclient.SignIn(context.Background(), c, doc["authorization_endpoint"].(string)+"?"+q.Encode(), emuclient.SignInOptions{Username: user, Password: DemoPassword})
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				p := a.Params()
				wantMethod := map[string]string{"form_post": http.MethodPost, "query": http.MethodGet}[mode]
				if a.Method != wantMethod || a.URL.Scheme+"://"+a.URL.Host+a.URL.Path != redirect || p.Get("code") == "" || p.Get("state") != "st-"+mode ||
					p.Get("session_state") == "" || p.Get("client_info") == "" {
					t.Fatalf("%s answer: %s %s %v", mode, a.Method, a.URL, p)
				}
				st, tok := tokenCall(t, e.Client(), doc["token_endpoint"].(string)+"?client-request-id=x", url.Values{"grant_type": {"authorization_code"},
					"client_id": {ta.AppID}, "client_secret": {ta.Secret}, "code": {p.Get("code")}, "redirect_uri": {redirect},
					"code_verifier": {verifier}, "scope": {"User.Read openid profile offline_access"}, "client_info": {"1"}})
				if st != 200 {
					t.Fatalf("%s redemption: %d %v", mode, st, tok)
				}
				for _, k := range []string{"token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token", "client_info"} {
					if tok[k] == nil {
						t.Errorf("%s: the token answer has no %s", mode, k)
					}
				}
				idc := claimsOf(t, tok["id_token"].(string))
				if mode == "query" && idc["nonce"] != "n-0S6_WzA2Mj" {
					t.Errorf("nonce %v", idc["nonce"])
				}
				for _, k := range []string{"sid", "tid", "oid", "sub", "preferred_username"} {
					if idc[k] == nil {
						t.Errorf("%s: the ID token has no %s", mode, k)
					}
				}
				if idc["iss"] != doc["issuer"] {
					t.Errorf("ID token iss %v; document issuer %v", idc["iss"], doc["issuer"])
				}
				st, ref := tokenCall(t, e.Client(), doc["token_endpoint"].(string), url.Values{"grant_type": {"refresh_token"},
					"client_id": {ta.AppID}, "client_secret": {ta.Secret}, "refresh_token": {tok["refresh_token"].(string)}, "scope": {"User.Read openid profile offline_access"}})
				if st != 200 || ref["access_token"] == nil {
					t.Fatalf("%s refresh: %d %v", mode, st, ref)
				}
				req, _ := http.NewRequest(http.MethodGet, graph+"/v1.0/me", nil)
				req.Header.Set("Authorization", "Bearer "+ref["access_token"].(string))
				resp, err := e.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var me map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&me)
				resp.Body.Close()
				if resp.StatusCode != 200 || me["id"] != idc["oid"] || me["displayName"] == nil || me["userPrincipalName"] == nil {
					t.Fatalf("%s /me: %d %v", mode, resp.StatusCode, me)
				}
			}
			// Node: the configured authority + /oauth2/v2.0/logout, the URI unencoded.
			st, h, _ := curl(t, c, http.MethodGet, tc.authority+"/oauth2/v2.0/logout?post_logout_redirect_uri="+home, nil)
			if st != http.StatusFound || h.Get("Location") != home+"/" {
				t.Fatalf("Node-style logout: %d %q", st, h.Get("Location"))
			}
			// ASP.NET: signed in again, the document's end_session_endpoint, encoded URI, state
			// echoed, x-client-*.
			if _, err := emuclient.SignInWithForm(context.Background(), c, doc["authorization_endpoint"].(string)+"?"+url.Values{"client_id": {ta.AppID},
				"response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid profile"}}.Encode(), user, DemoPassword); err != nil {
				t.Fatal(err)
			}
			st, h, _ = curl(t, c, http.MethodGet, doc["end_session_endpoint"].(string)+"?"+url.Values{"post_logout_redirect_uri": {home},
				"state": {"CfDJ8"}, "x-client-SKU": {"ID_NET8_0"}, "x-client-ver": {"8.6.0.0"}}.Encode(), nil)
			if loc, _ := url.Parse(h.Get("Location")); st != http.StatusFound || loc == nil || loc.Query().Get("state") != "CfDJ8" {
				t.Fatalf("ASP.NET-style logout: %d %q", st, h.Get("Location"))
			}
		})
	}
}
