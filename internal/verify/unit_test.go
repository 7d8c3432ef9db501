package verify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

func tlsConfigWithRoots(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p} }

// TestDiagnosesCoverCodes: every code the issue and facts/identity.md §4 name has an
// explanation and a fix.
func TestDiagnosesCoverCodes(t *testing.T) {
	d, err := LoadDiagnoses()
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{"AADSTS50011", "AADSTS700016", "AADSTS7000215", "AADSTS7000222", "AADSTS65001", "AADSTS500113",
		"AADSTS50020", "AADSTS90072", "AADSTS500208", "AADSTS500207", "AADSTS9002313", "AADSTS900971", "AADSTS7000218",
		"AADSTS700025", "AADSTS9002327", "AADSTS700027", "AADSTS50012", "AADSTS700024", "AADSTS65004", "AADSTS90094",
		"AADSTS50194", "AADSTS700054", "AADSTS50146", "AADSTS70000", "AADSTS54005", "AADSTS70008", "AADSTS501481",
		"AADSTS50148", "AADSTS90002", "AADSTS50105", "AADSTS53003", "AADSTS131010",
		"oauth:access_denied", "oauth:invalid_client", "oauth:invalid_grant", "oauth:consent_required",
		"graph:InvalidAuthenticationToken", "graph:Authorization_RequestDenied",
		"timeout:authorize", "timeout:sign_out", "warning:front_channel_not_observed", "timeout:browser", "timeout:signed_in",
		"timeout:no_browser", "local:no_tid", "local:auto_sign_in", "local:front_channel_port_busy", "local:front_channel_port_denied",
		"local:front_channel_elsewhere"}
	for _, c := range codes {
		x := d.Lookup(c)
		if x == nil || x.Title == "" || x.Explanation == "" || x.Fix == "" {
			t.Errorf("%s: %+v", c, x)
		}
	}
	for k, v := range d {
		if v.Title == "" || v.Explanation == "" || v.Fix == "" {
			t.Errorf("%s is incomplete", k)
		}
	}
}

func TestDiagnoseOAuth(t *testing.T) {
	d, _ := LoadDiagnoses()
	cases := []struct {
		err, desc string
		codes     []int
		want      string
	}{
		{"invalid_client", "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x", nil, "AADSTS7000215"},
		{"invalid_client", "", []int{7000222}, "AADSTS7000222"},
		{"access_denied", "the user said no", nil, "oauth:access_denied"},
		{"invalid_request", "AADSTS999999: something new", nil, "AADSTS999999"},
		{"consent_required", "AADSTS65001: The user or administrator has not consented", nil, "AADSTS65001"},
	}
	for _, c := range cases {
		got := d.OAuth(c.err, c.desc, c.codes)
		if got.Code != c.want {
			t.Errorf("%s %q: %s, want %s", c.err, c.desc, got.Code, c.want)
		}
		if strings.Contains(got.Message, "Trace ID") {
			t.Errorf("message keeps trace lines: %q", got.Message)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Authority: "https://login.microsoftonline.com/t", ClientID: "c", ClientSecret: "s", RedirectURI: "http://localhost:3000/auth/redirect"}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no authority", func(c *Config) { c.Authority = "" }, "authority is empty"},
		{"no credential", func(c *Config) { c.ClientSecret = "" }, "neither a client secret"},
		{"two credentials", func(c *Config) { c.CertificatePEMPath = "x.pem" }, "both a client secret"},
		{"remote redirect", func(c *Config) { c.RedirectURI = "https://contoso.com/cb" }, "not on this machine"},
		{"bad alg", func(c *Config) { c.AssertionAlg = "HS256" }, "not PS256"},
	}
	for _, tc := range cases {
		c := ok
		tc.edit(&c)
		err := c.validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestDiscoveryURL(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Authority: "https://login.microsoftonline.com/tid"}, "https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration"},
		{Config{Authority: "https://login.microsoftonline.com/tid/v2.0/"}, "https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration"},
		{Config{Authority: "https://contoso.ciamlogin.com/", TenantID: "tid"}, "https://contoso.ciamlogin.com/tid/v2.0/.well-known/openid-configuration"},
		{Config{Authority: "https://contoso.ciamlogin.com/"}, "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
		{Config{Authority: "https://contoso.ciamlogin.com/contoso.onmicrosoft.com"}, "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
	}
	for _, c := range cases {
		if got := c.cfg.discoveryURL(); got != c.want {
			t.Errorf("%s: %s", c.cfg.Authority, got)
		}
	}
}

// TestIDTokenTimesOneAllowanceBothWays: a clock some minutes slow or fast within the allowance
// accepts a good token; beyond it, either way, the token is refused with a word about the clock.
func TestIDTokenTimesOneAllowanceBothWays(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	skew := 5 * time.Minute
	token := func(issued time.Time) map[string]any {
		return map[string]any{"iat": float64(issued.Unix()), "nbf": float64(issued.Unix()), "exp": float64(issued.Add(time.Hour).Unix())}
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"in step", token(now), true},
		{"our clock 3 min slow (token from the future)", token(now.Add(3 * time.Minute)), true},
		{"our clock 6 min slow", token(now.Add(6 * time.Minute)), false},
		{"expired 3 min ago (our clock fast)", token(now.Add(-time.Hour - 3*time.Minute)), true},
		{"expired 6 min ago", token(now.Add(-time.Hour - 6*time.Minute)), false},
		{"no exp", map[string]any{"iat": float64(now.Unix())}, false},
	} {
		err := checkTimes(tc.claims, now, skew)
		if (err == nil) != tc.ok || (err != nil && tc.claims["exp"] != nil && !strings.Contains(err.Error(), "clock")) {
			t.Errorf("%s: %v; want ok=%v and a word about the clock", tc.name, err, tc.ok)
		}
	}
}

// TestSecretGoesOnlyToTheCloudsSignInService: the authority must be https on the chosen cloud's
// sign-in hosts, and the token endpoint on the authority's host; anything else is refused before a
// secret is sent, naming the wrong value.
func TestSecretGoesOnlyToTheCloudsSignInService(t *testing.T) {
	public := []string{"login.microsoftonline.com", "*.ciamlogin.com"}
	emu := []string{"localhost:8443"}
	for _, tc := range []struct {
		name, authority, token string
		hosts                  []string
		ok                     bool
	}{
		{"workforce", "https://login.microsoftonline.com/tid", "https://login.microsoftonline.com/tid/oauth2/v2.0/token", public, true},
		{"external", "https://contoso.ciamlogin.com/", "https://contoso.ciamlogin.com/tid/oauth2/v2.0/token", public, true},
		{"emulator", "https://localhost:8443/tid", "https://localhost:8443/tid/oauth2/v2.0/token", emu, true},
		{"no cloud given", "https://login.microsoftonline.com/tid", "https://login.microsoftonline.com/tid/oauth2/v2.0/token", nil, true},
		{"http authority", "http://login.microsoftonline.com/tid", "https://login.microsoftonline.com/tid/oauth2/v2.0/token", public, false},
		{"another host", "https://login.evil.example/tid", "https://login.evil.example/tid/oauth2/v2.0/token", public, false},
		{"look-alike suffix", "https://ciamlogin.com.evil.example/tid", "https://ciamlogin.com.evil.example/t", public, false},
		{"bare ciamlogin.com", "https://ciamlogin.com/tid", "https://ciamlogin.com/tid/oauth2/v2.0/token", public, false},
		{"token endpoint elsewhere", "https://login.microsoftonline.com/tid", "https://collector.example/token", public, false},
		{"token endpoint over http", "https://login.microsoftonline.com/tid", "http://login.microsoftonline.com/tid/oauth2/v2.0/token", public, false},
		{"emulator, other port", "https://localhost:9999/tid", "https://localhost:9999/tid/oauth2/v2.0/token", emu, false},
		{"loopback test provider over http", "http://127.0.0.1:3000/op", "http://127.0.0.1:3000/op/token", nil, true},
	} {
		err := checkSecretDestination(tc.authority, tc.token, tc.hosts)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v; want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil && (!errors.Is(err, ErrUnsafeDestination) || !strings.Contains(err.Error(), "will not be sent") && !strings.Contains(err.Error(), "not https")) {
			t.Errorf("%s: %v; want ErrUnsafeDestination saying the secret stays", tc.name, err)
		}
	}
}
