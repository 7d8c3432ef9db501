package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

// TestFrontChannelNotCheckedOnBusyPort: the sample itself (a web server saying it is Express)
// holds the sample's port, so the check signs in on another port. Sign-in and sign-out still
// work, but Entra's front-channel call goes to the registered port and cannot be observed: the
// step is not checked, the report is not OK, and the diagnosis names the port, what listens
// there and what to do.
func TestFrontChannelNotCheckedOnBusyPort(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	sample, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := sample.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Powered-By", "Express")
		_, _ = w.Write([]byte("the sample"))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(sample) }()
	t.Cleanup(func() { srv.Close() })

	base := "http://localhost:" + strconv.Itoa(port)
	redirect, post, front := base+"/auth/redirect", base+"/", base+"/signout-callback-oidc"
	a := registerApp(t, e, emulator.Workforce, []string{redirect, post}, front)
	cfg := emulatorConfig(e, a, false, redirect, post, front)
	rep, err, ev, derr := runWith(t, cfg, Options{HTTPClient: e.Client()}, driveEmulator(t, e, a.user))
	if derr != nil {
		t.Fatalf("drive: %v\n%s", derr, statuses(rep))
	}
	if rep.ServedAt == redirect {
		t.Fatalf("served at the busy port: %s", rep.ServedAt)
	}
	for _, s := range Steps() {
		if want := map[bool]Status{true: NotChecked, false: Passed}[s == StepFrontChannel]; rep.Step(s).Status != want {
			t.Errorf("%s = %s (%s), want %s", s, rep.Step(s).Status, rep.Step(s).Detail, want)
		}
	}
	if rep.OK() || rep.ExitCode() != 1 || rep.Outcome != "failed" || !errors.Is(err, ErrFailed) {
		t.Fatalf("a run whose front-channel logout was never checked: ok %v, exit %d, outcome %s, err %v", rep.OK(), rep.ExitCode(), rep.Outcome, err)
	}
	st := rep.Step(StepFrontChannel)
	d := st.Diagnosis
	if d == nil || d.Code != "local:front_channel_port_busy" {
		t.Fatalf("diagnosis %+v", d)
	}
	for _, want := range []string{fmt.Sprintf("Port %d was busy", port), "X-Powered-By: Express", "probably the sample itself"} {
		if !strings.Contains(d.Explanation, want) {
			t.Errorf("explanation lacks %q: %s", want, d.Explanation)
		}
	}
	if !strings.Contains(d.Fix, fmt.Sprintf("Stop the program on port %d", port)) || !strings.Contains(d.Fix, "entra-quickstart verify") || strings.Contains(d.Fix+d.Explanation, "{") {
		t.Errorf("fix: %s", d.Fix)
	}
	if f := rep.FirstFailure(); f == nil || f.Step != StepFrontChannel || !strings.Contains(err.Error(), "Front-channel logout") || !strings.Contains(err.Error(), "Stop the program") {
		t.Errorf("first failure %+v; err %v", f, err)
	}
	if !strings.Contains(ev.notices(), "cannot be checked") {
		t.Errorf("the fallback notice does not warn: %s", ev.notices())
	}
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), `"status":"not_checked"`) {
		t.Errorf("JSON %s", b)
	}
}

// TestFrontChannelOnAnotherOrigin: a front-channel URL on another port than the redirect URI is
// never served by this server, whatever the ports' state: not checked either.
func TestFrontChannelOnAnotherOrigin(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	redirect, post, _ := localURIs(t, "http")
	front := "http://localhost:" + strconv.Itoa(freePort(t)) + "/signout-callback-oidc"
	a := registerApp(t, e, emulator.Workforce, []string{redirect, post}, front)
	cfg := emulatorConfig(e, a, false, redirect, post, front)
	rep, err, _, derr := runWith(t, cfg, Options{HTTPClient: e.Client()}, driveEmulator(t, e, a.user))
	if derr != nil {
		t.Fatal(derr)
	}
	st := rep.Step(StepFrontChannel)
	if st.Status != NotChecked || st.Diagnosis == nil || st.Diagnosis.Code != "local:front_channel_elsewhere" || rep.OK() || err == nil {
		t.Fatalf("front %+v %+v; %s; err %v", st, st.Diagnosis, statuses(rep), err)
	}
}

// TestBrowserTimeoutAdvice: when nobody arrives at the start page, the advice depends on
// whether a browser was opened: --no-browser advice only when one was.
func TestBrowserTimeoutAdvice(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	cases := []struct {
		name       string
		opts       Options
		code       string
		want, not  []string
		detailWant string
	}{
		{"no_browser_flag", Options{NoBrowser: true, OpenBrowser: func(context.Context, string) error { return errors.New("must not be called") }},
			"timeout:no_browser", []string{"Open the URL printed in the terminal in a browser", "--timeout"}, []string{"with --no-browser"}, "nobody opened"},
		{"browser_failed", Options{OpenBrowser: func(context.Context, string) error { return errors.New("no display") }},
			"timeout:no_browser", []string{"Open the URL printed in the terminal in a browser", "--timeout"}, []string{"with --no-browser"}, "nobody opened"},
		{"browser_opened", Options{OpenBrowser: func(context.Context, string) error { return nil }},
			"timeout:browser", []string{"--no-browser"}, nil, "no browser opened"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			redirect, _, _ := localURIs(t, "http")
			a := registerApp(t, e, emulator.Workforce, []string{redirect}, "")
			cfg := emulatorConfig(e, a, false, redirect, "", "")
			opts := tc.opts
			opts.HTTPClient, opts.Timeout, opts.CertDir = e.Client(), time.Second, t.TempDir()
			rep, err := Run(context.Background(), cfg, opts)
			if rep.Outcome != "timeout" || !errors.Is(err, ErrTimeout) {
				t.Fatalf("outcome %s, err %v", rep.Outcome, err)
			}
			st := rep.Step(StepAuthorize)
			if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != tc.code || !strings.Contains(st.Detail, tc.detailWant) {
				t.Fatalf("authorize %+v %+v", st, st.Diagnosis)
			}
			for _, w := range tc.want {
				if !strings.Contains(st.Diagnosis.Fix, w) {
					t.Errorf("fix lacks %q: %s", w, st.Diagnosis.Fix)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(st.Diagnosis.Fix+st.Diagnosis.Explanation, w) {
					t.Errorf("advice says %q: %s", w, st.Diagnosis.Fix)
				}
			}
		})
	}
}

// TestAutoSignInFailureEndsRun: the automatic sign-in signs in with a wrong password and gives
// up; the run ends at once with the driver's error as the diagnosis, not at the timeout, and no
// browser is opened.
func TestAutoSignInFailureEndsRun(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	redirect, post, front := localURIs(t, "http")
	a := registerApp(t, e, emulator.Workforce, []string{redirect, post}, front)
	cfg := emulatorConfig(e, a, false, redirect, post, front)
	driver := func(ctx context.Context, start string) error {
		jar, _ := cookiejar.New(nil)
		c := e.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(baseOf(start) + signInPath)
		if err != nil {
			return err
		}
		resp.Body.Close()
		c.CheckRedirect = nil
		_, err = emuclient.SignInWithForm(ctx, c, resp.Header.Get("Location"), a.user, "not-the-password")
		if err == nil {
			return errors.New("the emulator took a wrong password")
		}
		return fmt.Errorf("auto sign-in: %w", err)
	}
	began := time.Now()
	rep, err := Run(context.Background(), cfg, Options{HTTPClient: e.Client(), Timeout: 30 * time.Second, CertDir: t.TempDir(), AutoSignIn: driver,
		OpenBrowser: func(context.Context, string) error { t.Error("a browser was opened"); return nil }})
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("the run waited %s after the driver failed", took)
	}
	if rep.Outcome != "failed" || !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "auto sign-in: ") {
		t.Fatalf("outcome %s, err %v", rep.Outcome, err)
	}
	st := rep.Step(StepAuthorize)
	if st.Status != Failed || st.Diagnosis == nil || st.Diagnosis.Code != "local:auto_sign_in" || !strings.Contains(st.Diagnosis.Message, "sign-in page shows AADSTS") {
		t.Fatalf("authorize %+v %+v", st, st.Diagnosis)
	}
}

// gatedTransport holds the token request until gate is closed, and closes hit when one came:
// the test knows the first callback is inside the code exchange (holding the server's lock).
type gatedTransport struct {
	base      http.RoundTripper
	hit, gate chan struct{}
	once      sync.Once
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		g.once.Do(func() { close(g.hit) })
		select {
		case <-g.gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.base.RoundTrip(r)
}

// TestCallbackAfterTheEnd: the person pressed Sign in in two tabs. The first tab's callback
// finishes the check; the second's arrives meanwhile (it waits while the first redeems its
// code) and is answered 410 "This check has ended", not refused as a forged state.
func TestCallbackAfterTheEnd(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	redirect, _, _ := localURIs(t, "http")
	a := registerApp(t, e, emulator.Workforce, []string{redirect}, "")
	cfg := emulatorConfig(e, a, false, redirect, "", "") // no sign-out: the first callback ends the check
	g := &gatedTransport{base: e.Client().Transport, hit: make(chan struct{}), gate: make(chan struct{})}
	var first, second int
	var secondBody string
	rep, err, _, derr := runWith(t, cfg, Options{HTTPClient: &http.Client{Transport: g}}, func(ctx context.Context, start string) error {
		jar, _ := cookiejar.New(nil)
		c := e.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		var callbacks []string
		for range 2 { // two tabs, two attempts
			resp, err := c.Get(baseOf(start) + signInPath)
			if err != nil {
				return err
			}
			resp.Body.Close()
			back, err := emuclient.SignInWithForm(ctx, c, resp.Header.Get("Location"), a.user, emulator.DemoPassword)
			if err != nil {
				return err
			}
			callbacks = append(callbacks, back.String())
		}
		b := &httpBrowser{c: &http.Client{Transport: e.Client().Transport}}
		done := make(chan error, 1)
		go func() {
			var err error
			first, _, _, err = b.get(ctx, callbacks[0])
			done <- err
		}()
		select {
		case <-g.hit:
		case err := <-done:
			return fmt.Errorf("the first callback did not reach the code exchange: %v", err)
		}
		wrote := make(chan struct{})
		go func() {
			tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }})
			var err error
			second, _, secondBody, err = b.get(tctx, callbacks[1])
			done <- err
		}()
		<-wrote
		// The server accepts and reads the second request while the first holds its lock.
		time.Sleep(300 * time.Millisecond)
		close(g.gate)
		return errors.Join(<-done, <-done)
	})
	if err != nil || derr != nil {
		t.Fatalf("run %v, drive %v: %s", err, derr, statuses(rep))
	}
	if first != http.StatusOK || second != http.StatusGone || !strings.Contains(secondBody, "This check has ended") {
		t.Errorf("first callback %d, second %d: %.300s", first, second, secondBody)
	}
	if len(rep.Refusals) != 0 || !rep.OK() {
		t.Errorf("refusals %+v; %s", rep.Refusals, statuses(rep))
	}
}
