package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

const testRedirect = "http://localhost:3000/auth/redirect"

// relyingParty is a go-oidc + x/oauth2 client of the emulator, as the verification server is.
type relyingParty struct {
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
	ctx      context.Context
	issuer   string
}

// newRP discovers an authority. For External ID reached by the subdomain host, the issuer is the
// tenant-id host (facts/identity.md §1.3): go-oidc compares the document's issuer with the URL it
// fetched, so the subdomain form needs InsecureIssuerURLContext with the issuer computed from the
// tenant id (what the verification server does); the tenant-id host form needs nothing special.
func newRP(t *testing.T, e *Emulator, discoveryBase, expectIssuer string, ta *testApp, secret string) *relyingParty {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), e.Client())
	if discoveryBase != expectIssuer {
		ctx = oidc.InsecureIssuerURLContext(ctx, expectIssuer)
	}
	p, err := oidc.NewProvider(ctx, discoveryBase)
	if err != nil {
		t.Fatalf("discovery of %s: %v", discoveryBase, err)
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &relyingParty{
		provider: p, ctx: ctx, issuer: expectIssuer,
		conf:     oauth2.Config{ClientID: ta.AppID, ClientSecret: secret, Endpoint: ep, RedirectURL: testRedirect, Scopes: []string{"openid", "profile", "offline_access", "User.Read"}},
		verifier: p.Verifier(&oidc.Config{ClientID: ta.AppID}),
	}
}

func TestOIDCCodeFlowBothTenantKinds(t *testing.T) {
	e := start(t, Options{})
	wf, ex := tenantOfType(e, Workforce), tenantOfType(e, ExternalID)
	cases := []struct {
		name      string
		kind      TenantType
		discovery func() string
		issuer    func() string
		user      string
		cred      string // secret, or an assertion style
		style     assertionStyle
	}{
		{name: "workforce by id, secret", kind: Workforce, user: "adele@contoso.onmicrosoft.com", cred: "secret",
			discovery: func() string { return "https://login.microsoftonline.com/" + wf.ID + "/v2.0" },
			issuer:    func() string { return "https://login.microsoftonline.com/" + wf.ID + "/v2.0" }},
		{name: "workforce, certificate PS256 x5t#S256 standard base64 (MSAL Go)", kind: Workforce, user: "megan@contoso.onmicrosoft.com", cred: "cert",
			style:     assertionStyle{alg: jose.PS256, header: "x5t#S256", stdB64: true},
			discovery: func() string { return "https://login.microsoftonline.com/" + wf.ID + "/v2.0" },
			issuer:    func() string { return "https://login.microsoftonline.com/" + wf.ID + "/v2.0" }},
		{name: "workforce at the local base, certificate RS256 x5t", kind: Workforce, user: "adele@contoso.onmicrosoft.com", cred: "cert",
			style:     assertionStyle{alg: jose.RS256, header: "x5t"},
			discovery: func() string { return e.URL() + "/" + wf.ID + "/v2.0" },
			issuer:    func() string { return e.URL() + "/" + wf.ID + "/v2.0" }},
		{name: "external by subdomain host, secret", kind: ExternalID, user: "ada@example.com", cred: "secret",
			discovery: func() string { return "https://" + ex.Subdomain() + ".ciamlogin.com/" + ex.ID + "/v2.0" },
			issuer:    func() string { return "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0" }},
		{name: "external by tenant-id host, certificate RS256 x5t#S256", kind: ExternalID, user: "ada@example.com", cred: "cert",
			style:     assertionStyle{alg: jose.RS256, header: "x5t#S256"},
			discovery: func() string { return "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0" },
			issuer:    func() string { return "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0" }},
		{name: "external at the local base, secret", kind: ExternalID, user: "ada@example.com", cred: "secret",
			discovery: func() string { return e.URL() + "/ciam/" + ex.Subdomain() + "/" + ex.ID + "/v2.0" },
			issuer:    func() string { return e.URL() + "/ciam/" + ex.ID + "/" + ex.ID + "/v2.0" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := addApp(t, e, appSpec{kind: tc.kind, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read", cert: tc.cred == "cert"})
			secret := ta.Secret
			if tc.cred == "cert" {
				secret = ""
			}
			rp := newRP(t, e, tc.discovery(), tc.issuer(), ta, secret)
			verifier, challenge := pkcePair()
			nonce := NewGUID()
			authURL := rp.conf.AuthCodeURL("st-1", oauth2.SetAuthURLParam("code_challenge", challenge),
				oauth2.SetAuthURLParam("code_challenge_method", "S256"), oidc.Nonce(nonce))
			back, err := emuclient.SignInWithForm(context.Background(), browser(e), authURL, tc.user, DemoPassword)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			q := back.Query()
			if !strings.HasPrefix(back.String(), testRedirect+"?") || q.Get("state") != "st-1" || q.Get("code") == "" || q.Get("session_state") == "" {
				t.Fatalf("redirect back: %s", back)
			}
			opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("scope", "openid profile offline_access User.Read")}
			if tc.cred == "cert" {
				st := tc.style
				st.aud = rp.provider.Endpoint().TokenURL
				opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", assertionTypeJWT),
					oauth2.SetAuthURLParam("client_assertion", clientAssertion(t, ta, st)))
			}
			tok, err := rp.conf.Exchange(oidc.ClientContext(context.Background(), e.Client()), q.Get("code"), opts...)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := rp.verifier.Verify(rp.ctx, raw)
			if err != nil {
				t.Fatalf("ID token does not verify: %v", err)
			}
			var cl struct {
				Tid, Nonce, Name, Oid, Sid, Ver string
				PreferredUsername               string `json:"preferred_username"`
			}
			_ = idt.Claims(&cl)
			if idt.Issuer != tc.issuer() || cl.Tid != ta.Tenant.ID || cl.Nonce != nonce || cl.Ver != "2.0" || cl.Sid == "" || cl.Oid == "" ||
				!strings.EqualFold(cl.PreferredUsername, tc.user) || cl.Name == "" || idt.Subject == cl.Oid {
				t.Fatalf("ID token claims: iss %s %+v", idt.Issuer, cl)
			}
			if tok.RefreshToken == "" || tok.AccessToken == "" {
				t.Fatalf("no refresh or access token: %+v", tok)
			}
			if s, _ := tok.Extra("scope").(string); !strings.Contains(s, "User.Read") {
				t.Fatalf("scope %q lacks the requested User.Read", s)
			}
			at := claimsOf(t, tok.AccessToken)
			if at["aud"] != GraphAudience || !strings.Contains(at["scp"].(string), "User.Read") || at["oid"] != cl.Oid {
				t.Fatalf("access token claims: %v", at)
			}
			// The refresh token works (a certificate client authenticates again).
			if tc.cred == "secret" {
				ts := rp.conf.TokenSource(oidc.ClientContext(context.Background(), e.Client()), &oauth2.Token{RefreshToken: tok.RefreshToken})
				nt, err := ts.Token()
				if err != nil || nt.AccessToken == "" || nt.RefreshToken == "" {
					t.Fatalf("refresh: %v %+v", err, nt)
				}
			}
		})
	}
}

func TestKeyRotationIsPickedUpByGoOIDC(t *testing.T) {
	e := start(t, Options{})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read"})
	rp := newRP(t, e, "https://login.microsoftonline.com/"+ta.Tenant.ID+"/v2.0", "https://login.microsoftonline.com/"+ta.Tenant.ID+"/v2.0", ta, ta.Secret)
	c := browser(e)
	signInOnce := func() string {
		back, err := emuclient.SignInWithForm(context.Background(), c, rp.conf.AuthCodeURL("s"), "adele@contoso.onmicrosoft.com", DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := rp.conf.Exchange(oidc.ClientContext(context.Background(), e.Client()), back.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		raw := tok.Extra("id_token").(string)
		if _, err := rp.verifier.Verify(rp.ctx, raw); err != nil {
			t.Fatalf("verify: %v", err)
		}
		return raw
	}
	first := signInOnce()
	if err := e.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	second := signInOnce()
	kid := func(tok string) string {
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var h map[string]string
		_ = json.Unmarshal(b, &h)
		return h["kid"]
	}
	if kid(first) == kid(second) {
		t.Fatalf("rotation did not change the signing key")
	}
	fetches := 0
	for _, r := range e.Requests() {
		if r.Route == "login.keys" {
			fetches++
		}
	}
	if fetches != 2 {
		t.Fatalf("JWKS fetched %d times; want 2 (once at first use, once for the new kid)", fetches)
	}
	// The old token still verifies: the old key stays published during the rollover.
	if _, err := rp.verifier.Verify(rp.ctx, first); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
}

func TestFrontChannelLogoutAndPostLogoutRedirect(t *testing.T) {
	var mu sync.Mutex
	var sids []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/signout-callback-oidc" {
			sids = append(sids, r.URL.Query().Get("sid")+"|"+r.URL.Query().Get("iss"))
		}
	}))
	defer app.Close()
	e := start(t, Options{})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect, "http://localhost:3000"},
		logoutURL: app.URL + "/signout-callback-oidc", consent: "openid profile offline_access User.Read"})
	rp := newRP(t, e, "https://login.microsoftonline.com/"+ta.Tenant.ID+"/v2.0", "https://login.microsoftonline.com/"+ta.Tenant.ID+"/v2.0", ta, ta.Secret)
	c := browser(e)
	back, err := emuclient.SignInWithForm(context.Background(), c, rp.conf.AuthCodeURL("s"), "megan@contoso.onmicrosoft.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rp.conf.Exchange(oidc.ClientContext(context.Background(), e.Client()), back.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := rp.verifier.Verify(rp.ctx, tok.Extra("id_token").(string))
	var cl struct{ Sid string }
	_ = idt.Claims(&cl)
	logout := "https://login.microsoftonline.com/" + ta.Tenant.ID + "/oauth2/v2.0/logout?post_logout_redirect_uri=http://localhost:3000&client_id=" + ta.AppID
	to, err := emuclient.SignOut(context.Background(), c, logout)
	if err != nil {
		t.Fatal(err)
	}
	if to == nil || to.String() != "http://localhost:3000/" {
		t.Fatalf("post-logout redirect: %v", to)
	}
	mu.Lock()
	got := append([]string(nil), sids...)
	mu.Unlock()
	if len(got) != 1 || got[0] != cl.Sid+"|" {
		t.Fatalf("front-channel logout calls %q; want one GET with sid=%s and no iss", got, cl.Sid)
	}
	// Signed out: the next sign-in asks for the password again.
	e.ResetRequests()
	if _, err := emuclient.SignInWithForm(context.Background(), c, rp.conf.AuthCodeURL("s"), "megan@contoso.onmicrosoft.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	if n := countRoute(e, "login.credentials"); n != 1 {
		t.Fatalf("after sign-out the password was posted %d times; want 1", n)
	}
	// A post_logout_redirect_uri that is not registered is not followed.
	to, err = emuclient.SignOut(context.Background(), c, "https://login.microsoftonline.com/"+ta.Tenant.ID+"/oauth2/v2.0/logout?post_logout_redirect_uri=https://evil.example/&client_id="+ta.AppID)
	if err != nil || to != nil {
		t.Fatalf("unregistered post-logout URI: %v %v", to, err)
	}
}

func countRoute(e *Emulator, name string) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Route == name {
			n++
		}
	}
	return n
}

func TestSingleSignOnSkipsThePassword(t *testing.T) {
	e := start(t, Options{})
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}, consent: "openid profile offline_access User.Read"})
	c := browser(e)
	authURL := "https://login.microsoftonline.com/" + ta.Tenant.ID + "/oauth2/v2.0/authorize?client_id=" + ta.AppID +
		"&response_type=code&scope=openid+profile&redirect_uri=" + testRedirect
	if _, err := emuclient.SignInWithForm(context.Background(), c, authURL, "adele@contoso.onmicrosoft.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	e.ResetRequests()
	back, err := emuclient.SignInWithForm(context.Background(), c, authURL, "adele@contoso.onmicrosoft.com", "not the password")
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("second sign-in: %v %v", back, err)
	}
	if n := countRoute(e, "login.credentials"); n != 0 {
		t.Fatalf("second sign-in posted the login form %d times", n)
	}
	// prompt=login asks again.
	if _, err := emuclient.SignInWithForm(context.Background(), c, authURL+"&prompt=login", "adele@contoso.onmicrosoft.com", "wrong"); err == nil {
		t.Fatalf("prompt=login with a wrong password succeeded")
	} else if pe, ok := err.(*emuclient.PageError); !ok || pe.Code != 50126 {
		t.Fatalf("wrong password: %v", err)
	}
	_ = time.Second
}
