package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testApp is an app registration a test put straight into the store.
type testApp struct {
	Tenant *Tenant
	AppID  string
	Secret string
	Cert   *x509.Certificate
	Key    *rsa.PrivateKey
}

// appSpec describes the registration to add.
type appSpec struct {
	kind      TenantType
	redirects []string
	logoutURL string
	consent   string // AllPrincipals grant scope; "" for none
	noSP      bool
	cert      bool
	userFlow  bool // link to the External ID tenant's user flow
	edit      func(*Application)
}

// tenantOfType returns the seeded tenant of a kind.
func tenantOfType(e *Emulator, kind TenantType) *Tenant {
	var t *Tenant
	e.Store().View(func(d *Directory) {
		for _, x := range d.Tenants {
			if x.Type == kind && t == nil {
				t = x
			}
		}
	})
	return t
}

// addApp registers an app (with its service principal, a secret, optionally a certificate and
// admin consent) directly in the store, as the Graph half would.
func addApp(t testing.TB, e *Emulator, s appSpec) *testApp {
	t.Helper()
	ten := tenantOfType(e, s.kind)
	ta := &testApp{Tenant: ten, AppID: NewGUID(), Secret: NewSecretText()}
	now := e.now()
	app := &Application{
		ID: NewGUID(), AppID: ta.AppID, DisplayName: "test app " + ta.AppID[:8], SignInAudience: "AzureADMyOrg",
		CreatedDateTime: now, Tags: []string{},
		Web: WebSettings{RedirectURIs: s.redirects},
		PasswordCredentials: []PasswordCredential{{KeyID: NewGUID(), SecretText: ta.Secret, Hint: ta.Secret[:3],
			StartDateTime: now, EndDateTime: now.AddDate(1, 0, 0)}},
		RequiredResourceAccess: []RequiredResourceAccess{{ResourceAppID: GraphAppID, ResourceAccess: []ResourceAccess{{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: "Scope"}}}},
	}
	if s.logoutURL != "" {
		l := s.logoutURL
		app.Web.LogoutURL = &l
	}
	if s.cert {
		ta.Key, ta.Cert = newTestCert(t)
		app.KeyCredentials = append(app.KeyCredentials, KeyCredential{KeyID: NewGUID(), Type: "AsymmetricX509Cert", Usage: "Verify",
			Key: ta.Cert.Raw, StartDateTime: now, EndDateTime: now.AddDate(1, 0, 0)})
	}
	if s.edit != nil {
		s.edit(app)
	}
	err := e.Store().Do(func(d *Directory) error {
		ten.Applications = append(ten.Applications, app)
		if !s.noSP {
			sp := &ServicePrincipal{ID: NewGUID(), AppID: app.AppID, DisplayName: app.DisplayName, AppOwnerOrganizationID: ten.ID,
				ServicePrincipalType: "Application", AccountEnabled: true, CreatedDateTime: now}
			ten.ServicePrincipals = append(ten.ServicePrincipals, sp)
			if s.consent != "" {
				ten.Grants = append(ten.Grants, &Grant{ID: NewGUID(), ClientID: sp.ID, ConsentType: "AllPrincipals",
					ResourceID: ten.SPByAppID(GraphAppID).ID, Scope: s.consent})
			}
		}
		if s.userFlow && len(ten.UserFlows) > 0 {
			ten.UserFlows[0].AppIDs = append(ten.UserFlows[0].AppIDs, app.AppID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ta
}

func newTestCert(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: randSerial(), Subject: pkix.Name{CommonName: "CN=test app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

// assertionStyle is how a client assertion's header names the certificate.
type assertionStyle struct {
	alg      jose.SignatureAlgorithm
	header   string // "x5t" or "x5t#S256"
	stdB64   bool   // MSAL Go's standard base64 with padding
	aud      string
	issuerID string // iss/sub; default the app id
	exp      time.Duration
}

// clientAssertion builds a certificate client assertion with go-jose.
func clientAssertion(t testing.TB, ta *testApp, s assertionStyle) string {
	t.Helper()
	var thumb []byte
	if s.header == "x5t" {
		x := sha1.Sum(ta.Cert.Raw)
		thumb = x[:]
	} else {
		x := sha256.Sum256(ta.Cert.Raw)
		thumb = x[:]
	}
	enc := base64.RawURLEncoding.EncodeToString(thumb)
	if s.stdB64 {
		enc = base64.StdEncoding.EncodeToString(thumb)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey(s.header), enc)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: ta.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	iss := s.issuerID
	if iss == "" {
		iss = ta.AppID
	}
	exp := s.exp
	if exp == 0 {
		exp = 10 * time.Minute
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"aud": s.aud, "iss": iss, "sub": iss, "jti": NewGUID(),
		"nbf": now.Unix(), "exp": now.Add(exp).Unix()})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// browser is an emulator client with a cookie jar, like one browser.
func browser(e *Emulator) *http.Client {
	c := e.Client()
	c.Jar, _ = cookiejar.New(nil)
	return c
}

// tokenCall posts a token request and decodes the answer.
func tokenCall(t testing.TB, c *http.Client, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := c.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token answer is not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// errorCode is the first of error_codes in a token error.
func errorCode(m map[string]any) int {
	if xs, ok := m["error_codes"].([]any); ok && len(xs) > 0 {
		f, _ := xs[0].(float64)
		return int(f)
	}
	return 0
}

// claimsOf decodes a JWT's claims without verifying it.
func claimsOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// pkcePair is a verifier and its S256 challenge.
func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}
