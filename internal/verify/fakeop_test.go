package verify

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeOP is a tiny in-test OpenID provider in Entra's shape (tenant-specific paths, v2.0
// issuer, AADSTS errors). It exists for the refusal tests: it can doctor the ID token it
// issues (claims, header, signing key) in ways a faithful provider never would.
type fakeOP struct {
	t        *testing.T
	srv      *httptest.Server
	tenant   string
	clientID string
	secret   string
	cert     *x509.Certificate // accepted client assertion certificate
	key      *rsa.PrivateKey
	kid      string
	rogue    *rsa.PrivateKey // a key the JWKS does not publish

	mu    sync.Mutex
	codes map[string]fakeCode
	// doctor changes the ID token's claims and header before signing; sign replaces signing.
	doctor func(claims map[string]any, header map[string]any)
	sign   func(op *fakeOP, header, claims map[string]any) string
	// authorizeError, when set, is the error redirect (error, error_description).
	authorizeError [2]string
	// authorizePage, when set, answers the authorize request with Entra's error page and no
	// redirect (as for AADSTS50011).
	authorizePage string
	frontChannel  string // called by logout with ?sid=
	frontClient   *http.Client
	now           func() time.Time
}

type fakeCode struct {
	nonce, challenge, redirect string
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, tenant: "9122040d-6c67-4c5b-b112-36a304b66dad", clientID: "6cb04018-a3f5-46a7-b995-940c78f5aef3",
		secret: "s3cr~et.value", key: key, rogue: rogue, kid: "kid-1", codes: map[string]fakeCode{}, now: time.Now}
	op.srv = httptest.NewServer(http.HandlerFunc(op.serve))
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) authority() string { return op.srv.URL + "/" + op.tenant }
func (op *fakeOP) issuer() string    { return op.authority() + "/v2.0" }

func (op *fakeOP) serve(w http.ResponseWriter, r *http.Request) {
	a := "/" + op.tenant
	switch r.URL.Path {
	case a + "/v2.0/.well-known/openid-configuration":
		writeJSON(w, 200, map[string]any{
			"issuer": op.issuer(), "authorization_endpoint": op.authority() + "/oauth2/v2.0/authorize",
			"token_endpoint": op.authority() + "/oauth2/v2.0/token", "jwks_uri": op.authority() + "/discovery/v2.0/keys",
			"end_session_endpoint": op.authority() + "/oauth2/v2.0/logout", "id_token_signing_alg_values_supported": []string{"RS256"},
			"frontchannel_logout_supported": true,
		})
	case a + "/discovery/v2.0/keys":
		jwk := jose.JSONWebKey{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "RS256", Use: "sig"}
		writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	case a + "/oauth2/v2.0/authorize":
		op.authorize(w, r)
	case a + "/oauth2/v2.0/token":
		op.token(w, r)
	case a + "/oauth2/v2.0/logout":
		q := r.URL.Query()
		if op.frontChannel != "" {
			c := op.frontClient
			if c == nil {
				c = http.DefaultClient
			}
			if resp, err := c.Get(op.frontChannel + "?sid=sid-1"); err == nil {
				resp.Body.Close()
			}
		}
		http.Redirect(w, r, q.Get("post_logout_redirect_uri"), http.StatusFound)
	case "/v1.0/me":
		if r.Header.Get("Authorization") != "Bearer at-"+op.clientID {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}})
			return
		}
		writeJSON(w, 200, map[string]any{"@odata.context": "x", "displayName": "Abe Lincoln", "userPrincipalName": "abe@contoso.test", "id": "oid-1"})
	default:
		http.NotFound(w, r)
	}
}

func (op *fakeOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if op.authorizePage != "" {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><h1>Sorry, but we're having trouble signing you in.</h1><p>%s</p></body></html>", op.authorizePage)
		return
	}
	ru := q.Get("redirect_uri")
	v := url.Values{"state": {q.Get("state")}}
	if op.authorizeError[0] != "" {
		v.Set("error", op.authorizeError[0])
		v.Set("error_description", op.authorizeError[1])
	} else {
		if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("nonce") == "" || q.Get("response_mode") != "query" {
			http.Error(w, "bad authorize request", 400)
			return
		}
		code := "code-" + randomString()[:12]
		op.mu.Lock()
		op.codes[code] = fakeCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: ru}
		op.mu.Unlock()
		v.Set("code", code)
		v.Set("session_state", "ss-1")
	}
	http.Redirect(w, r, ru+"?"+v.Encode(), http.StatusFound)
}

func (op *fakeOP) tokenError(w http.ResponseWriter, status int, e string, code int, text string) {
	writeJSON(w, status, map[string]any{"error": e, "error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: z", code, text), "error_codes": []int{code}})
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	switch {
	case f.Get("client_secret") != "":
		if f.Get("client_secret") != op.secret {
			op.tokenError(w, 401, "invalid_client", 7000215, "Invalid client secret provided.")
			return
		}
	case f.Get("client_assertion") != "":
		if err := op.checkAssertion(f.Get("client_assertion"), op.authority()+"/oauth2/v2.0/token"); err != nil {
			op.tokenError(w, 401, "invalid_client", 700027, "Client assertion failed signature validation: "+err.Error())
			return
		}
	default:
		if id, sec, ok := r.BasicAuth(); !ok || id != op.clientID || sec != op.secret {
			op.tokenError(w, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
			return
		}
	}
	op.mu.Lock()
	c, ok := op.codes[f.Get("code")]
	delete(op.codes, f.Get("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if !ok || c.redirect != f.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		op.tokenError(w, 400, "invalid_grant", 70000, "The provided authorization code is invalid or has expired.")
		return
	}
	now := op.now()
	claims := map[string]any{"ver": "2.0", "iss": op.issuer(), "sub": "sub-1", "aud": op.clientID, "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "nbf": now.Unix(), "name": "Abe Lincoln", "preferred_username": "abe@contoso.test", "oid": "oid-1",
		"tid": op.tenant, "nonce": c.nonce, "sid": "sid-1"}
	header := map[string]any{"typ": "JWT", "alg": "RS256", "kid": op.kid}
	if op.doctor != nil {
		op.doctor(claims, header)
	}
	sign := op.sign
	if sign == nil {
		sign = signWith(op.key)
	}
	writeJSON(w, 200, map[string]any{"token_type": "Bearer", "access_token": "at-" + op.clientID, "expires_in": 3599,
		"scope": f.Get("scope"), "id_token": sign(op, header, claims)})
}

func (op *fakeOP) checkAssertion(raw, aud string) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.PS256, jose.RS256})
	if err != nil {
		return err
	}
	h := tok.Headers[0]
	sum := sha256.Sum256(op.cert.Raw)
	if h.ExtraHeaders["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("x5t#S256 %v", h.ExtraHeaders["x5t#S256"])
	}
	var c jwt.Claims
	if err := tok.Claims(op.cert.PublicKey, &c); err != nil {
		return err
	}
	return c.ValidateWithLeeway(jwt.Expected{Issuer: op.clientID, Subject: op.clientID, AnyAudience: jwt.Audience{aud}, Time: op.now()}, time.Minute)
}

// signWith signs header.claims with RS256 by key (any kid the header names).
func signWith(key *rsa.PrivateKey) func(op *fakeOP, header, claims map[string]any) string {
	return func(_ *fakeOP, header, claims map[string]any) string {
		hb, _ := json.Marshal(header)
		cb, _ := json.Marshal(claims)
		in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
		sum := sha256.Sum256([]byte(in))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---- a browser stand-in ----

// httpBrowser follows redirects like a browser, keeps cookies, and remembers the last page.
type httpBrowser struct {
	c *http.Client
}

func newHTTPBrowser(t *testing.T, base *http.Client) *httpBrowser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if base != nil {
		c.Transport = base.Transport
	}
	return &httpBrowser{c: c}
}

// get fetches u and returns the final status, URL and body.
func (b *httpBrowser) get(ctx context.Context, u string) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", "", err
	}
	return b.do(req)
}

// do sends req and returns the final status, URL and body (whatever of it could be read).
func (b *httpBrowser) do(req *http.Request) (int, string, string, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Request.URL.String(), sb.String(), nil
}

// baseOf is scheme://host of a URL.
func baseOf(u string) string {
	p, _ := url.Parse(u)
	return p.Scheme + "://" + p.Host
}
