package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/x509"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// startOIDCProvider runs npm oidc-provider (testdata/oidc-provider.mjs) on loopback and returns
// its issuer.
func startOIDCProvider(t *testing.T, redirect, postLogout string, clientCert *x509.Certificate) string {
	t.Helper()
	dir, node := testenv.NodeDir(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		testenv.Missing(t, "npm oidc-provider in testdata/node", "cd testdata/node && npm ci")
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: clientCert.PublicKey, Use: "sig", Certificates: []*x509.Certificate{clientCert}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "oidc-provider.mjs"))
	cmd.Env = append(os.Environ(), "NODE_DIR="+dir, "REDIRECT_URI="+redirect, "POST_LOGOUT_URI="+postLogout, "CLIENT_JWKS="+string(jwks), "NODE_ENV=development")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var v struct{ Issuer string }
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Issuer == "" {
			t.Fatalf("oidc-provider said %q (%v); stderr: %s", l, err, stderr.String())
		}
		return v.Issuer
	case <-time.After(20 * time.Second):
		t.Fatalf("oidc-provider did not start; stderr: %s", stderr.String())
	}
	return ""
}

// TestAgainstOIDCProvider: the same relying party signs in and out against an independent,
// certified provider with each client authentication method.
func TestAgainstOIDCProvider(t *testing.T) {
	cert, key := testCert(t)
	redirect, post, _ := localURIs(t, "http")
	issuer := startOIDCProvider(t, redirect, post, cert)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"client_secret_post", Config{ClientID: "app-post", ClientSecret: "secret-post-value"}},
		{"client_secret_basic", Config{ClientID: "app-basic", ClientSecret: "secret-basic-value", ClientSecretBasic: true}},
		{"private_key_jwt", Config{ClientID: "app-pkjwt", Certificate: cert, PrivateKey: key}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Authority, cfg.DiscoveryURL = issuer, issuer+"/.well-known/openid-configuration"
			cfg.RedirectURI, cfg.PostLogoutRedirectURI = redirect, post
			rep, err, _, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
				b := newHTTPBrowser(t, nil)
				st, u, body, err := b.get(ctx, baseOf(start)+signInPath)
				if err != nil || !strings.Contains(body, `name="login"`) {
					return fmt.Errorf("login page: %d %s %v %s", st, u, err, body[strings.Index(body, "<body"):])
				}
				st, u, body, err = b.submitForm(ctx, u, body, map[string]string{"login": "alice", "password": "any"})
				if err != nil || !strings.Contains(body, `value="consent"`) {
					return fmt.Errorf("consent page: %d %s %v %.300s", st, u, err, body)
				}
				st, u, body, err = b.submitForm(ctx, u, body, nil)
				if err != nil || !strings.Contains(body, "Signed in") {
					return fmt.Errorf("signed-in page: %d %s %v %.500s", st, u, err, body)
				}
				st, u, body, err = b.get(ctx, baseOf(start)+signOutPath)
				if err != nil || !strings.Contains(body, "op.logoutForm") {
					return fmt.Errorf("logout page: %d %s %v %.300s", st, u, err, body)
				}
				st, u, body, err = b.submitForm(ctx, u, body, map[string]string{"logout": "yes"})
				if err != nil || !strings.Contains(body, `id="signedout"`) {
					return fmt.Errorf("signed-out page: %d %s %v %.300s", st, u, err, body)
				}
				return nil
			})
			if err != nil || derr != nil {
				t.Fatalf("run: %v\ndrive: %.300v\n%s\n%v", err, derr, statuses(rep), rep.Notices)
			}
			if rep.User == nil || rep.User.Username != "alice@contoso.test" || rep.User.Name != "User alice" {
				t.Errorf("user %+v", rep.User)
			}
			for _, s := range []Step{StepDiscovery, StepAuthorize, StepCallback, StepCodeExchange, StepIDToken, StepSignOut} {
				if rep.Step(s).Status != Passed {
					t.Errorf("%s = %s", s, rep.Step(s).Status)
				}
			}
		})
	}
}
