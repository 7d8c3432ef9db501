package verify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cli/browser"
	"golang.org/x/oauth2"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
)

// SystemBrowser opens a URL in the person's browser (github.com/cli/browser).
func SystemBrowser(_ context.Context, u string) error { return browser.OpenURL(u) }

// Paths the server owns besides the sample's own: chosen so they never collide with a
// sample's redirect, post-logout or front-channel path.
const (
	StartPath   = "/entra-quickstart/"
	signInPath  = "/entra-quickstart/signin"
	signOutPath = "/entra-quickstart/signout"
)

// journey is one run: the relying party, the server's state and the report, under one lock.
type journey struct {
	mu    sync.Mutex
	cfg   Config
	opts  Options
	diag  Diagnoses
	pages pages
	rp    *relyingParty

	report   Report
	attempts map[string]*attempt

	scheme     string
	port       int
	hosts      map[string]bool // Host header values this server answers to
	redirect   *url.URL        // the redirect URI as served (port may differ)
	postLogout *url.URL        // as served; nil: no sign-out step
	frontPath  string          // front-channel logout path; "" when not served

	browserOpened  bool // a browser was opened at the start page (not --no-browser, no error)
	browserArrived bool
	signedIn       bool
	signOutStarted bool
	rawIDToken     string
	sid, loginHint string
	frontTimer     *time.Timer
	done           chan struct{}
	finished       bool
	// runCtx bounds the network calls handlers make (cancelled by Ctrl-C and the timeout).
	runCtx context.Context
}

// Run verifies a configured sample end to end: discovery, a real browser sign-in at the
// sample's redirect URI, code exchange, ID token checks, Graph /me, sign-out and front-channel
// logout. It always returns the report; the error is nil only when every step passed or was
// not applicable (it wraps ErrConfig, ErrFailed, ErrTimeout or ErrInterrupted).
func Run(ctx context.Context, cfg Config, opts Options) (Report, error) {
	opts = opts.withDefaults()
	j := &journey{cfg: cfg, opts: opts, attempts: map[string]*attempt{}, done: make(chan struct{})}
	j.report = Report{Authority: cfg.Authority, TenantID: cfg.TenantID, ClientID: cfg.ClientID, RedirectURI: cfg.RedirectURI,
		Credential: "secret", Started: opts.Now(), Outcome: "failed"}
	if cfg.ClientSecret == "" {
		j.report.Credential = "certificate"
	}
	for _, s := range Steps() {
		j.report.Steps = append(j.report.Steps, StepResult{Step: s, Title: s.Title(), Status: Pending})
	}
	if err := cfg.validate(); err != nil {
		return j.report, err
	}
	var err error
	if j.diag, err = LoadDiagnoses(); err != nil {
		return j.report, err
	}
	if j.pages, err = loadPages(); err != nil {
		return j.report, err
	}

	// 1. Discovery.
	j.mu.Lock()
	j.set(StepDiscovery, Running, "fetching "+cfg.discoveryURL(), nil)
	j.mu.Unlock()
	rp, detail, err := discover(ctx, cfg, opts.HTTPClient, opts.Now, opts.ClockSkew, opts.SignInHosts)
	j.mu.Lock()
	if err != nil {
		d := j.diag.Lookup("local:discovery")
		switch {
		case errors.Is(err, ErrUnsafeDestination):
			d = &Diagnosis{Code: "config:destination", Title: "Secret not sent: authority outside the cloud", Explanation: err.Error(),
				Fix: "Fix the authority in the sample's configuration (or run the wizard again), or choose the matching --cloud."}
		case errors.Is(err, ErrConfig):
			d = &Diagnosis{Code: "config", Title: "Certificate unusable", Explanation: err.Error(), Fix: "Give the sample's certificate and RSA key in PEM."}
		}
		d.Message = err.Error()
		j.set(StepDiscovery, Failed, err.Error(), d)
		j.finishLocked("failed")
		j.mu.Unlock()
		return j.result()
	}
	j.rp = rp
	j.report.Issuer = rp.issuer
	j.set(StepDiscovery, Passed, detail, nil)
	j.mu.Unlock()

	// 2. The server.
	srv, lns, err := j.listen(ctx)
	var tlsCfg *tls.Config
	if srv != nil {
		tlsCfg = srv.TLSConfig
	}
	if err != nil {
		j.mu.Lock()
		j.set(StepAuthorize, Failed, err.Error(), &Diagnosis{Code: "local:listen", Title: "Cannot serve the redirect URI",
			Explanation: err.Error(), Fix: "Stop the program using the port, or free a loopback port, and retry."})
		j.finishLocked("failed")
		j.mu.Unlock()
		return j.result()
	}
	for _, ln := range lns {
		// TLS is decided here, once: http.Server fills in TLSConfig itself when serving, so
		// testing it per listener would misfire.
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		go func() { _ = srv.Serve(ln) }()
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	// 3. Readiness, then the browser.
	if opts.WaitReady != nil {
		j.notice("Waiting until the new app registration and its credential work...", "")
		if err := opts.WaitReady(ctx); err != nil {
			j.mu.Lock()
			j.set(StepAuthorize, Failed, "the app registration did not become ready: "+err.Error(), j.diag.Lookup("AADSTS700016"))
			j.finishLocked(outcomeFor(ctx, "failed"))
			j.mu.Unlock()
			return j.result()
		}
	}
	start := j.startURL()
	tctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	j.mu.Lock()
	j.runCtx = tctx
	j.mu.Unlock()
	switch {
	case opts.AutoSignIn != nil:
		j.notice("Signing in automatically at "+start, start)
		// Nobody else will sign in: a driver that gave up ends the run now, not at the timeout.
		if err := opts.AutoSignIn(tctx, start); err != nil && tctx.Err() == nil {
			d := j.diag.Lookup("local:auto_sign_in")
			d.Message = err.Error()
			j.mu.Lock()
			j.abortLocked("failed", "the automatic browser (--auto-sign-in) failed: "+err.Error(), d)
			j.mu.Unlock()
		}
	case opts.NoBrowser:
		j.notice("Open this URL in your browser to sign in: "+start+j.signInAs(), start)
	default:
		j.notice("Opening your browser at "+start+j.signInAs(), start)
		if err := opts.OpenBrowser(tctx, start); err != nil {
			if opts.Unattended {
				// No browser, and nobody at a terminal to open the URL: nothing can sign in.
				d := j.diag.Lookup("local:no_browser_unattended").fill(map[string]string{"url": start, "why": firstLine(err.Error())})
				j.mu.Lock()
				j.abortLocked("failed", fmt.Sprintf("no browser could be opened here (%s) and no one is at a terminal to open %s", firstLine(err.Error()), start), d)
				j.mu.Unlock()
				break
			}
			j.notice(fmt.Sprintf("Could not open a browser (%v); open this URL yourself: %s", err, start)+j.signInAs(), start)
		} else {
			j.mu.Lock()
			j.browserOpened = true
			j.mu.Unlock()
		}
	}

	select {
	case <-j.done:
	case <-tctx.Done():
		j.mu.Lock()
		if ctx.Err() != nil {
			// The signal's own words (a SIGTERM is not a Ctrl-C), when the caller gave them.
			why := "interrupted (Ctrl-C)"
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				why = c.Error()
			}
			j.abortLocked("interrupted", why, nil)
		} else {
			j.timeoutLocked()
		}
		j.mu.Unlock()
	}
	return j.result()
}

func outcomeFor(ctx context.Context, otherwise string) string {
	if ctx.Err() != nil {
		return "interrupted"
	}
	return otherwise
}

func (j *journey) result() (Report, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.report
	r.Steps = append([]StepResult(nil), j.report.Steps...)
	return r, r.Err()
}

// listen binds the loopback port(s) and builds the http.Server.
func (j *journey) listen(ctx context.Context) (*http.Server, []net.Listener, error) {
	ru, _ := parseLoopbackURI(j.cfg.RedirectURI)
	j.scheme = ru.Scheme
	want := defaultPort(ru)
	lns, port, fellBack, err := listenLoopback(j.opts.ListenHost, want)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on the loopback port of %s: %w", j.cfg.RedirectURI, err)
	}
	j.port = port
	j.hosts = map[string]bool{}
	for _, h := range []string{"localhost", "127.0.0.1", "[::1]"} {
		j.hosts[h+":"+strconv.Itoa(port)] = true
		if (j.scheme == "http" && port == 80) || (j.scheme == "https" && port == 443) {
			j.hosts[h] = true
		}
	}
	served := *ru
	served.Host = withPort(ru.Hostname(), port)
	j.redirect = &served
	j.mu.Lock()
	j.report.ServedAt = served.String()
	j.mu.Unlock()
	if j.cfg.PostLogoutRedirectURI != "" {
		pu, _ := parseLoopbackURI(j.cfg.PostLogoutRedirectURI)
		sp := *pu
		sp.Host = withPort(pu.Hostname(), port)
		sp.Scheme = j.scheme
		if sp.Path == "" {
			sp.Path = "/"
		}
		j.postLogout = &sp
	}
	// Skipped is for a step this sample does not have; a front-channel URL this server cannot
	// be reached at is a step the sample has but this run cannot observe: not checked, not OK.
	var frontStatus Status
	var frontDetail string
	var frontDiag *Diagnosis
	switch {
	case j.cfg.FrontChannelLogoutURL == "":
		frontStatus, frontDetail = Skipped, "no front-channel logout URL is configured for this sample"
	case j.postLogout == nil:
		frontStatus, frontDetail = Skipped, "no post-logout redirect URI, so no sign-out to trigger it"
	default:
		// Entra loads the registered URL as it is: its scheme and port matter there.
		fu, _ := parseLoopbackURI(j.cfg.FrontChannelLogoutURL)
		fport := defaultPort(fu)
		switch {
		case fu.Scheme == j.scheme && fport == port:
			j.frontPath = fu.Path
		case fu.Scheme == j.scheme && fport == want && fellBack != nil:
			key, why := "local:front_channel_port_busy", whoListens(ctx, j.scheme, want)
			if errors.Is(fellBack, syscall.EACCES) {
				key, why = "local:front_channel_port_denied", fellBack.Error()
			}
			frontStatus = NotChecked
			frontDetail = fmt.Sprintf("port %d could not be taken, so Entra's call to %s cannot be observed", want, j.cfg.FrontChannelLogoutURL)
			frontDiag = j.diag.Lookup(key).fill(map[string]string{"port": strconv.Itoa(want), "why": why})
		default:
			frontStatus = NotChecked
			frontDetail = fmt.Sprintf("%s is not on the redirect URI's scheme and port (%s), the only ones this server serves, so Entra's call to it cannot be observed", j.cfg.FrontChannelLogoutURL, j.scheme+"://"+withPort("localhost", port))
			frontDiag = j.diag.Lookup("local:front_channel_elsewhere")
		}
	}
	if fellBack != nil {
		msg := fmt.Sprintf("Port %d is busy, so the sign-in server uses port %d with the same path (%s); Entra ignores the port of a localhost redirect URI.", want, port, served.String())
		if frontStatus == NotChecked {
			msg += fmt.Sprintf(" Front-channel logout cannot be checked on another port, so this check cannot pass: stop what holds port %d and run it again.", want)
		}
		j.notice(msg, "")
	}
	j.mu.Lock()
	if frontStatus != "" {
		j.set(StepFrontChannel, frontStatus, frontDetail, frontDiag)
	}
	if j.postLogout == nil {
		j.set(StepSignOut, Skipped, "no post-logout redirect URI is configured for this sample", nil)
	}
	if !j.cfg.CallsGraph {
		j.set(StepGraphMe, Skipped, "the sample does not call Microsoft Graph", nil)
	}
	j.mu.Unlock()

	srv := &http.Server{Handler: j, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	if j.scheme == "https" {
		cert, path, made, err := localhostCertificate(j.opts.CertDir, j.opts.Now())
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			return nil, nil, fmt.Errorf("make a localhost TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		what := "kept in"
		if made {
			what = "made and kept in"
		}
		if j.opts.AutoSignIn != nil {
			// No person's browser sees the certificate: the automatic one trusts it itself.
			return srv, lns, nil
		}
		j.notice(fmt.Sprintf("The redirect URI is https, so this server uses a self-signed certificate for localhost (%s %s). Your browser will warn that it is not trusted: choose Advanced, then continue to localhost. It is made on this machine and serves only this check.", what, path), "")
	}
	return srv, lns, nil
}

// defaultPort is a URL's port, or its scheme's when it names none.
func defaultPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

func withPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// signInAs is the notice's tail naming who to sign in as, when the caller knows.
func (j *journey) signInAs() string {
	if j.opts.SignInAs == "" {
		return ""
	}
	return " (sign in as " + j.opts.SignInAs + ")"
}

func (j *journey) startURL() string {
	return j.scheme + "://" + withPort("localhost", j.port) + StartPath
}

// ---- step bookkeeping (j.mu held) ----

func (j *journey) set(s Step, st Status, detail string, d *Diagnosis) {
	// Details quote what came from outside (Entra's words, request paths, Graph's answers):
	// escaped here, once, before any renderer sees them.
	detail = safetext.Line(detail)
	if d != nil {
		d.Message = safetext.Line(d.Message)
	}
	for i := range j.report.Steps {
		r := &j.report.Steps[i]
		if r.Step != s {
			continue
		}
		now := j.opts.Now()
		if st == Running && r.started.IsZero() {
			r.started = now
		}
		if st.Done() && !r.started.IsZero() {
			r.DurationMS = now.Sub(r.started).Milliseconds()
		}
		r.Status, r.Detail, r.Diagnosis = st, detail, d
		j.opts.Progress(Event{Kind: EventStep, Step: *r})
		return
	}
}

func (j *journey) status(s Step) Status {
	for _, r := range j.report.Steps {
		if r.Step == s {
			return r.Status
		}
	}
	return Pending
}

// notice tells the person something (without the lock held by the caller).
func (j *journey) notice(msg, u string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.noticeLocked(msg, u)
}

func (j *journey) noticeLocked(msg, u string) {
	msg = safetext.Line(msg)
	j.report.Notices = append(j.report.Notices, msg)
	j.opts.Progress(Event{Kind: EventNotice, Message: msg, URL: u})
}

func (j *journey) refuse(r *http.Request, reason string) {
	j.report.Refusals = append(j.report.Refusals, Refusal{Time: j.opts.Now(), Path: r.URL.Path, Reason: reason})
	j.noticeLocked("Refused a request to "+r.URL.Path+": "+reason, "")
}

// finishLocked ends the journey: steps never reached are marked skipped.
func (j *journey) finishLocked(outcome string) {
	if j.finished {
		return
	}
	j.finished = true
	if j.frontTimer != nil {
		j.frontTimer.Stop()
	}
	var failed string
	for _, r := range j.report.Steps {
		if r.Status == Failed && failed == "" {
			failed = r.Title
		}
	}
	for _, r := range j.report.Steps {
		if !r.Status.Done() {
			j.set(r.Step, Skipped, "not reached: "+strings.ToLower(failed)+" failed", nil)
		}
	}
	if outcome == "passed" && j.report.FirstFailure() != nil {
		outcome = "failed" // a step that applies but was not checked is no pass either
	}
	j.report.Outcome = outcome
	j.report.DurationMS = j.opts.Now().Sub(j.report.Started).Milliseconds()
	close(j.done)
}

// abortLocked fails the step in progress (or the first pending one) and finishes.
func (j *journey) abortLocked(outcome, detail string, d *Diagnosis) {
	if j.finished {
		return
	}
	for _, r := range j.report.Steps {
		if !r.Status.Done() {
			j.set(r.Step, Failed, detail, d)
			break
		}
	}
	j.finishLocked(outcome)
}

// timeoutLocked names the step that did not arrive and what that usually means.
func (j *journey) timeoutLocked() {
	if j.finished {
		return
	}
	t := j.opts.Timeout.Round(time.Second)
	switch {
	case !j.browserArrived && j.browserOpened:
		j.abortLocked("timeout", fmt.Sprintf("no browser opened %s within %s", j.startURL(), t), j.diag.Lookup("timeout:browser"))
	case !j.browserArrived:
		// No browser was opened for the person: advice about --no-browser would be wrong.
		j.abortLocked("timeout", fmt.Sprintf("nobody opened %s within %s", j.startURL(), t), j.diag.Lookup("timeout:no_browser"))
	case j.status(StepAuthorize) == Running:
		j.abortLocked("timeout", fmt.Sprintf("the browser went to Entra but never came back to %s within %s", j.redirect, t), j.diag.Lookup("timeout:authorize"))
	case j.signedIn && !j.signOutStarted && j.status(StepSignOut) == Pending:
		j.abortLocked("timeout", fmt.Sprintf("signed in, but sign-out was not started within %s", t), j.diag.Lookup("timeout:signed_in"))
	case j.status(StepSignOut) == Running:
		j.abortLocked("timeout", fmt.Sprintf("the browser went to Entra's sign-out but never came back to %s within %s", j.postLogout, t), j.diag.Lookup("timeout:sign_out"))
	case j.status(StepFrontChannel) == Running && j.status(StepSignOut) == Passed:
		j.frontChannelUnobservedLocked(j.opts.Timeout)
	case j.status(StepFrontChannel) == Running:
		j.abortLocked("timeout", fmt.Sprintf("Entra did not call %s?sid=... within %s", j.cfg.FrontChannelLogoutURL, t), j.diag.Lookup("warning:front_channel_not_observed"))
	default:
		j.abortLocked("timeout", fmt.Sprintf("did not finish within %s", t), nil)
	}
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---- HTTP ----

// ServeHTTP guards the Host header, then routes by path.
func (j *journey) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// DNS rebinding: a page on another site that resolves its name to 127.0.0.1 reaches this
	// port with its own Host; only the loopback names are served.
	if !j.hosts[strings.ToLower(r.Host)] {
		j.refuse(r, fmt.Sprintf("Host %q is not this server (localhost:%d)", r.Host, j.port))
		j.pages.render(w, http.StatusMisdirectedRequest, "error", pageData{Title: "Wrong host", Detail: "This server only answers at localhost:" + strconv.Itoa(j.port) + ".", Diagnosis: j.diag.Lookup("local:host")})
		return
	}
	p := r.URL.Path
	switch {
	case p == StartPath || p == strings.TrimSuffix(StartPath, "/"):
		j.serveStart(w, r)
	case p == signInPath:
		j.serveSignIn(w, r)
	case p == signOutPath:
		j.serveSignOut(w, r)
	case j.frontPath != "" && p == j.frontPath && r.URL.Query().Has("sid"):
		j.serveFrontChannel(w, r)
	case p == j.redirect.Path:
		j.serveCallback(w, r)
	case j.postLogout != nil && p == j.postLogout.Path:
		j.servePostLogout(w, r)
	case p == "/favicon.ico":
		w.WriteHeader(http.StatusNoContent)
	case p == "/":
		http.Redirect(w, r, StartPath, http.StatusFound)
	default:
		j.pages.render(w, http.StatusNotFound, "error", pageData{Title: "Not found", Detail: "Nothing is served at " + p + ".", StartURL: StartPath})
	}
}

func (j *journey) serveStart(w http.ResponseWriter, _ *http.Request) {
	j.browserArrived = true
	j.pages.render(w, http.StatusOK, "start", pageData{Title: "Check the sign-in", Authority: j.cfg.Authority, ClientID: j.cfg.ClientID,
		RedirectURI: j.cfg.RedirectURI, Credential: j.report.Credential, SignInURL: signInPath})
}

func (j *journey) serveSignIn(w http.ResponseWriter, r *http.Request) {
	j.browserArrived = true
	if j.finished || j.signedIn {
		j.pages.render(w, http.StatusConflict, "error", pageData{Title: "Check already done", Detail: "This check has already signed in; run the command again for a new one.", Steps: j.report.Steps})
		return
	}
	a := &attempt{state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier(), created: j.opts.Now()}
	j.attempts[a.state] = a
	u := j.rp.authURL(a, j.redirect.String())
	host := u
	if pu, err := url.Parse(u); err == nil {
		host = pu.Host
	}
	j.set(StepAuthorize, Running, "waiting for the sign-in at "+host, nil)
	http.Redirect(w, r, u, http.StatusFound)
}

// serveCallback is the redirect URI: check the state, then redeem the code, verify the ID
// token and call Graph, then show the result.
func (j *journey) serveCallback(w http.ResponseWriter, r *http.Request) {
	if j.finished {
		j.pages.render(w, http.StatusGone, "error", pageData{Title: "This check has ended", Detail: "The sign-in server is no longer waiting for this sign-in.", Steps: j.report.Steps})
		return
	}
	_ = r.ParseForm() // query, or a form_post body
	state := r.Form.Get("state")
	a := j.attempts[state]
	var key string
	switch {
	case a == nil:
		key = "local:state_unknown"
	case a.used:
		key = "local:state_reused"
	case j.opts.Now().Sub(a.created) > j.opts.AttemptTTL:
		key = "local:state_expired"
	}
	if key != "" {
		d := j.diag.Lookup(key)
		j.refuse(r, d.Title)
		j.pages.render(w, http.StatusBadRequest, "error", pageData{Title: d.Title, Diagnosis: d, StartURL: StartPath})
		return
	}
	a.used = true
	// One sign-in per run: every other outstanding attempt is void from now on.
	for s, o := range j.attempts {
		if o != a {
			delete(j.attempts, s)
		}
	}
	ctx := j.runCtx
	if ctx == nil {
		ctx = r.Context()
	}

	if e := r.Form.Get("error"); e != "" {
		d := j.diag.OAuth(e, r.Form.Get("error_description"), nil)
		j.set(StepAuthorize, Failed, "Entra answered "+e+": "+firstLine(r.Form.Get("error_description")), d)
		j.set(StepCallback, Passed, "the browser came back to "+j.redirect.String()+" with an error instead of a code", nil)
		j.failPage(w, StepAuthorize, d)
		return
	}
	code := r.Form.Get("code")
	if code == "" {
		d := j.diag.Lookup("local:no_code")
		j.set(StepAuthorize, Passed, "Entra sent the browser back", nil)
		j.set(StepCallback, Failed, "the redirect carried neither a code nor an error", d)
		j.failPage(w, StepCallback, d)
		return
	}
	j.set(StepAuthorize, Passed, "signed in at Entra; a code came back", nil)
	j.set(StepCallback, Passed, "state matched this attempt at "+j.redirect.String(), nil)

	j.set(StepCodeExchange, Running, "redeeming the code at "+j.rp.doc.TokenURL, nil)
	tok, err := j.rp.exchange(ctx, a, code, j.redirect.String())
	if err != nil {
		d := j.diag.Token(err)
		if d == nil {
			d = &Diagnosis{Code: "local:token_unreachable", Title: "Token endpoint not reachable", Explanation: err.Error(), Fix: "Check the network and retry."}
		}
		j.set(StepCodeExchange, Failed, firstLine(err.Error()), d)
		j.failPage(w, StepCodeExchange, d)
		return
	}
	how := "client secret"
	if j.rp.cred != nil {
		how = "certificate (client assertion " + string(j.rp.cred.alg) + ")"
	}
	j.set(StepCodeExchange, Passed, "tokens received with the "+how, nil)

	j.set(StepIDToken, Running, "checking signature, issuer, audience, expiry, nonce and tenant", nil)
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		d := &Diagnosis{Code: "local:no_id_token", Title: "No ID token", Explanation: "The token response had no id_token: the openid scope was not granted.", Fix: "Make sure the app may sign users in (openid scope) and retry."}
		j.set(StepIDToken, Failed, "no id_token in the token response", d)
		j.failPage(w, StepIDToken, d)
		return
	}
	idt, claims, err := j.rp.verifyIDToken(ctx, raw, a.nonce)
	if err != nil {
		var ie *idTokenError
		k := "local:signature"
		if errors.As(err, &ie) {
			k = ie.key
		}
		d := j.diag.Lookup(k)
		d.Message = err.Error()
		j.set(StepIDToken, Failed, err.Error(), d)
		j.failPage(w, StepIDToken, d)
		return
	}
	j.rawIDToken = raw
	j.sid, _ = claims["sid"].(string)
	j.loginHint, _ = claims["login_hint"].(string)
	j.report.Claims = claims
	u := User{}
	u.Name, _ = claims["name"].(string)
	u.Username, _ = claims["preferred_username"].(string)
	u.ObjectID, _ = claims["oid"].(string)
	u.TenantID, _ = claims["tid"].(string)
	j.report.User = &u
	j.signedIn = true
	j.set(StepIDToken, Passed, fmt.Sprintf("issued by %s for %s, signed with %s", idt.Issuer, j.cfg.ClientID, algOf(raw)), nil)

	if j.cfg.CallsGraph {
		j.set(StepGraphMe, Running, "GET "+j.cfg.graphBase()+"/v1.0/me", nil)
		me, gerr, err := j.rp.me(ctx, tok.AccessToken)
		switch {
		case err != nil:
			d := j.diag.Lookup("local:graph_unreachable")
			d.Message = err.Error()
			j.set(StepGraphMe, Failed, err.Error(), d)
			j.failPage(w, StepGraphMe, d)
			return
		case gerr != nil:
			d := j.diag.Lookup("graph:" + gerr.Code)
			if d == nil {
				d = &Diagnosis{Code: "graph:" + gerr.Code, Title: "Graph error " + gerr.Code, Explanation: gerr.Message, Fix: "Check the app's Graph permissions (User.Read) and retry."}
			}
			d.Message = gerr.Message
			j.set(StepGraphMe, Failed, fmt.Sprintf("Graph answered %d %s", gerr.Status, gerr.Code), d)
			j.failPage(w, StepGraphMe, d)
			return
		}
		j.report.Me = me
		who, _ := me["displayName"].(string)
		if upn, _ := me["userPrincipalName"].(string); upn != "" {
			who += " (" + upn + ")"
		}
		j.set(StepGraphMe, Passed, "Graph knows "+strings.TrimSpace(who), nil)
	}

	data := pageData{Title: "Signed in", User: u, Steps: j.report.Steps, Claims: sortedPairs(claims), Me: sortedPairs(j.report.Me)}
	if j.postLogout != nil {
		data.SignOutURL = signOutPath
		if j.opts.AutoSignOut > 0 {
			data.RefreshURL, data.RefreshSeconds = signOutPath, int(j.opts.AutoSignOut.Round(time.Second)/time.Second)
			if data.RefreshSeconds < 1 {
				data.RefreshSeconds = 1
			}
		}
		if j.opts.AutoSignIn == nil { // the automatic browser presses it itself
			j.noticeLocked("Signed in. Press Sign out in the browser to finish the check.", "")
		}
	} else {
		j.finishLocked("passed")
	}
	j.pages.render(w, http.StatusOK, "signedin", data)
}

func algOf(raw string) string {
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "?"
	}
	s := string(b)
	if i := strings.Index(s, `"alg":"`); i >= 0 {
		s = s[i+7:]
		if k := strings.IndexByte(s, '"'); k >= 0 {
			return s[:k]
		}
	}
	return "?"
}

func (j *journey) failPage(w http.ResponseWriter, s Step, d *Diagnosis) {
	j.finishLocked("failed")
	title := s.Title() + " failed"
	if d != nil && d.Title != "" {
		title = d.Title
	}
	j.pages.render(w, http.StatusOK, "error", pageData{Title: title, Detail: j.report.Step(s).Detail, Diagnosis: d, Steps: j.report.Steps})
}

func (j *journey) serveSignOut(w http.ResponseWriter, r *http.Request) {
	if !j.signedIn || j.postLogout == nil || j.finished {
		http.Redirect(w, r, StartPath, http.StatusFound)
		return
	}
	u := j.rp.endSessionURL(j.postLogout.String(), j.rawIDToken, j.loginHint, randomString())
	if u == "" {
		j.set(StepSignOut, Failed, "the discovery document has no end_session_endpoint", &Diagnosis{Code: "local:no_end_session", Title: "No sign-out endpoint", Explanation: "The authority does not advertise an end_session_endpoint.", Fix: "Check the authority in the sample's configuration."})
		j.failPage(w, StepSignOut, j.report.Step(StepSignOut).Diagnosis)
		return
	}
	j.signOutStarted = true
	j.set(StepSignOut, Running, "waiting for Entra to send the browser back to "+j.postLogout.String(), nil)
	if j.frontPath != "" && j.status(StepFrontChannel) == Pending {
		j.set(StepFrontChannel, Running, "waiting for Entra to call "+j.cfg.FrontChannelLogoutURL+"?sid=...", nil)
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func (j *journey) servePostLogout(w http.ResponseWriter, r *http.Request) {
	if !j.signOutStarted {
		// The post-logout URI is often the site's root: before sign-out it is just the start.
		http.Redirect(w, r, StartPath, http.StatusFound)
		return
	}
	if j.status(StepSignOut) == Running {
		j.set(StepSignOut, Passed, "Entra signed out and came back to "+j.postLogout.String(), nil)
	}
	j.maybeFinishSignOut()
	j.pages.render(w, http.StatusOK, "signedout", pageData{Title: "Signed out", Steps: j.report.Steps})
}

func (j *journey) serveFrontChannel(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("sid")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case j.status(StepFrontChannel).Done():
	case j.sid != "" && sid != j.sid:
		j.refuse(r, "front-channel logout for another session (sid does not match the ID token's)")
	case j.signedIn:
		detail := "Entra called " + j.cfg.FrontChannelLogoutURL + " with this session's sid"
		if j.sid == "" {
			detail = "Entra called " + j.cfg.FrontChannelLogoutURL + " (the ID token had no sid to compare)"
		}
		j.set(StepFrontChannel, Passed, detail, nil)
		j.maybeFinishSignOut()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!doctype html><title>signed out</title>"))
}

// maybeFinishSignOut ends the journey once sign-out came back and the front-channel call
// arrived (or the grace for it ran out).
func (j *journey) maybeFinishSignOut() {
	if j.status(StepSignOut) != Passed || j.finished {
		return
	}
	if j.status(StepFrontChannel) != Running {
		j.finishLocked("passed")
		return
	}
	if j.frontTimer == nil {
		j.frontTimer = time.AfterFunc(j.opts.FrontChannelGrace, func() {
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.status(StepFrontChannel) == Running {
				j.frontChannelUnobservedLocked(j.opts.FrontChannelGrace)
			}
		})
	}
}

// frontChannelUnobservedLocked ends a run whose sign-out came back but whose front-channel call
// never arrived: Entra makes that call from the browser, in an iframe of its signed-out page,
// and a browser may refuse it (a public https page framing http://localhost, Private Network
// Access, a certificate it does not trust), so that is a warning with its reason, not a failure.
func (j *journey) frontChannelUnobservedLocked(after time.Duration) {
	j.set(StepFrontChannel, Warning, fmt.Sprintf("the browser did not load %s?sid=... within %s of the sign-out", j.cfg.FrontChannelLogoutURL, after.Round(time.Second)),
		j.diag.Lookup("warning:front_channel_not_observed"))
	j.finishLocked("passed")
}
