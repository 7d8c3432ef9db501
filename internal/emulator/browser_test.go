package emulator_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// browserTimeout bounds one browser run: Chromium's start, sign-in, consent, sign-out.
const browserTimeout = 60 * time.Second

// relyingParty is the local web app the browser returns to: it records what the emulator sends
// to the redirect URI and to the front-channel logout URL.
type relyingParty struct {
	base     string // http://localhost:PORT
	mu       sync.Mutex
	answers  chan url.Values
	logouts  []frontChannelCall
	srv      *http.Server
	redirect string
}

func startRelyingParty(t testing.TB) *relyingParty {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	rp := &relyingParty{base: "http://localhost:" + port, answers: make(chan url.Values, 4)}
	rp.redirect = rp.base + "/redirect"
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // query (GET) or form_post (POST) alike
		rp.answers <- r.Form
		fmt.Fprint(w, `<!doctype html><title>Signed in</title><h1 id="signed-in">Signed in</h1>`)
	})
	mux.HandleFunc("/frontchannel-logout", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.logouts = append(rp.logouts, frontChannelCall{r.URL.Query(), r.UserAgent()})
		rp.mu.Unlock()
		fmt.Fprint(w, "signed out here")
	})
	mux.HandleFunc("/signed-out", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Signed out</title><h1 id="signed-out">Signed out</h1>`)
	})
	rp.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rp.srv.Serve(ln) }()
	t.Cleanup(func() { rp.srv.Close() })
	return rp
}

// frontChannelCall is one GET of the front-channel logout URL and who made it.
type frontChannelCall struct {
	Query     url.Values
	UserAgent string
}

func (rp *relyingParty) frontChannelLogouts() []frontChannelCall {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]frontChannelCall(nil), rp.logouts...)
}

// caPin is Chromium's --ignore-certificate-errors-spki-list value for the emulator: the base64
// SHA-256 of its CA's SubjectPublicKeyInfo. Chromium then accepts only certificates whose chain
// holds that key (checked: a wrong pin gives ERR_CERT_AUTHORITY_INVALID), a narrow trust instead
// of --ignore-certificate-errors; it honours the flag only together with --user-data-dir.
func caPin(t testing.TB, e *emulatortest.Emulator) string {
	t.Helper()
	blk, _ := pem.Decode(e.CAPEM())
	if blk == nil {
		t.Fatal("the emulator's CA is not PEM")
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("the emulator's CA: %v", err)
	}
	h := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(h[:])
}

// newBrowser starts Debian's Chromium, headless, with the real host names mapped to the
// emulator and every other name unresolvable (tests stay on loopback).
func newBrowser(t testing.TB, e *emulatortest.Emulator) context.Context {
	t.Helper()
	chromium := testenv.Chromium(t)
	rules := e.HostResolverRules() + ", MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1000, 800),
		chromedp.Flag("host-resolver-rules", rules),
		chromedp.Flag("ignore-certificate-errors-spki-list", caPin(t, e)),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// discovery fetches a tenant's OpenID configuration under the real host name.
func discovery(t testing.TB, e *emulatortest.Emulator, ti emuclient.TenantInfo) map[string]any {
	t.Helper()
	u := "https://login.microsoftonline.com/" + ti.ID + "/v2.0/.well-known/openid-configuration"
	if ti.Type == emulator.ExternalID {
		u = "https://" + ti.Subdomain + ".ciamlogin.com/" + ti.ID + "/v2.0/.well-known/openid-configuration"
	}
	resp, err := e.Client().Get(u)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery %s: %s %v", u, resp.Status, err)
	}
	return doc
}

// pageState tells where the browser is: on the relying party, on a page asking for a password,
// on another page with a form (consent, account picker), or still loading.
const pageStateJS = `(() => {
	if (document.readyState !== 'complete' || window.__peerStep !== undefined) return 'loading';
	if (location.href.startsWith(%[1]q)) return 'done';
	// form_post: the page posts itself. (getAttribute: a field named "action" shadows f.action.)
	if ([...document.forms].some(f => new URL(f.getAttribute('action') || '', location.href).href.startsWith(%[1]q))) return 'loading';
	if (document.querySelector('input[type=password]')) return 'login';
	if (document.querySelector('form button, form input[type=submit]')) return 'form';
	return 'other';
})()`

// markAccept marks the button that agrees (not cancel/deny/back) so chromedp can click it.
const markAcceptJS = `(() => {
	const no = /cancel|deny|decline|reject|back|^no$/i;
	for (const b of document.querySelectorAll('form button, form input[type=submit]')) {
		if (!no.test((b.name || '') + ' ' + (b.value || '') + ' ' + (b.textContent || ''))) {
			b.setAttribute('data-peer-accept', '');
			return true;
		}
	}
	return false;
})()`

// navigating reports an evaluation that raced a navigation: the document it ran in is gone.
func navigating(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") || strings.Contains(msg, "Cannot find context") ||
		strings.Contains(msg, "Execution context was destroyed")
}

// browse drives the browser from the page it is on through login, consent or account pick
// pages until it reaches a URL under done. Each page with a form is screenshotted into shots.
func browse(t testing.TB, ctx context.Context, user signer, done, shots string) (pages []string) {
	t.Helper()
	for step := 0; step < 10; step++ {
		var state string
		for {
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(pageStateJS, done)))
			if err != nil && navigating(err) && ctx.Err() == nil {
				s = "loading" // the page was replaced while we read it: read the next one
			} else if err != nil {
				t.Fatalf("read the page: %v", err)
			}
			if s != "loading" {
				state = s
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the page did not load: %v", ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		title, _ := chromedp.Run(ctx, chromedp.Title())
		pages = append(pages, state+" "+title)
		if state == "done" {
			return pages
		}
		if state == "login" || state == "form" {
			if shots != "" {
				if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
					p := filepath.Join(shots, fmt.Sprintf("%d-%s.png", step, state))
					if err := os.WriteFile(p, png, 0o644); err == nil {
						t.Logf("screenshot: %s", p)
					}
				}
			}
		}
		switch state {
		case "login":
			// Type as a person would; the user name field may be prefilled (login_hint).
			err := chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](`(() => { const u = document.querySelector('input[type=email], input[name=login], input[name=username], input[name=loginfmt], input[type=text]'); if (u) { u.value = ''; u.setAttribute('data-peer-user', ''); } })()`),
				chromedp.SendKeys(chromedp.CSS("[data-peer-user]"), user.PreferredUsername),
				chromedp.SendKeys(chromedp.CSS("input[type=password]"), user.Password),
				chromedp.Evaluate[chromedp.Void](markAcceptJS),
				chromedp.Evaluate[chromedp.Void](`window.__peerStep = 1`),
				chromedp.Click(chromedp.CSS("[data-peer-accept]")),
			)
			if err != nil {
				t.Fatalf("fill the login page at %s: %v", loc, err)
			}
		case "form":
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](markAcceptJS))
			if err != nil || !ok {
				html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
				t.Fatalf("a form with no button to agree at %s (%v): %s", loc, err, html)
			}
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__peerStep = 1`), chromedp.Click(chromedp.CSS("[data-peer-accept]"))); err != nil {
				t.Fatalf("submit the form at %s: %v", loc, err)
			}
		default:
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("stuck at %s (%q): %s", loc, title, text)
		}
	}
	t.Fatalf("did not reach %s in 10 pages: %v", done, pages)
	return nil
}

func TestBrowserSignInAndOut(t *testing.T) {
	e := emulatortest.New(t)
	for _, tc := range tenantCases {
		t.Run(tc.name, func(t *testing.T) {
			ti := e.Tenant(t, tc.typ)
			rp := startRelyingParty(t)
			app := registerApp(t, e, ti, []string{rp.redirect, rp.base + "/signed-out"}, rp.base+"/frontchannel-logout")
			user := userOf(t, e, ti)
			doc := discovery(t, e, ti)
			// PEER_SCREENSHOTS names a folder to keep the screenshots in, to look at them.
			shots := t.TempDir()
			if dir := os.Getenv("PEER_SCREENSHOTS"); dir != "" {
				shots = filepath.Join(dir, tc.name)
				if err := os.MkdirAll(shots, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			began := time.Now()
			ctx := newBrowser(t, e)

			verifier := "peer-" + emulator.NewGUID() + "-" + emulator.NewGUID()
			sum := sha256.Sum256([]byte(verifier))
			state, nonce := emulator.NewGUID(), emulator.NewGUID()
			q := url.Values{
				"client_id":             {app.AppID},
				"response_type":         {"code"},
				"redirect_uri":          {rp.redirect},
				"response_mode":         {"form_post"},
				"scope":                 {"openid profile offline_access User.Read"},
				"state":                 {state},
				"nonce":                 {nonce},
				"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
				"code_challenge_method": {"S256"},
			}
			authURL := doc["authorization_endpoint"].(string) + "?" + q.Encode()
			if err := chromedp.Do(ctx, chromedp.Navigate(authURL)); err != nil {
				t.Fatalf("open %s: %v", authURL, err)
			}
			pages := browse(t, ctx, user, rp.redirect, shots)
			t.Logf("pages: %v", pages)
			// A workforce user consents on first use; External ID customers cannot, so the app
			// there holds admin consent (registerApp) and no consent page shows.
			if want := map[emulator.TenantType]int{emulator.Workforce: 3, emulator.ExternalID: 2}[tc.typ]; len(pages) != want {
				t.Errorf("pages %v: want %d (login, consent for workforce, the app)", pages, want)
			}
			var answer url.Values
			select {
			case answer = <-rp.answers:
			case <-ctx.Done():
				t.Fatal("the relying party got no answer")
			}
			if answer.Get("state") != state || answer.Get("code") == "" || answer.Get("session_state") == "" {
				t.Fatalf("answer at the redirect URI = %v", answer)
			}
			signedIn := time.Since(began)

			// Redeem the code as the web app would, and check the ID token.
			tok := redeem(t, e, doc["token_endpoint"].(string), url.Values{
				"client_id": {app.AppID}, "client_secret": {app.Secret}, "grant_type": {"authorization_code"},
				"code": {answer.Get("code")}, "redirect_uri": {rp.redirect}, "code_verifier": {verifier},
			})
			claims := jwtClaims(t, tok["id_token"].(string))
			checkIDToken(t, ti, app, user, claims)
			if claims["nonce"] != nonce {
				t.Errorf("ID token nonce = %v, want %s", claims["nonce"], nonce)
			}
			sid, _ := claims["sid"].(string)
			if sid == "" {
				t.Errorf("ID token has no sid: %v", claims)
			}

			// Sign out as the Node samples do: the logout URL built from the configured authority
			// (for External ID <sub>.ciamlogin.com/<sub>.onmicrosoft.com, not the tenant id of
			// the discovery document), the post-logout URI concatenated unencoded, no
			// id_token_hint. The end-session endpoint calls the front-channel logout URL and
			// lands on the post-logout redirect URI.
			authority := "https://login.microsoftonline.com/" + ti.ID
			if tc.typ == emulator.ExternalID {
				authority = "https://" + ti.Subdomain + ".ciamlogin.com/" + ti.Domain
			}
			end := authority + "/oauth2/v2.0/logout?post_logout_redirect_uri=" + rp.base + "/signed-out"
			if err := chromedp.Do(ctx, chromedp.Navigate(end)); err != nil {
				t.Fatalf("open %s: %v", end, err)
			}
			out := browse(t, ctx, user, rp.base+"/signed-out", "")
			t.Logf("sign-out pages: %v", out)
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("signed-out"))); err != nil {
				t.Fatalf("post-logout page: %v", err)
			}
			// Entra loads the front-channel logout URL in an iframe of its signed-out page: the
			// browser itself made the one call, with the session's sid and no iss; the emulator
			// never calls the app from the server.
			logouts := rp.frontChannelLogouts()
			if len(logouts) != 1 || !slices.ContainsFunc(logouts, func(c frontChannelCall) bool {
				return c.Query.Get("sid") == sid && !c.Query.Has("iss") && strings.Contains(c.UserAgent, "Chrome")
			}) {
				t.Errorf("front-channel logout calls = %+v, want exactly one, from the browser, with sid=%s", logouts, sid)
			}
			t.Logf("browser (%s): signed in after %v, signed out after %v", tc.name, signedIn.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
		})
	}
}

// redeem posts a token request and returns the JSON answer, failing the test on an error.
func redeem(t testing.TB, e *emulatortest.Emulator, endpoint string, form url.Values) map[string]any {
	t.Helper()
	resp, err := e.Client().PostForm(endpoint, form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: %s %s", resp.Status, b)
	}
	return m
}

// jwtClaims decodes a JWT's payload without checking it (the identity tests check signatures).
func jwtClaims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return m
}
