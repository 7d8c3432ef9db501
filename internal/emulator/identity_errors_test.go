package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// authorizeURL builds an authorize request at the real sign-in host.
func authorizeURL(tenant, clientID string, extra url.Values) string {
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid profile offline_access User.Read"},
		"redirect_uri": {testRedirect}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	for k, v := range q {
		if len(v) == 1 && v[0] == "-" {
			delete(q, k)
		}
	}
	return "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/authorize?" + q.Encode()
}

func TestAuthorizeErrorsOnThePage(t *testing.T) {
	e := start(t, Options{})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect, "https://localhost:5001/signin-oidc", "http://localhost:7071"}, consent: "openid profile offline_access User.Read"})
	noRedirects := addApp(t, e, appSpec{kind: Workforce, consent: "openid profile"})
	tid := ta.Tenant.ID
	cases := []struct {
		name string
		url  string
		code int
	}{
		{"unknown tenant", authorizeURL("nosuch.onmicrosoft.com", ta.AppID, nil), 90002},
		{"missing client_id", authorizeURL(tid, "", url.Values{"client_id": {"-"}}), 900144},
		{"unknown client", authorizeURL(tid, NewGUID(), nil), 700016},
		{"no reply address registered", authorizeURL(tid, noRedirects.AppID, nil), 500113},
		{"path differs in case", authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {"http://localhost:3000/Auth/redirect"}}), 50011},
		{"trailing slash", authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {testRedirect + "/"}}), 50011},
		{"127.0.0.1 is not localhost", authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {"http://127.0.0.1:3000/auth/redirect"}}), 50011},
		{"https registered, http asked", authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {"http://localhost:5001/signin-oidc"}}), 50011},
		{"missing response_type", authorizeURL(tid, ta.AppID, url.Values{"response_type": {"-"}}), 900144},
		{"app of another tenant", authorizeURL(tenantOfType(e, ExternalID).ID, ta.AppID, nil), 700016},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emuclient.SignIn(context.Background(), browser(e), tc.url, emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword})
			var pe *emuclient.PageError
			if !errors.As(err, &pe) || pe.Code != tc.code || pe.Status != 400 {
				t.Fatalf("got %v; want AADSTS%d on the error page", err, tc.code)
			}
		})
	}
	// The page itself, as a person sees it.
	resp, err := e.Client().Get(authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {"http://localhost:3000/wrong"}}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Sorry, but we’re having trouble signing you in.", "AADSTS50011", "http://localhost:3000/wrong", ta.AppID, "Request Id", "Correlation Id", "Timestamp"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("error page lacks %q", want)
		}
	}
	// Accepted forms: another localhost port, a URI without a path (answered with "/").
	for _, ru := range []string{"https://localhost:7274/signin-oidc", "http://localhost:7071", "http://localhost:7071/"} {
		back, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(tid, ta.AppID, url.Values{"redirect_uri": {ru}}), "adele@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatalf("%s: %v", ru, err)
		}
		if want := strings.TrimSuffix(ru, "/"); !strings.HasPrefix(back.String(), want) || (back.Path == "") {
			t.Fatalf("%s: came back to %s", ru, back)
		}
	}
}

func TestAuthorizeErrorsRedirected(t *testing.T) {
	e := start(t, Options{})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read"})
	tid := ta.Tenant.ID
	cases := []struct {
		name, url, errCode string
		code               int
	}{
		{"id_token not enabled", authorizeURL(tid, ta.AppID, url.Values{"response_type": {"code id_token"}, "nonce": {"n"}, "response_mode": {"form_post"}}), "unsupported_response_type", 700054},
		{"/common with a single-tenant app", authorizeURL("common", ta.AppID, nil), "invalid_request", 50194},
		{"missing scope", authorizeURL(tid, ta.AppID, url.Values{"scope": {"-"}}), "invalid_request", 900144},
		{"unknown Graph scope", authorizeURL(tid, ta.AppID, url.Values{"scope": {"openid Foo.Bar"}}), "invalid_client", 650053},
		{"another resource", authorizeURL(tid, ta.AppID, url.Values{"scope": {"openid api://nosuch/read"}}), "invalid_resource", 500011},
		{"declined consent", authorizeURL(tid, ta.AppID, url.Values{"prompt": {"consent"}}), "access_denied", 65004},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := emuclient.SignIn(context.Background(), browser(e), tc.url, emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword, DeclineConsent: true})
			if err != nil {
				t.Fatal(err)
			}
			p := a.Params()
			if p.Get("error") != tc.errCode || !strings.HasPrefix(p.Get("error_description"), "AADSTS"+strconv.Itoa(tc.code)+":") ||
				p.Get("state") != "st" || !strings.HasSuffix(p.Get("error_uri"), "code="+strconv.Itoa(tc.code)) {
				t.Fatalf("redirected error %v", p)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	clock := &testClock{t: time.Now()}
	e := start(t, Options{Now: clock.now})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read", cert: true})
	tokenURL := "https://login.microsoftonline.com/" + ta.Tenant.ID + "/oauth2/v2.0/token"
	c := e.Client()
	verifier, challenge := pkcePair()
	codeFor := func() string {
		back, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(ta.Tenant.ID, ta.AppID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}), "adele@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		return back.Query().Get("code")
	}
	redeem := func(code string, mod func(url.Values)) (int, map[string]any) {
		f := url.Values{"client_id": {ta.AppID}, "grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
			"code_verifier": {verifier}, "client_secret": {ta.Secret}, "scope": {"openid profile offline_access User.Read"}}
		if mod != nil {
			mod(f)
		}
		return tokenCall(t, c, tokenURL, f)
	}
	// Success with client_secret_basic (URL-encoded per RFC 6749).
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {codeFor()},
		"redirect_uri": {testRedirect}, "code_verifier": {verifier}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(ta.AppID), url.QueryEscape(ta.Secret))
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("client_secret_basic: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	cases := []struct {
		name    string
		mod     func(url.Values)
		status  int
		errCode string
		code    int
	}{
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "nope") }, 401, "invalid_client", 7000215},
		{"no credential", func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client", 7000218},
		{"PKCE verifier mismatch", func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) }, 400, "invalid_grant", 501481},
		{"empty verifier means none", func(f url.Values) { f.Set("code_verifier", "") }, 400, "invalid_grant", 501481},
		{"redirect_uri differs", func(f url.Values) { f.Set("redirect_uri", "http://localhost:3000/other") }, 400, "invalid_grant", 70000},
		{"malformed code", func(f url.Values) { f.Set("code", "garbage") }, 400, "invalid_grant", 9002313},
		{"unknown grant type", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type", 70003},
		{"assertion with an unregistered certificate", func(f url.Values) {
			other := &testApp{AppID: ta.AppID}
			other.Key, other.Cert = newTestCert(t)
			f.Del("client_secret")
			f.Set("client_assertion_type", assertionTypeJWT)
			f.Set("client_assertion", clientAssertion(t, other, assertionStyle{alg: jose.PS256, header: "x5t#S256", aud: tokenURL}))
		}, 401, "invalid_client", 700027},
		{"assertion for another audience", func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", assertionTypeJWT)
			f.Set("client_assertion", clientAssertion(t, ta, assertionStyle{alg: jose.RS256, header: "x5t", aud: "https://login.microsoftonline.com/other/oauth2/v2.0/token"}))
		}, 401, "invalid_client", 50012},
		{"expired assertion", func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", assertionTypeJWT)
			f.Set("client_assertion", clientAssertion(t, ta, assertionStyle{alg: jose.RS256, header: "x5t", aud: tokenURL, exp: -10 * time.Minute}))
		}, 401, "invalid_client", 700024},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := redeem(codeFor(), tc.mod)
			if status != tc.status || body["error"] != tc.errCode || errorCode(body) != tc.code ||
				!strings.HasPrefix(body["error_description"].(string), "AADSTS"+strconv.Itoa(tc.code)+":") || body["trace_id"] == nil || body["correlation_id"] == nil {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
	t.Run("refresh for a scope without consent", func(t *testing.T) {
		_, body := redeem(codeFor(), nil)
		status, body := tokenCall(t, c, tokenURL, url.Values{"client_id": {ta.AppID}, "client_secret": {ta.Secret}, "grant_type": {"refresh_token"},
			"refresh_token": {body["refresh_token"].(string)}, "scope": {"https://graph.microsoft.com/Directory.Read.All offline_access"}})
		if status != 400 || body["error"] != "invalid_grant" || errorCode(body) != 65001 || body["suberror"] != "consent_required" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("PKCE plain", func(t *testing.T) {
		plain := strings.Repeat("p", 50)
		back, err := emuclient.SignInWithForm(context.Background(), browser(e), authorizeURL(ta.Tenant.ID, ta.AppID, url.Values{"code_challenge": {plain}}), "adele@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := redeem(back.Query().Get("code"), func(f url.Values) { f.Set("code_verifier", plain) }); status != 200 {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("code reused", func(t *testing.T) {
		code := codeFor()
		if status, body := redeem(code, nil); status != 200 {
			t.Fatalf("first redemption: %v", body)
		}
		if status, body := redeem(code, nil); status != 400 || errorCode(body) != 54005 {
			t.Fatalf("second redemption: %d %v", status, body)
		}
	})
	t.Run("code expired", func(t *testing.T) {
		code := codeFor()
		clock.advance(11 * time.Minute)
		if status, body := redeem(code, nil); status != 400 || errorCode(body) != 70008 {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("secret expired", func(t *testing.T) {
		code := codeFor()
		_ = e.Store().Do(func(d *Directory) error {
			ta.Tenant.AppByAppID(ta.AppID).PasswordCredentials[0].EndDateTime = clock.now().Add(-time.Minute)
			return nil
		})
		if status, body := redeem(code, nil); status != 401 || errorCode(body) != 7000222 {
			t.Fatalf("%d %v", status, body)
		}
	})
}

// testClock is a clock tests move forward.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
