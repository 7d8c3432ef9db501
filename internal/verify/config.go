// Package verify is the built-in sign-in server: an OpenID Connect relying party (go-oidc and
// x/oauth2) that serves the sample's redirect URI on loopback, runs a real sign-in with the
// configuration read back from the sample's files, calls Graph /me, signs out, and reports each
// step as data with a diagnosis. It knows nothing about the terminal: progress goes to a
// callback, the result is a Report.
package verify

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is what a configured sample says, as plain data: the CLI fills it from the files it
// wrote (the read-back), so the sign-in proves the files, not the wizard's memory.
type Config struct {
	// Authority is the sample's authority, e.g. https://login.microsoftonline.com/<tenant-id>
	// or https://<sub>.ciamlogin.com/<tenant-id> (a path-less External ID authority gets the
	// tenant id appended, as MSAL does with the default domain).
	Authority string `json:"authority"`
	// TenantID is the tenant's GUID; the ID token's tid must equal it.
	TenantID string `json:"tenant_id"`
	// TenantKind is the catalog's tenant type of the app's tenant.
	TenantKind samples.TenantType `json:"tenant_kind"`
	ClientID   string             `json:"client_id"`

	// Exactly one credential: a secret, or a certificate (in memory or as PEM paths).
	ClientSecret string            `json:"-"`
	Certificate  *x509.Certificate `json:"-"`
	PrivateKey   crypto.Signer     `json:"-"`
	// CertificatePEMPath holds the certificate (and the key, when KeyPEMPath is empty).
	CertificatePEMPath string `json:"certificate_path,omitempty"`
	KeyPEMPath         string `json:"key_path,omitempty"`
	// AssertionAlg is the client assertion's signing algorithm: PS256 (default, as current
	// docs and MSAL) or RS256 (the legacy form Entra still accepts).
	AssertionAlg string `json:"assertion_alg,omitempty"`
	// ClientSecretBasic sends the secret with HTTP Basic instead of in the body (Entra takes
	// both; the samples use the body).
	ClientSecretBasic bool `json:"client_secret_basic,omitempty"`

	// RedirectURI is the sample's redirect URI (loopback: localhost or 127.0.0.1).
	RedirectURI string `json:"redirect_uri"`
	// PostLogoutRedirectURI is where sign-out returns; empty skips the sign-out step.
	PostLogoutRedirectURI string `json:"post_logout_redirect_uri,omitempty"`
	// FrontChannelLogoutURL is the app's web.logoutUrl; empty skips that step.
	FrontChannelLogoutURL string `json:"front_channel_logout_url,omitempty"`

	// CallsGraph adds User.Read and checks GET /me with the access token.
	CallsGraph bool `json:"calls_graph"`
	// Scopes are extra scopes to request besides openid profile offline_access (and User.Read).
	Scopes []string `json:"scopes,omitempty"`
	// GraphBaseURL is Graph's base (default https://graph.microsoft.com); /v1.0/me is under it.
	GraphBaseURL string `json:"graph_base_url,omitempty"`
	// DiscoveryURL overrides the OpenID configuration URL (default: the authority's
	// /v2.0/.well-known/openid-configuration, Entra's form); for other OpenID providers.
	DiscoveryURL string `json:"discovery_url,omitempty"`
	// ExpectedIssuer overrides the issuer the ID token must carry (default: the discovery
	// document's issuer, with {tenantid} filled in).
	ExpectedIssuer string `json:"expected_issuer,omitempty"`
}

// Options control a run; none of them is part of what the sample's files say.
type Options struct {
	// HTTPClient is used for discovery, keys, the token endpoint and Graph (tests give the
	// emulator's client); default http.DefaultClient with a 30 s timeout.
	HTTPClient *http.Client
	// OpenBrowser opens a URL; default the system browser (github.com/cli/browser).
	OpenBrowser func(ctx context.Context, url string) error
	// NoBrowser does not open anything: the URL is reported as a notice for the person to open.
	NoBrowser bool
	// AutoSignIn, when set, plays the person at the browser instead of opening one (the CLI's
	// --auto-sign-in against the emulator): it is called with the start URL and returns when
	// its sign-in (and sign-out) is done. Its error ends the run at once, as the diagnosis.
	// OpenBrowser and NoBrowser are then not used.
	AutoSignIn func(ctx context.Context, url string) error
	// Unattended says nobody is at a terminal to read a printed URL: when no browser can be
	// opened either, nothing can complete the sign-in, and the run stops at once with that
	// diagnosis instead of waiting for the timeout. (With NoBrowser the caller asked for the URL,
	// and a script may open it: the run waits.)
	Unattended bool
	// SignInAs tells the person who to sign in as, shown with the URL to open (against the
	// emulator: its demo user and password), e.g. "lee@contoso.onmicrosoft.com, password X".
	SignInAs string
	// Progress receives every step change and notice, in order.
	Progress func(Event)
	// WaitReady, when set, runs before the browser opens (the provisioning engine's
	// readiness wait right after provisioning).
	WaitReady func(ctx context.Context) error
	// Timeout bounds the whole journey once the browser is opened (default 5 min).
	Timeout time.Duration
	// AttemptTTL is how long a sign-in attempt's state is accepted (default 10 min, the life of
	// an authorization code).
	AttemptTTL time.Duration
	// FrontChannelGrace is how long to wait for the front-channel logout call after the
	// sign-out returned (default 10 s).
	FrontChannelGrace time.Duration
	// AutoSignOut, when > 0, makes the signed-in page continue to sign-out by itself after
	// that long; otherwise the person presses "Sign out".
	AutoSignOut time.Duration
	// CertDir keeps the generated localhost TLS certificate between runs (default:
	// <user config dir>/entra-quickstart).
	CertDir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ClockSkew is the allowance, either way, for the ID token's exp, nbf and iat against this
	// machine's clock (default 5 min, the common default of OpenID libraries).
	ClockSkew time.Duration
	// SignInHosts are the hosts the client secret or assertion may be sent to: the chosen
	// cloud's sign-in host ("login.microsoftonline.com"), its External ID hosts as a pattern
	// ("*.ciamlogin.com"), or the emulator's "localhost:PORT". The sample's authority must be on
	// one of them, and the discovery document's token endpoint on the authority's host; any
	// other value stops the run before a secret leaves. Empty: only the second rule applies.
	SignInHosts []string
	// ListenHost is the loopback address to bind (default 127.0.0.1, plus [::1] when the
	// machine has IPv6).
	ListenHost string
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.OpenBrowser == nil {
		o.OpenBrowser = SystemBrowser
	}
	if o.Progress == nil {
		o.Progress = func(Event) {}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.AttemptTTL <= 0 {
		o.AttemptTTL = 10 * time.Minute
	}
	if o.FrontChannelGrace <= 0 {
		o.FrontChannelGrace = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = 5 * time.Minute
	}
	return o
}

// hostAllowed reports whether u's host (with its port, when it has one) is one of hosts; an
// entry "*.example.com" allows any subdomain of example.com.
func hostAllowed(u *url.URL, hosts []string) bool {
	h := strings.ToLower(u.Host)
	name := strings.ToLower(u.Hostname())
	for _, a := range hosts {
		a = strings.ToLower(a)
		if suffix, ok := strings.CutPrefix(a, "*"); ok {
			if strings.HasSuffix(name, suffix) && len(name) > len(suffix) && u.Port() == "" {
				return true
			}
			continue
		}
		if h == a || (u.Port() == "" && name == a) || (u.Port() == "443" && name == a) {
			return true
		}
	}
	return false
}

// isLoopback reports whether u names this machine.
func isLoopback(u *url.URL) bool {
	switch strings.ToLower(u.Hostname()) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// checkSecretDestination refuses a token endpoint that is not where the sample's secret may go:
// not https (loopback excepted, for local test providers), not on the authority's host, or an
// authority outside the chosen cloud. Nothing has been sent when it refuses.
func checkSecretDestination(authority, tokenURL string, hosts []string) error {
	a, err := url.Parse(authority)
	if err != nil || a.Host == "" {
		return fmt.Errorf("%w: the authority %q is not a URL; fix the sample's configuration (or run the wizard again)", ErrUnsafeDestination, authority)
	}
	if a.Scheme != "https" && !isLoopback(a) {
		return fmt.Errorf("%w: the authority %s is not https, so the client secret would travel in clear; fix the authority in the sample's configuration (https://…)", ErrUnsafeDestination, authority)
	}
	if len(hosts) > 0 && !hostAllowed(a, hosts) {
		return fmt.Errorf("%w: the authority %s is not on this cloud's sign-in service (%s), so the sample's secret will not be sent there; fix the authority in the sample's configuration, or choose the matching --cloud", ErrUnsafeDestination, authority, strings.Join(hosts, ", "))
	}
	t, err := url.Parse(tokenURL)
	if err != nil || t.Host == "" {
		return fmt.Errorf("%w: the discovery document's token_endpoint %q is not a URL", ErrUnsafeDestination, tokenURL)
	}
	if (t.Scheme != "https" && !isLoopback(t)) || !strings.EqualFold(t.Host, a.Host) {
		return fmt.Errorf("%w: the discovery document names the token endpoint %s, not on the authority's host %s over https, so the sample's secret will not be sent there; check the authority in the sample's configuration", ErrUnsafeDestination, tokenURL, a.Host)
	}
	return nil
}

// ErrUnsafeDestination is wrapped when the sample's authority or its token endpoint is not a
// place its secret may be sent (checkSecretDestination).
var ErrUnsafeDestination = errors.New("verify: the secret's destination")

// ErrConfig is wrapped by every configuration problem found before anything runs.
var ErrConfig = errors.New("verify: configuration")

func (c Config) validate() error {
	var probs []string
	if c.Authority == "" {
		probs = append(probs, "the authority is empty")
	} else if u, err := url.Parse(c.Authority); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		probs = append(probs, fmt.Sprintf("the authority %q is not an http(s) URL", c.Authority))
	}
	if c.ClientID == "" {
		probs = append(probs, "the client id is empty")
	}
	hasCert := c.Certificate != nil || c.CertificatePEMPath != ""
	switch {
	case c.ClientSecret == "" && !hasCert:
		probs = append(probs, "there is neither a client secret nor a certificate")
	case c.ClientSecret != "" && hasCert:
		probs = append(probs, "both a client secret and a certificate are set; keep one")
	}
	if c.Certificate != nil && c.PrivateKey == nil {
		probs = append(probs, "the certificate has no private key")
	}
	if _, err := parseLoopbackURI(c.RedirectURI); err != nil {
		probs = append(probs, "redirect URI: "+err.Error())
	}
	for _, u := range []struct{ name, v string }{{"post-logout redirect URI", c.PostLogoutRedirectURI}, {"front-channel logout URL", c.FrontChannelLogoutURL}} {
		if u.v == "" {
			continue
		}
		if _, err := parseLoopbackURI(u.v); err != nil {
			probs = append(probs, u.name+": "+err.Error())
		}
	}
	if c.AssertionAlg != "" && c.AssertionAlg != "PS256" && c.AssertionAlg != "RS256" {
		probs = append(probs, fmt.Sprintf("assertion algorithm %q is not PS256 or RS256", c.AssertionAlg))
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s; fix the sample's configuration (or run the wizard again) and retry", ErrConfig, strings.Join(probs, "; "))
	}
	return nil
}

// parseLoopbackURI accepts an http(s) URL whose host is localhost, 127.0.0.1 or [::1]: the only
// kind the built-in server can stand in for.
func parseLoopbackURI(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("it is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q is not http or https", s)
	}
	switch strings.ToLower(u.Hostname()) {
	case "localhost", "127.0.0.1", "::1":
	default:
		return nil, fmt.Errorf("%q is not on this machine (localhost), so the built-in server cannot receive it", s)
	}
	return u, nil
}

// scopes is what the authorize request asks for.
func (c Config) scopes() []string {
	s := []string{"openid", "profile", "offline_access"}
	if c.CallsGraph {
		s = append(s, "User.Read")
	}
	for _, x := range c.Scopes {
		dup := false
		for _, y := range s {
			if strings.EqualFold(x, y) {
				dup = true
			}
		}
		if !dup {
			s = append(s, x)
		}
	}
	return s
}

func (c Config) graphBase() string {
	if c.GraphBaseURL == "" {
		return "https://graph.microsoft.com"
	}
	return strings.TrimRight(c.GraphBaseURL, "/")
}

// discoveryURL is the authority's OpenID configuration document.
func (c Config) discoveryURL() string {
	if c.DiscoveryURL != "" {
		return c.DiscoveryURL
	}
	a := strings.TrimRight(c.Authority, "/")
	if u, err := url.Parse(a); err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".ciamlogin.com") && strings.Trim(u.Path, "/") == "" {
		// A path-less External ID authority (the Node sample's form): MSAL appends the
		// default domain; the tenant id names the same tenant.
		tenant := c.TenantID
		if tenant == "" {
			sub, _, _ := strings.Cut(u.Hostname(), ".")
			tenant = sub + ".onmicrosoft.com"
		}
		a += "/" + tenant
	}
	if !strings.HasSuffix(a, "/v2.0") {
		a += "/v2.0"
	}
	return a + "/.well-known/openid-configuration"
}
