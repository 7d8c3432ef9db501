package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "verify-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// fakeConfig is a Config for the fake OP with node-style URIs on a free port.
func fakeConfig(t *testing.T, op *fakeOP) Config {
	redirect, post, front := localURIs(t, "http")
	op.frontChannel = front
	return Config{Authority: op.authority(), TenantID: op.tenant, TenantKind: samples.Workforce, ClientID: op.clientID,
		ClientSecret: op.secret, RedirectURI: redirect, PostLogoutRedirectURI: post, FrontChannelLogoutURL: front,
		CallsGraph: true, GraphBaseURL: op.srv.URL}
}

// driveAll signs in and out through the server's pages.
func driveAll(t *testing.T) func(ctx context.Context, start string) error {
	return func(ctx context.Context, start string) error {
		b := newHTTPBrowser(t, nil)
		if st, _, body, err := b.get(ctx, start); err != nil || st != 200 || !strings.Contains(body, `id="signin"`) {
			return fmt.Errorf("start page: %d %v", st, err)
		}
		st, u, body, err := b.get(ctx, baseOf(start)+signInPath)
		if err != nil || st != 200 || !strings.Contains(body, "Signed in") {
			return fmt.Errorf("sign-in ended at %s with %d %v: %.400s", u, st, err, body)
		}
		st, u, body, err = b.get(ctx, baseOf(start)+signOutPath)
		if err != nil || st != 200 || !strings.Contains(body, `id="signedout"`) {
			return fmt.Errorf("sign-out ended at %s with %d %v: %.400s", u, st, err, body)
		}
		return nil
	}
}

func TestJourneyFakeOP(t *testing.T) {
	cert, key := testCert(t)
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"secret_post", func(c *Config) {}},
		{"secret_basic", func(c *Config) { c.ClientSecretBasic = true }},
		{"certificate_PS256", func(c *Config) { c.ClientSecret, c.Certificate, c.PrivateKey = "", cert, key }},
		{"certificate_RS256", func(c *Config) { c.ClientSecret, c.Certificate, c.PrivateKey, c.AssertionAlg = "", cert, key, "RS256" }},
		{"no_graph_no_signout", func(c *Config) { c.CallsGraph, c.PostLogoutRedirectURI, c.FrontChannelLogoutURL = false, "", "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.cert = cert
			cfg := fakeConfig(t, op)
			tc.edit(&cfg)
			drive := driveAll(t)
			if cfg.PostLogoutRedirectURI == "" {
				drive = func(ctx context.Context, start string) error {
					b := newHTTPBrowser(t, nil)
					_, _, body, err := b.get(ctx, baseOf(start)+signInPath)
					if err == nil && !strings.Contains(body, "Signed in") {
						err = fmt.Errorf("not signed in: %.300s", body)
					}
					return err
				}
			}
			rep, err, ev, derr := runWith(t, cfg, Options{}, drive)
			if err != nil || derr != nil || !rep.OK() || rep.ExitCode() != 0 {
				t.Fatalf("run: %v; drive: %v; %s\n%+v", err, derr, statuses(rep), rep.FirstFailure())
			}
			if rep.User == nil || rep.User.Username != "abe@contoso.test" || rep.Claims["tid"] != op.tenant {
				t.Errorf("user %+v claims %v", rep.User, rep.Claims)
			}
			if cfg.CallsGraph && rep.Me["displayName"] != "Abe Lincoln" {
				t.Errorf("me = %v", rep.Me)
			}
			// Every step reached a final status through a Running one, in checklist order.
			var order []Step
			for _, e := range ev.All() {
				if e.Kind == EventStep && e.Step.Status.Done() {
					order = append(order, e.Step.Step)
				}
			}
			if len(order) < len(Steps()) {
				t.Errorf("final events %v", order)
			}
		})
	}
}

// TestIDTokenRefusals doctors the ID token the fake provider issues and checks each is refused
// at the "ID token valid" step with its diagnosis, on the page and in the report.
func TestIDTokenRefusals(t *testing.T) {
	cases := []struct {
		name   string
		doctor func(op *fakeOP, claims, header map[string]any)
		sign   bool // use the rogue key
		none   bool // alg none
		key    string
	}{
		{name: "nonce_mismatch", doctor: func(_ *fakeOP, c, _ map[string]any) { c["nonce"] = "someone-elses" }, key: "local:nonce"},
		{name: "wrong_audience", doctor: func(_ *fakeOP, c, _ map[string]any) { c["aud"] = "11111111-2222-3333-4444-555555555555" }, key: "local:audience"},
		{name: "wrong_issuer", doctor: func(op *fakeOP, c, _ map[string]any) {
			c["iss"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
		}, key: "local:issuer"},
		{name: "wrong_tenant", doctor: func(_ *fakeOP, c, _ map[string]any) { c["tid"] = "00000000-0000-0000-0000-000000000000" }, key: "local:tenant"},
		{name: "no_tenant", doctor: func(_ *fakeOP, c, _ map[string]any) { delete(c, "tid") }, key: "local:no_tid"},
		{name: "expired", doctor: func(_ *fakeOP, c, _ map[string]any) {
			c["exp"], c["iat"], c["nbf"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
		}, key: "local:expired"},
		{name: "alg_none", none: true, key: "local:signature"},
		{name: "unknown_key", sign: true, doctor: func(_ *fakeOP, _, h map[string]any) { h["kid"] = "not-published" }, key: "local:signature"},
		{name: "unknown_key_same_kid", sign: true, key: "local:signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			cfg := fakeConfig(t, op)
			if tc.doctor != nil {
				op.doctor = func(c, h map[string]any) { tc.doctor(op, c, h) }
			}
			switch {
			case tc.sign:
				op.sign = signWith(op.rogue)
			case tc.none:
				op.sign = func(_ *fakeOP, h, c map[string]any) string {
					h["alg"] = "none"
					delete(h, "kid")
					hb, _ := json.Marshal(h)
					cb, _ := json.Marshal(c)
					return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "."
				}
			}
			var page string
			rep, err, _, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
				b := newHTTPBrowser(t, nil)
				_, _, body, err := b.get(ctx, baseOf(start)+signInPath)
				page = body
				return err
			})
			if derr != nil {
				t.Fatal(derr)
			}
			if err == nil || rep.OK() || rep.ExitCode() != 1 {
				t.Fatalf("accepted a doctored token: %s", statuses(rep))
			}
			st := rep.Step(StepIDToken)
			if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != tc.key {
				t.Fatalf("id token step = %+v (diagnosis %+v), want failed with %s", st, st.Diagnosis, tc.key)
			}
			if !strings.Contains(page, `id="diagnosis"`) || !strings.Contains(page, tc.key) {
				t.Errorf("error page lacks the diagnosis %s: %.600s", tc.key, page)
			}
			if rep.User != nil || rep.Step(StepGraphMe).Status != Skipped {
				t.Errorf("went on after a refused token: %s", statuses(rep))
			}
		})
	}
}

func TestErrorRedirectShowsDiagnosis(t *testing.T) {
	op := newFakeOP(t)
	op.authorizeError = [2]string{"access_denied", "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-01-01 00:00:00Z"}
	cfg := fakeConfig(t, op)
	var page string
	rep, err, _, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
		_, _, body, err := newHTTPBrowser(t, nil).get(ctx, baseOf(start)+signInPath)
		page = body
		return err
	})
	if derr != nil || err == nil {
		t.Fatalf("drive %v, run %v", derr, err)
	}
	st := rep.Step(StepAuthorize)
	if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != "AADSTS65004" || !strings.Contains(st.Diagnosis.Message, "declined") {
		t.Fatalf("authorize = %+v %+v", st, st.Diagnosis)
	}
	if !strings.Contains(page, "AADSTS65004") || !strings.Contains(page, "Consent declined") || strings.Contains(page, "Trace ID") {
		t.Errorf("page: %.800s", page)
	}
	if !strings.Contains(err.Error(), "Consent declined") && !strings.Contains(err.Error(), "Sign in again") {
		t.Errorf("error does not say what to do: %v", err)
	}
}

func TestTokenErrorDiagnosis(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cfg.ClientSecret = "the-secret-id-not-its-value"
	rep, _, _, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
		_, _, _, err := newHTTPBrowser(t, nil).get(ctx, baseOf(start)+signInPath)
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	st := rep.Step(StepCodeExchange)
	if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != "AADSTS7000215" {
		t.Fatalf("exchange = %+v %+v", st, st.Diagnosis)
	}
}

func TestRefusesUnknownStateAndReplay(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cases := map[string]int{}
	rep, err, ev, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
		b := newHTTPBrowser(t, nil)
		base := baseOf(start)
		// A forged callback: a state this server never issued.
		st, _, _, err := b.get(ctx, base+"/auth/redirect?code=forged&state=not-issued")
		if err != nil {
			return err
		}
		cases["unknown"] = st
		// A real sign-in, keeping the callback URL to replay it.
		cb, err := b.callbackURL(base)
		if err != nil {
			return err
		}
		if st, _, _, err = b.get(ctx, cb); err != nil || st != 200 {
			return fmt.Errorf("callback %d %v", st, err)
		}
		if st, _, _, err = b.get(ctx, cb); err != nil {
			return err
		}
		cases["replay"] = st
		_, _, _, err = b.get(ctx, base+signOutPath)
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if cases["unknown"] != 400 || cases["replay"] != 400 {
		t.Errorf("statuses %v, want 400 for both", cases)
	}
	// Refusals do not fail the run: the real sign-in went on and passed.
	if err != nil || !rep.OK() {
		t.Errorf("run %v: %s", err, statuses(rep))
	}
	if len(rep.Refusals) != 2 || !strings.Contains(rep.Refusals[0].Reason, "Unknown") || !strings.Contains(rep.Refusals[1].Reason, "already used") {
		t.Errorf("refusals %+v", rep.Refusals)
	}
	if !strings.Contains(ev.notices(), "Refused a request to /auth/redirect") {
		t.Errorf("notices: %s", ev.notices())
	}
}

func TestRefusesForeignHost(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cfg.PostLogoutRedirectURI, cfg.FrontChannelLogoutURL = "", ""
	var status int
	var body string
	rep, _, _, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
		// What a DNS-rebinding page would send: the loopback address with its own name.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseOf(start)+signInPath, nil)
		req.Host = "evil.example:" + req.URL.Port()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		buf := make([]byte, 8192)
		n, _ := resp.Body.Read(buf)
		body = string(buf[:n])
		resp.Body.Close()
		status = resp.StatusCode
		_, _, _, err = newHTTPBrowser(t, nil).get(ctx, baseOf(start)+signInPath)
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if status != http.StatusMisdirectedRequest || !strings.Contains(body, "Wrong host") {
		t.Errorf("foreign host got %d: %.200s", status, body)
	}
	if len(rep.Refusals) != 1 || !strings.Contains(rep.Refusals[0].Reason, "evil.example") {
		t.Errorf("refusals %+v", rep.Refusals)
	}
	if rep.Step(StepAuthorize).Status != Passed {
		t.Errorf("the real request after it should pass: %s", statuses(rep))
	}
}

// TestTimeoutNamesMissingStep: Entra shows AADSTS50011 on its own page and never redirects;
// the run times out at "Authorize" and says what that usually means.
func TestTimeoutNamesMissingStep(t *testing.T) {
	op := newFakeOP(t)
	op.authorizePage = "AADSTS50011: The redirect URI specified in the request does not match."
	cfg := fakeConfig(t, op)
	rep, err, _, derr := runWith(t, cfg, Options{Timeout: 1500 * time.Millisecond}, func(ctx context.Context, start string) error {
		_, _, body, err := newHTTPBrowser(t, nil).get(ctx, baseOf(start)+signInPath)
		if err == nil && !strings.Contains(body, "AADSTS50011") {
			err = fmt.Errorf("expected Entra's error page")
		}
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if rep.Outcome != "timeout" || rep.ExitCode() != 1 {
		t.Fatalf("outcome %s", rep.Outcome)
	}
	st := rep.Step(StepAuthorize)
	if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != "timeout:authorize" || !strings.Contains(st.Diagnosis.Explanation, "AADSTS50011") {
		t.Fatalf("authorize %+v %+v", st, st.Diagnosis)
	}
	if !strings.Contains(err.Error(), "never came back") {
		t.Errorf("err = %v", err)
	}
	for _, s := range rep.Steps[2:] {
		if s.Status != Skipped && s.Step != StepGraphMe {
			t.Errorf("%s = %s, want skipped", s.Step, s.Status)
		}
	}
}

// TestCallbackAfterTimeout: a redirect arriving after the run gave up finds nobody listening
// (the server stopped), and the report says the browser never came back.
func TestCallbackAfterTimeout(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	var callback string
	var ready = make(chan struct{})
	rep, _, _, derr := runWith(t, cfg, Options{Timeout: time.Second}, func(ctx context.Context, start string) error {
		cb, err := newHTTPBrowser(t, nil).callbackURL(baseOf(start))
		if err != nil {
			return err
		}
		callback = cb
		close(ready)
		return nil
	})
	<-ready
	if derr != nil {
		t.Fatal(derr)
	}
	if rep.Outcome != "timeout" || rep.Step(StepAuthorize).Status != Failed {
		t.Fatalf("%s %s", rep.Outcome, statuses(rep))
	}
	resp, err := http.Get(callback)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a callback after the timeout was served: %d", resp.StatusCode)
	}
}

// TestLateStateRefused: the state is refused once the attempt is older than AttemptTTL (the
// clock is moved, not slept on).
func TestLateStateRefused(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cfg.PostLogoutRedirectURI, cfg.FrontChannelLogoutURL = "", ""
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	offset := time.Duration(0)
	now := func() time.Time { <-mu; defer func() { mu <- struct{}{} }(); return time.Now().Add(offset) }
	var status int
	rep, _, _, derr := runWith(t, cfg, Options{Now: now, AttemptTTL: time.Minute, Timeout: 2 * time.Second}, func(ctx context.Context, start string) error {
		b := newHTTPBrowser(t, nil)
		cb, err := b.callbackURL(baseOf(start))
		if err != nil {
			return err
		}
		<-mu
		offset = 2 * time.Minute
		mu <- struct{}{}
		status, _, _, err = b.get(ctx, cb)
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if status != 400 || len(rep.Refusals) != 1 || !strings.Contains(rep.Refusals[0].Reason, "expired") {
		t.Errorf("status %d refusals %+v", status, rep.Refusals)
	}
}

func TestPortFallback(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cfg.PostLogoutRedirectURI, cfg.FrontChannelLogoutURL = "", ""
	// Something else holds the sample's port.
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	cfg.RedirectURI = fmt.Sprintf("http://localhost:%d/getAToken", port)
	rep, err, ev, derr := runWith(t, cfg, Options{ListenHost: "127.0.0.1"}, func(ctx context.Context, start string) error {
		_, _, body, err := newHTTPBrowser(t, nil).get(ctx, baseOf(start)+signInPath)
		if err == nil && !strings.Contains(body, "Signed in") {
			err = fmt.Errorf("%.300s", body)
		}
		return err
	})
	if err != nil || derr != nil {
		t.Fatalf("%v %v", err, derr)
	}
	if rep.ServedAt == cfg.RedirectURI || !strings.HasSuffix(rep.ServedAt, "/getAToken") {
		t.Errorf("served at %s", rep.ServedAt)
	}
	if !strings.Contains(ev.notices(), fmt.Sprintf("Port %d is busy", port)) {
		t.Errorf("no notice of the fallback: %s", ev.notices())
	}
}

// TestHTTPSRedirectKeepsCertificate: an https redirect URI is served with a localhost
// certificate kept (0600) in the cert directory and reused by the next run.
func TestHTTPSRedirectKeepsCertificate(t *testing.T) {
	op := newFakeOP(t)
	dir := t.TempDir()
	var fingerprints []string
	for i := range 2 {
		cfg := fakeConfig(t, op)
		redirect, post, front := localURIs(t, "https")
		cfg.RedirectURI, cfg.PostLogoutRedirectURI, cfg.FrontChannelLogoutURL = strings.Replace(redirect, "/auth/redirect", "/signin-oidc", 1), "", ""
		_, _ = post, front
		rep, err, ev, derr := runWith(t, cfg, Options{CertDir: dir}, func(ctx context.Context, start string) error {
			pem, err := os.ReadFile(filepath.Join(dir, localhostCertFile))
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			b := newHTTPBrowser(t, nil)
			b.c.Transport = &http.Transport{TLSClientConfig: tlsConfigWithRoots(pool)}
			st, _, body, err := b.get(ctx, baseOf(start)+signInPath)
			if err == nil && (st != 200 || !strings.Contains(body, "Signed in")) {
				err = fmt.Errorf("%d %.300s", st, body)
			}
			if err == nil {
				fingerprints = append(fingerprints, string(pem))
			}
			return err
		})
		if err != nil || derr != nil {
			t.Fatalf("run %d: %v %v", i, err, derr)
		}
		if !strings.HasPrefix(rep.ServedAt, "https://localhost:") || !strings.Contains(ev.notices(), "self-signed certificate") {
			t.Errorf("served at %s; notices %s", rep.ServedAt, ev.notices())
		}
	}
	fi, err := os.Stat(filepath.Join(dir, localhostCertFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cert file mode %v %v", fi, err)
	}
	if len(fingerprints) != 2 || fingerprints[0] != fingerprints[1] {
		t.Errorf("the certificate was not kept between runs")
	}
}

// callbackURL signs in from base and stops short of the callback: it returns the redirect the
// authority sent the browser to, unvisited (b follows redirects again afterwards).
func (b *httpBrowser) callbackURL(base string) (string, error) {
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/redirect" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.c.CheckRedirect = nil }()
	resp, err := b.c.Get(base + signInPath)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), nil
}

// TestOutsideTextReachesNoTerminalRaw: a request path full of escape sequences (a web page can
// send one to the sample's fixed port) and an error_description carrying them come out escaped
// in every notice and step detail, never raw.
func TestOutsideTextReachesNoTerminalRaw(t *testing.T) {
	op := newFakeOP(t)
	cfg := fakeConfig(t, op)
	cfg.PostLogoutRedirectURI, cfg.FrontChannelLogoutURL = "", ""
	rep, _, ev, derr := runWith(t, cfg, Options{}, func(ctx context.Context, start string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseOf(start)+"/%1b%5b2J%1b%5d0;PWNED%07", nil)
		req.Host = "evil.example:" + req.URL.Port()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		// A real attempt's callback, its code swapped for an error whose description carries
		// escape sequences.
		b := newHTTPBrowser(t, nil)
		cb, err := b.callbackURL(baseOf(start))
		if err != nil {
			return err
		}
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		q.Set("error_description", "AADSTS65004: \x1b[2Jdeclined\x1b]0;x\x07")
		u.RawQuery = q.Encode()
		_, _, _, err = b.get(ctx, u.String())
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	var all strings.Builder
	all.WriteString(ev.notices())
	for _, s := range rep.Steps {
		all.WriteString(s.Detail)
		if s.Diagnosis != nil {
			all.WriteString(s.Diagnosis.Message)
		}
	}
	if strings.ContainsAny(all.String(), "\x1b\x07") {
		t.Fatalf("raw escape sequences reached the notices or steps: %q", all.String())
	}
	if !strings.Contains(all.String(), `\x1b[2J`) {
		t.Errorf("the escaped path or description is not shown: %q", all.String())
	}
}
