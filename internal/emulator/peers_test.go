// Independent clients against the emulator: @azure/msal-node (the Node samples' library) and MSAL
// Python (the Python samples' library, Debian's python3-msal) sign in and get app-only tokens
// through the emulator reached under the real host names, exactly as they would reach Entra.
// Nobody here wrote them, so what they accept is a check on the emulator, not on our hopes.
// How each peer is pointed at the emulator is in README.md beside this file; the recipes used
// here are the preload `entra-quickstart run` gives Node samples (internal/runner, through
// runner.NodePreloadFile) and the getaddrinfo patch at the top of
// testdata/peers/msal_python_peer.py (Python).
package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/runner"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// peerTimeout bounds one peer run: process start, discovery, sign-in, token calls.
const peerTimeout = 60 * time.Second

// tenantCase is one tenant kind with the authority forms the samples of that kind configure.
type tenantCase struct {
	name string
	typ  emulator.TenantType
}

var tenantCases = []tenantCase{
	{"workforce", emulator.Workforce},
	{"external", emulator.ExternalID},
}

// issuerOf is the ID token issuer a tenant's tokens must carry under the real host names
// (facts/identity.md §0: External ID's issuer host is the tenant id, not the subdomain).
func issuerOf(ti emuclient.TenantInfo) string {
	if ti.Type == emulator.ExternalID {
		return "https://" + ti.ID + ".ciamlogin.com/" + ti.ID + "/v2.0"
	}
	return "https://login.microsoftonline.com/" + ti.ID + "/v2.0"
}

// registeredApp is an app registration made for a test.
type registeredApp struct {
	AppID, Secret string
	RedirectURIs  []string
}

// registerApp creates a web app registration with a secret, its service principal and, for
// External ID, admin consent and its link to the seeded sign-up/sign-in user flow, directly in
// the store (the Graph routes are tested elsewhere; here the app is only the peers' fixture).
func registerApp(t testing.TB, e *emulatortest.Emulator, ti emuclient.TenantInfo, redirectURIs []string, logoutURL string) registeredApp {
	t.Helper()
	app := registeredApp{AppID: emulator.NewGUID(), Secret: emulator.NewSecretText(), RedirectURIs: redirectURIs}
	now := time.Now()
	err := e.Store().Do(func(d *emulator.Directory) error {
		tn := d.Tenant(ti.ID)
		if tn == nil {
			return fmt.Errorf("tenant %s not found", ti.ID)
		}
		a := &emulator.Application{
			ID:              emulator.NewGUID(),
			AppID:           app.AppID,
			DisplayName:     "peer test " + t.Name(),
			SignInAudience:  "AzureADMyOrg",
			PublisherDomain: tn.Domain,
			CreatedDateTime: now,
			Tags:            []string{"entra-quickstart"},
			Web:             emulator.WebSettings{RedirectURIs: redirectURIs},
			RequiredResourceAccess: []emulator.RequiredResourceAccess{{
				ResourceAppID: emulator.GraphAppID,
				ResourceAccess: []emulator.ResourceAccess{
					{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: "Scope"}, // User.Read
					{ID: "37f7f235-527c-4136-accd-4a02d197296e", Type: "Scope"}, // openid
					{ID: "14dad69e-099b-42c9-810b-d002981feec1", Type: "Scope"}, // profile
					{ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", Type: "Scope"}, // offline_access
				},
			}},
			PasswordCredentials: []emulator.PasswordCredential{{
				KeyID:         emulator.NewGUID(),
				Hint:          app.Secret[:3],
				SecretText:    app.Secret,
				StartDateTime: now.Add(-time.Minute),
				EndDateTime:   now.AddDate(0, 6, 0),
			}},
		}
		if logoutURL != "" {
			a.Web.LogoutURL = &logoutURL
		}
		tn.Applications = append(tn.Applications, a)
		sp := &emulator.ServicePrincipal{
			ID:                     emulator.NewGUID(),
			AppID:                  app.AppID,
			DisplayName:            a.DisplayName,
			AppOwnerOrganizationID: tn.ID,
			ServicePrincipalNames:  []string{app.AppID},
			ServicePrincipalType:   "Application",
			AccountEnabled:         true,
			CreatedDateTime:        now,
			Tags:                   []string{"WindowsAzureActiveDirectoryIntegratedApp"},
		}
		tn.ServicePrincipals = append(tn.ServicePrincipals, sp)
		if tn.Type == emulator.ExternalID {
			// External ID customers cannot consent (AADSTS90094): the wizard grants admin
			// consent and links the app to the sign-up/sign-in user flow, and so does this.
			graphSP := tn.SPByAppID(emulator.GraphAppID)
			if graphSP == nil {
				return fmt.Errorf("no Microsoft Graph service principal in %s", tn.Domain)
			}
			tn.Grants = append(tn.Grants, &emulator.Grant{
				ID:          emulator.NewGUID(),
				ClientID:    sp.ID,
				ConsentType: "AllPrincipals",
				ResourceID:  graphSP.ID,
				Scope:       "openid profile offline_access User.Read",
			})
			if len(tn.UserFlows) > 0 {
				tn.UserFlows[0].AppIDs = append(tn.UserFlows[0].AppIDs, app.AppID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	return app
}

// signer is a seeded user who signs in, with what the ID token must say about them.
type signer struct {
	emuclient.UserInfo
	OID string
	// PreferredUsername is the sign-in name: the UPN in a workforce tenant, the email address an
	// External ID customer signs in with.
	PreferredUsername string
}

// userOf returns a seeded non-admin user of a tenant.
func userOf(t testing.TB, e *emulatortest.Emulator, ti emuclient.TenantInfo) signer {
	t.Helper()
	for _, u := range ti.Users {
		if u.Admin {
			continue
		}
		s := signer{UserInfo: u, PreferredUsername: u.UserPrincipalName}
		e.Store().View(func(d *emulator.Directory) {
			if x := d.Tenant(ti.ID).UserByName(u.UserPrincipalName); x != nil {
				s.OID = x.ID
				if ti.Type == emulator.ExternalID && x.Mail != "" {
					s.PreferredUsername = x.Mail
				}
			}
		})
		return s
	}
	t.Fatalf("tenant %s has no non-admin user", ti.Domain)
	return signer{}
}

// ---- running a peer process ----

// peer is a running peer script that speaks one JSON object per line on stdout.
type peer struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *syncBuffer
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// cleanEnv is the test process's environment without proxy settings (a peer must talk to the
// emulator directly) plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startPeer runs a peer; the process is killed when ctx ends or the test finishes.
func startPeer(t testing.TB, ctx context.Context, name string, env []string, argv ...string) *peer {
	t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.WaitDelay = 2 * time.Second
	p := &peer{name: name, cmd: cmd, lines: make(chan string, 8), stderr: newSyncBuffer()}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

// next reads the peer's next JSON line into v.
func (p *peer) next(t testing.TB, ctx context.Context, v any) {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			err := p.cmd.Wait()
			t.Fatalf("%s exited (%v) without answering; stderr:\n%s", p.name, err, p.stderr)
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("%s printed %q: %v; stderr:\n%s", p.name, line, err, p.stderr)
		}
	case <-ctx.Done():
		t.Fatalf("%s: no answer before the deadline (%v); stderr:\n%s", p.name, ctx.Err(), p.stderr)
	}
}

// send writes one JSON line to the peer's stdin.
func (p *peer) send(t testing.TB, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("write to %s: %v; stderr:\n%s", p.name, err, p.stderr)
	}
}

// failure waits for the peer to exit with an error and returns what it printed on stderr.
func (p *peer) failure(t testing.TB) string {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err == nil {
		t.Fatalf("%s succeeded; want a failure", p.name)
	}
	return p.stderr.String()
}

// wait waits for the peer to exit successfully.
func (p *peer) wait(t testing.TB) {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%s failed: %v; stderr:\n%s", p.name, err, p.stderr)
	}
	if s := p.stderr.String(); s != "" {
		t.Logf("%s stderr:\n%s", p.name, s)
	}
}

// nodePreload is the production preload of internal/runner, written for this test.
func nodePreload(t testing.TB) string {
	t.Helper()
	p, err := runner.NodePreloadFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func peersDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "peers"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// nodePeer starts msal-node-peer.js in a mode, reaching the emulator under the real names.
func nodePeer(t testing.TB, ctx context.Context, e *emulatortest.Emulator, mode string, cfg any, extraEnv ...string) *peer {
	t.Helper()
	nodeDir, node := testenv.NodeDir(t)
	dir := peersDir(t)
	b, _ := json.Marshal(cfg)
	env := cleanEnv(
		"NODE_PATH="+filepath.Join(nodeDir, "node_modules"),
		"NODE_EXTRA_CA_CERTS="+e.CAFile(),
		"ENTRA_QUICKSTART_EMULATOR_ADDR="+e.Addr(),
		"PEER_CONFIG="+string(b),
		"NODE_OPTIONS=",
	)
	env = append(env, extraEnv...) // the last value of a key wins
	return startPeer(t, ctx, "msal-node "+mode, env, node, "--require", nodePreload(t), filepath.Join(dir, "msal-node-peer.js"), mode)
}

// pythonPeer starts msal_python_peer.py in a mode with Debian's python3 and python3-msal.
func pythonPeer(t testing.TB, ctx context.Context, e *emulatortest.Emulator, mode string, cfg any, extraEnv ...string) *peer {
	t.Helper()
	py := testenv.Python(t, "msal")
	b, _ := json.Marshal(cfg)
	env := cleanEnv(
		"REQUESTS_CA_BUNDLE="+e.CAFile(),
		"EMULATOR_ADDR="+e.Addr(),
		"PEER_CONFIG="+string(b),
		"PYTHONDONTWRITEBYTECODE=1",
	)
	env = append(env, extraEnv...)
	return startPeer(t, ctx, "msal-python "+mode, env, py, filepath.Join(peersDir(t), "msal_python_peer.py"), mode)
}

// routeCount counts the requests the emulator served on a route since a mark.
func routeCount(e *emulatortest.Emulator, since time.Time, route string) int {
	n := 0
	for _, r := range e.Requests() {
		if !r.Time.Before(since) && r.Route == route {
			n++
		}
	}
	return n
}

// checkAppToken checks a Graph app-only access token's claims against the automation client.
func checkAppToken(t testing.TB, ti emuclient.TenantInfo, claims map[string]any) {
	t.Helper()
	if aud, _ := claims["aud"].(string); aud != "https://graph.microsoft.com" && aud != emulator.GraphAppID {
		t.Errorf("aud = %q, want Microsoft Graph", aud)
	}
	if claims["tid"] != ti.ID {
		t.Errorf("tid = %v, want %s", claims["tid"], ti.ID)
	}
	if claims["appid"] != ti.AutomationClient.AppID && claims["azp"] != ti.AutomationClient.AppID {
		t.Errorf("appid/azp = %v/%v, want %s", claims["appid"], claims["azp"], ti.AutomationClient.AppID)
	}
	var roles []string
	if rs, ok := claims["roles"].([]any); ok {
		for _, r := range rs {
			s, _ := r.(string)
			roles = append(roles, s)
		}
	}
	for _, want := range emulator.AutomationRoles {
		if !slices.Contains(roles, want) {
			t.Errorf("roles = %v, missing %s", roles, want)
		}
	}
	if _, ok := claims["scp"]; ok {
		t.Errorf("an app-only token carries scp: %v", claims["scp"])
	}
}

// checkIDToken checks the ID token claims a peer decoded after an authorization-code sign-in.
func checkIDToken(t testing.TB, ti emuclient.TenantInfo, app registeredApp, user signer, claims map[string]any) {
	t.Helper()
	want := map[string]any{
		"aud":                app.AppID,
		"iss":                issuerOf(ti),
		"tid":                ti.ID,
		"oid":                user.OID,
		"preferred_username": user.PreferredUsername,
		"name":               user.DisplayName,
		"ver":                "2.0",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("ID token %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"sub", "iat", "nbf", "exp"} {
		if claims[k] == nil {
			t.Errorf("ID token has no %s: %v", k, claims)
		}
	}
	if exp, _ := claims["exp"].(float64); exp != 0 && time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("ID token already expired: exp %v", exp)
	}
}

// signInOverHTTP signs a user in from authURL through the emulator's pages with the emulator's
// HTTP driver (a browser without JavaScript) and returns the fields the emulator sends to the
// redirect URI: from the redirect's query, or from the auto-posting form for form_post.
func signInOverHTTP(ctx context.Context, e *emulatortest.Emulator, authURL, redirectURI, username, password string) (url.Values, error) {
	a, err := emuclient.SignIn(ctx, e.Client(), authURL, emuclient.SignInOptions{Username: username, Password: password})
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(a.URL.String(), redirectURI) {
		return nil, fmt.Errorf("the sign-in ended at %s %s, not at the redirect URI %s", a.Method, a.URL, redirectURI)
	}
	return a.Params(), nil
}

// answerFields turns the redirect's fields into the JSON object a peer script reads.
func answerFields(v url.Values) map[string]string {
	m := map[string]string{}
	for k := range v {
		m[k] = v.Get(k)
	}
	return m
}

// ---- the tests ----

// authorityFor is the authority a sample of the tenant kind configures for a library: the
// workforce samples use login.microsoftonline.com/<tenant id>; the External ID Node sample
// https://<sub>.ciamlogin.com/ (msal-node adds <sub>.onmicrosoft.com), the Python ones
// https://<sub>.ciamlogin.com/<sub>.onmicrosoft.com.
func authorityFor(ti emuclient.TenantInfo, lib string) string {
	if ti.Type != emulator.ExternalID {
		return "https://login.microsoftonline.com/" + ti.ID
	}
	if lib == "node" {
		return "https://" + ti.Subdomain + ".ciamlogin.com/"
	}
	return "https://" + ti.Subdomain + ".ciamlogin.com/" + ti.Domain
}

func TestMSALNodeClientCredentials(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			mark, began := time.Now(), time.Now()
			p := nodePeer(t, ctx, e, "client-credentials", map[string]any{
				"authority": authorityFor(ti, "node"), "clientId": ti.AutomationClient.AppID, "clientSecret": ti.AutomationClient.Secret,
			})
			var got struct {
				TokenType         string         `json:"token_type"`
				TenantID          string         `json:"tenant_id"`
				AccessTokenClaims map[string]any `json:"access_token_claims"`
				FromCache         bool           `json:"from_cache"`
			}
			p.next(t, ctx, &got)
			p.wait(t)
			checkAppToken(t, ti, got.AccessTokenClaims)
			if got.TokenType != "Bearer" {
				t.Errorf("token_type = %q", got.TokenType)
			}
			if !got.FromCache {
				t.Errorf("the second call did not come from msal-node's cache")
			}
			if n := routeCount(e, mark, "login.token"); n != 1 {
				t.Errorf("%d token requests, want 1 (the second from the cache)", n)
			}
			// msal-node knows login.microsoftonline.com and trusts *.ciamlogin.com as they are.
			if n := routeCount(e, mark, "login.instance"); n != 0 {
				t.Errorf("%d instance discovery requests, want none", n)
			}
			t.Logf("msal-node client credentials (%s): %v", tc.name, time.Since(began).Round(time.Millisecond))
		})
	}
}

// TestPeersCheckTheCertificate: the recipes change where connections go, not what TLS checks.
// Without the emulator's CA the peers refuse the emulator's certificate for the real names.
func TestPeersCheckTheCertificate(t *testing.T) {
	e := emulatortest.New(t)
	ti := e.Tenant(t, emulator.Workforce)
	cases := []struct {
		name  string
		start func(ctx context.Context) *peer
		want  []string // any of these in the error
	}{
		{"msal-node", func(ctx context.Context) *peer {
			// msal-node reports only "network_error", so fetch discovery through the same stack.
			return nodePeer(t, ctx, e, "get", map[string]any{
				"url": authorityFor(ti, "node") + "/v2.0/.well-known/openid-configuration",
			}, "NODE_EXTRA_CA_CERTS=")
		}, []string{"certificate", "UNABLE_TO_VERIFY", "self-signed", "self signed"}},
		{"msal-python", func(ctx context.Context) *peer {
			return pythonPeer(t, ctx, e, "client-credentials", map[string]any{
				"authority": authorityFor(ti, "python"), "client_id": ti.AutomationClient.AppID, "client_secret": ti.AutomationClient.Secret,
			}, "REQUESTS_CA_BUNDLE=")
		}, []string{"CERTIFICATE_VERIFY_FAILED", "certificate verify failed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			stderr := tc.start(ctx).failure(t)
			if !slices.ContainsFunc(tc.want, func(w string) bool { return strings.Contains(stderr, w) }) {
				t.Errorf("the failure is not a certificate error (want one of %q):\n%s", tc.want, stderr)
			}
			t.Logf("without the CA: %s", strings.TrimSpace(stderr[max(0, len(stderr)-200):]))
		})
	}
}

// TestMSALNodeWrongSecret: msal-node surfaces the emulator's error body (AADSTS7000215 in
// invalid_client) the way it does Entra's.
func TestMSALNodeWrongSecret(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			p := nodePeer(t, ctx, e, "client-credentials", map[string]any{
				"authority": authorityFor(ti, "node"), "clientId": ti.AutomationClient.AppID, "clientSecret": emulator.NewSecretText(),
			})
			stderr := p.failure(t)
			if !strings.Contains(stderr, "invalid_client") || !strings.Contains(stderr, "AADSTS7000215") {
				t.Errorf("msal-node's error does not carry invalid_client and AADSTS7000215:\n%s", stderr)
			}
		})
	}
}

func TestMSALNodeAuthCodeSignIn(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			const redirectURI = "http://localhost:3000/redirect"
			app := registerApp(t, e, ti, []string{redirectURI}, "")
			user := userOf(t, e, ti)
			scopes := []string{"User.Read"}
			if tc.typ == emulator.ExternalID {
				scopes = []string{} // the External ID sample asks for the OIDC scopes msal adds
			}
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			began := time.Now()
			mark := time.Now()
			p := nodePeer(t, ctx, e, "auth-code", map[string]any{
				"authority": authorityFor(ti, "node"), "clientId": app.AppID, "clientSecret": app.Secret,
				"redirectUri": redirectURI, "scopes": scopes,
				"sampleMetadata": tc.name, "tenantDomain": ti.Domain, "callGraph": tc.typ == emulator.Workforce,
			})
			var start struct {
				AuthURL string `json:"auth_url"`
			}
			p.next(t, ctx, &start)
			checkAuthURL(t, ti, start.AuthURL, "form_post")
			answer, err := signInOverHTTP(ctx, e, start.AuthURL, redirectURI, user.PreferredUsername, user.Password)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			for _, k := range []string{"code", "state", "client_info"} {
				if answer.Get(k) == "" {
					t.Errorf("the answer to the redirect URI has no %s: %v", k, answer)
				}
			}
			p.send(t, answerFields(answer))
			var got struct {
				Me            map[string]any `json:"me"`
				IDTokenClaims map[string]any `json:"id_token_claims"`
				Account       struct {
					HomeAccountID string `json:"homeAccountId"`
					Environment   string `json:"environment"`
					TenantID      string `json:"tenantId"`
					Username      string `json:"username"`
				} `json:"account"`
				Scopes              []string       `json:"scopes"`
				AccessTokenClaims   map[string]any `json:"access_token_claims"`
				SilentFromCache     bool           `json:"silent_from_cache"`
				RefreshedFromCache  bool           `json:"refreshed_from_cache"`
				RefreshedIDTokenCls map[string]any `json:"refreshed_id_token_claims"`
			}
			p.next(t, ctx, &got)
			p.wait(t)
			checkIDToken(t, ti, app, user, got.IDTokenClaims)
			if want := user.OID + "." + ti.ID; got.Account.HomeAccountID != want {
				t.Errorf("homeAccountId = %q, want %q (from client_info)", got.Account.HomeAccountID, want)
			}
			if got.Account.TenantID != ti.ID || !strings.EqualFold(got.Account.Username, user.PreferredUsername) {
				t.Errorf("account = %+v", got.Account)
			}
			if !got.SilentFromCache || got.RefreshedFromCache {
				t.Errorf("silent from cache = %v (want true), forced refresh from cache = %v (want false)", got.SilentFromCache, got.RefreshedFromCache)
			}
			if tc.typ == emulator.Workforce {
				if scp, _ := got.AccessTokenClaims["scp"].(string); !strings.Contains(scp, "User.Read") {
					t.Errorf("access token scp = %q, want User.Read", scp)
				}
				checkMe(t, user, got.Me)
			}
			// The workforce sample's own instance discovery was answered, and msal-node, given
			// the metadata, asked for none itself; for *.ciamlogin.com it never asks.
			want := map[emulator.TenantType]int{emulator.Workforce: 1, emulator.ExternalID: 0}[tc.typ]
			if n := routeCount(e, mark, "login.instance"); n != want {
				t.Errorf("%d instance discovery requests, want %d", n, want)
			}
			if n := routeCount(e, mark, "login.discovery"); n != 1 {
				t.Errorf("%d OpenID configuration requests, want the sample's 1 (msal-node used the injected metadata)", n)
			}
			t.Logf("msal-node auth code (%s): %v, account environment %s", tc.name, time.Since(began).Round(time.Millisecond), got.Account.Environment)
		})
	}
}

// checkMe checks Graph's answer to GET /me with the signed-in user's delegated token.
func checkMe(t testing.TB, user signer, me map[string]any) {
	t.Helper()
	if me == nil {
		t.Errorf("no answer from Graph /me")
		return
	}
	if me["id"] != user.OID || me["userPrincipalName"] != user.UserPrincipalName || me["displayName"] != user.DisplayName {
		t.Errorf("/me = %v, want %s (%s, %s)", me, user.OID, user.UserPrincipalName, user.DisplayName)
	}
}

// checkAuthURL checks that a library built its authorize URL on the real host of the tenant
// kind, from the emulator's discovery document, with PKCE.
func checkAuthURL(t testing.TB, ti emuclient.TenantInfo, authURL, responseMode string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("auth URL %q: %v", authURL, err)
	}
	wantHost := "login.microsoftonline.com"
	if ti.Type == emulator.ExternalID {
		wantHost = ti.Subdomain + ".ciamlogin.com"
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != wantHost || !strings.HasSuffix(u.Path, "/oauth2/v2.0/authorize") {
		t.Errorf("auth URL %s is not on https://%s/…/oauth2/v2.0/authorize", authURL, wantHost)
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Errorf("auth URL without PKCE S256 or state: %s", authURL)
	}
	if responseMode != "" && q.Get("response_mode") != responseMode {
		t.Errorf("response_mode = %q, want %q", q.Get("response_mode"), responseMode)
	}
}

func TestMSALPythonClientCredentials(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			mark, began := time.Now(), time.Now()
			p := pythonPeer(t, ctx, e, "client-credentials", map[string]any{
				"authority": authorityFor(ti, "python"), "client_id": ti.AutomationClient.AppID, "client_secret": ti.AutomationClient.Secret,
			})
			var got struct {
				TokenType         string         `json:"token_type"`
				AccessTokenClaims map[string]any `json:"access_token_claims"`
				SameToken         bool           `json:"second_is_same_token"`
			}
			p.next(t, ctx, &got)
			p.wait(t)
			checkAppToken(t, ti, got.AccessTokenClaims)
			if !strings.EqualFold(got.TokenType, "Bearer") {
				t.Errorf("token_type = %q", got.TokenType)
			}
			if n := routeCount(e, mark, "login.token"); n != 1 || !got.SameToken {
				t.Errorf("%d token requests (same token: %v), want 1: MSAL answers the second call from its cache", n, got.SameToken)
			}
			t.Logf("MSAL Python client credentials (%s): %v", tc.name, time.Since(began).Round(time.Millisecond))
		})
	}
}

func TestMSALPythonAuthCodeSignIn(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			const redirectURI = "http://localhost:5000/getAToken"
			app := registerApp(t, e, ti, []string{redirectURI}, "")
			user := userOf(t, e, ti)
			scopes := []string{"User.Read"}
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			began := time.Now()
			mark := time.Now()
			p := pythonPeer(t, ctx, e, "auth-code", map[string]any{
				"authority": authorityFor(ti, "python"), "client_id": app.AppID, "client_secret": app.Secret,
				"redirect_uri": redirectURI, "scopes": scopes, "call_graph": true,
			})
			var start struct {
				AuthURI string `json:"auth_uri"`
			}
			p.next(t, ctx, &start)
			checkAuthURL(t, ti, start.AuthURI, "")
			if q, _ := url.Parse(start.AuthURI); q.Query().Get("nonce") == "" {
				t.Errorf("MSAL Python sent no nonce: %s", start.AuthURI)
			}
			answer, err := signInOverHTTP(ctx, e, start.AuthURI, redirectURI, user.PreferredUsername, user.Password)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			p.send(t, answerFields(answer))
			var got struct {
				Me            map[string]any `json:"me"`
				IDTokenClaims map[string]any `json:"id_token_claims"`
				Scope         any            `json:"scope"`
				Accounts      []struct {
					HomeAccountID string `json:"home_account_id"`
					Environment   string `json:"environment"`
					Realm         string `json:"realm"`
					Username      string `json:"username"`
				} `json:"accounts"`
				Refreshed    bool   `json:"refreshed"`
				RefreshError string `json:"refresh_error"`
			}
			p.next(t, ctx, &got)
			p.wait(t)
			checkIDToken(t, ti, app, user, got.IDTokenClaims)
			if len(got.Accounts) != 1 || got.Accounts[0].HomeAccountID != user.OID+"."+ti.ID || got.Accounts[0].Realm != ti.ID {
				t.Errorf("accounts = %+v, want one %s.%s in realm %s", got.Accounts, user.OID, ti.ID, ti.ID)
			}
			if !got.Refreshed {
				t.Errorf("a forced silent refresh failed: %s", got.RefreshError)
			}
			checkMe(t, user, got.Me)
			// MSAL 1.21 validates a *.ciamlogin.com authority through instance discovery at
			// login.microsoftonline.com (newer MSAL skips it); login.microsoftonline.com it knows.
			want := map[emulator.TenantType]int{emulator.Workforce: 0, emulator.ExternalID: 1}[tc.typ]
			if n := routeCount(e, mark, "login.instance"); n != want {
				t.Errorf("%d instance discovery requests, want %d", n, want)
			}
			t.Logf("MSAL Python auth code (%s): %v", tc.name, time.Since(began).Round(time.Millisecond))
		})
	}
}
