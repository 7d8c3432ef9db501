// Package runner starts a configured sample with its own start command (npm start, flask --debug
// run, python manage.py runserver, dotnet run) and watches its sign-in. Against the emulator it
// gives the sample's runtime what it needs to reach the emulator under the real host names and to
// trust its CA, and to reach nothing else (Node: a preload through NODE_OPTIONS and
// NODE_EXTRA_CA_CERTS; Python: a sitecustomize on PYTHONPATH with REQUESTS_CA_BUNDLE and
// SSL_CERT_FILE; .NET: HTTPS_PROXY to a loopback proxy of this package and SSL_CERT_FILE).
// Against a real tenant it starts the sample as it is.
//
// How the sign-in is watched, and why this way: the callback arrives at the sample's own server,
// which no one else sees, so the hooks inside the sample's runtime (the Node preload, the Python
// sitecustomize) report what that server answered at the redirect URI's path: whether a code or
// an error came, the error's text, and the sample's own status (a 500 means the sample failed to
// redeem the code). They append JSON lines to a file this package reads. This works against a
// real tenant too and whatever the browser. Against the emulator, its request log (the admin
// endpoint /_emulator/requests) adds the steps the browser and the sample take there: the sign-in
// page, the code redemption, Graph /me and the sign-out. .NET samples have no hook: only the
// emulator's log is watched.
//
// Nothing here prints: steps go to a callback, the sample's own output to the writers given.
package runner

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
)

//go:embed hooks/entra-quickstart-run.js
var nodePreload []byte

// NodePreloadFile writes the Node preload into dir (mode 0600) and returns its path, for
// programs that start Node themselves against the emulator (the peer tests, the benchmark's
// m365 runs): ENTRA_QUICKSTART_EMULATOR_ADDR routes the emulated hosts, and with
// ENTRA_QUICKSTART_RUN_EVENTS each refused destination is a JSON line {"kind":"refused",...}.
func NodePreloadFile(dir string) (string, error) {
	p := filepath.Join(dir, "entra-quickstart-run.js")
	if err := os.WriteFile(p, nodePreload, 0o600); err != nil {
		return "", fmt.Errorf("writing the Node preload: %w", err)
	}
	return p, nil
}

//go:embed hooks/sitecustomize.py
var pythonSiteCustomize []byte

// Runtime is what a sample's start command runs on.
type Runtime string

const (
	Node    Runtime = "node"
	Python  Runtime = "python"
	DotNet  Runtime = "dotnet"
	Unknown Runtime = ""
)

// RuntimeOf is the runtime of a start command, from its program's name.
func RuntimeOf(command string) Runtime {
	f := strings.Fields(command)
	if len(f) == 0 {
		return Unknown
	}
	switch prog := strings.ToLower(filepath.Base(f[0])); {
	case prog == "npm" || prog == "node" || prog == "npx" || prog == "yarn" || prog == "pnpm":
		return Node
	case prog == "flask" || prog == "django-admin" || strings.HasPrefix(prog, "python"):
		return Python
	case prog == "dotnet":
		return DotNet
	}
	return Unknown
}

// Emulator is the running emulator a sample is pointed at.
type Emulator struct {
	URL    string // its local base, https://localhost:PORT
	Addr   string // the address it listens on, host:port
	CAFile string // its CA certificate (PEM)
	// AdminToken reads its request log; empty: the log is not watched.
	AdminToken string
}

// Options say what to run and where.
type Options struct {
	Dir     string // the sample's folder: the command runs there
	Command string // the sample's start command, split on spaces (no shell)
	// RedirectURI is the one the sample signs in with: its path is watched.
	RedirectURI string
	// Emulator is nil for a real tenant.
	Emulator *Emulator
	// Env is the environment the sample inherits (os.Environ()); the run adds to it.
	Env            []string
	Stdout, Stderr io.Writer
	// Report receives each step as it happens (from several goroutines, one at a time).
	Report func(Event)
	// Poll is how often the hooks' file and the emulator's log are read (default 250ms).
	Poll time.Duration
	// StopGrace is how long the sample has to stop after the interrupt (default 5s).
	StopGrace time.Duration
	// Started, if set, is called once the sample runs with a function that kills its whole
	// process group at once: for a caller that may have to end the process without waiting
	// (a second Ctrl-C), since the terminal's signals do not reach the sample's own group.
	Started func(kill func())
	// RedeemWait is how long after a callback with a code the emulator's log may go without a
	// token request before the code counts as never redeemed (default 10s). Libraries such as
	// identity catch the redemption's error and answer the callback with a redirect, so the
	// callback's own status cannot tell.
	RedeemWait time.Duration
}

// Kind is the step an event reports.
type Kind string

const (
	Started   Kind = "started"    // the sample's process started
	Listening Kind = "listening"  // its server answers at the redirect URI's host and port
	Authorize Kind = "authorize"  // the browser reached the sign-in page
	Callback  Kind = "callback"   // the browser came back to the redirect URI
	Redeemed  Kind = "redeem"     // the sample redeemed the code at the token endpoint
	GraphMe   Kind = "graph_me"   // the sample called Graph /me
	SignOut   Kind = "sign_out"   // the browser went to the end-session endpoint
	Refused   Kind = "refused"    // the sample tried to leave this machine
	Exited    Kind = "exited"     // the sample's process ended
	Unwatched Kind = "unwatched"  // a part of the sign-in this run cannot see
	Stopping  Kind = "stopping"   // the run is stopping the sample
	HookError Kind = "hook_error" // a line from the hooks could not be read
)

// Event is one step of the run.
type Event struct {
	Kind   Kind          `json:"kind"`
	Status verify.Status `json:"status"` // passed, failed, or running for what is under way
	Detail string        `json:"detail"`
	// Diagnosis explains a failure with the sign-in check's table, when there is one.
	Diagnosis *verify.Diagnosis `json:"diagnosis,omitempty"`
}

// Result is how the run ended.
type Result struct {
	// ExitCode is the sample's, -1 when it was stopped by a signal.
	ExitCode int `json:"sample_exit_code"`
	// Events are every step reported, in order.
	Events []Event `json:"events"`
	// Refused are the addresses the sample tried to reach and was refused.
	Refused []string `json:"refused,omitempty"`
}

// SignedIn reports whether a callback with a code was answered by the sample without an error.
func (r Result) SignedIn() bool {
	for _, e := range r.Events {
		if e.Kind == Callback && e.Status == verify.Passed {
			return true
		}
	}
	return false
}

// ErrStopped is returned when the context ended the run (Ctrl-C): the sample was stopped.
var ErrStopped = errors.New("the sample was stopped")

// run is one running sample: its events, guarded by mu.
type run struct {
	o     Options
	diag  verify.Diagnoses
	mu    sync.Mutex
	res   Result
	start time.Time
	// hookOffset is how far the hooks' file has been read.
	hookOffset int64
	// codes counts the callbacks that brought a code, tokens the token requests the emulator
	// logged; waiting is since when codes outnumber tokens, reported the codes count last
	// reported as never redeemed.
	codes, tokens, reported int
	waiting                 time.Time
}

func (r *run) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Events = append(r.res.Events, e)
	if e.Kind == Refused {
		r.res.Refused = append(r.res.Refused, strings.TrimPrefix(e.Detail, "refused "))
	}
	if r.o.Report != nil {
		r.o.Report(e)
	}
}

// Run starts the sample and watches it until it exits or ctx ends; then it stops the sample
// (an interrupt to its process group, then a kill after StopGrace) and returns ErrStopped.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 5 * time.Second
	}
	if o.RedeemWait <= 0 {
		o.RedeemWait = 10 * time.Second
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	argv := strings.Fields(o.Command)
	if len(argv) == 0 {
		return Result{}, errors.New("no start command: the sample's manifest names none")
	}
	diag, err := verify.LoadDiagnoses()
	if err != nil {
		return Result{}, err
	}
	r := &run{o: o, diag: diag, start: time.Now()}
	rt := RuntimeOf(o.Command)

	work, err := os.MkdirTemp("", "entra-quickstart-run-")
	if err != nil {
		return Result{}, fmt.Errorf("run: a folder for the hooks: %w", err)
	}
	defer os.RemoveAll(work)
	events := filepath.Join(work, "events.jsonl")
	if err := os.WriteFile(events, nil, 0o600); err != nil {
		return Result{}, fmt.Errorf("run: %w", err)
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	env, err := r.environment(watchCtx, rt, work, events)
	if err != nil {
		return Result{}, err
	}

	path, err := lookPath(argv[0], env)
	if err != nil {
		next := "install it, or run the sample's install steps first"
		switch rt {
		case Python:
			// flask and python come from the sample's virtual environment, made by its install steps.
			next = "activate the sample's virtual environment in this shell (source .venv/bin/activate; on Windows .venv\\Scripts\\activate) after its install steps (python -m venv .venv, pip install -r requirements.txt)"
		case Node:
			next = "install Node.js (which brings npm), then run npm install in the sample's folder"
		case DotNet:
			next = "install the .NET SDK the sample's project names"
		}
		return Result{}, fmt.Errorf("run: %s is not installed or not on PATH (%w): %s", argv[0], err, next)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = o.Dir, env, o.Stdout, o.Stderr
	cmd.Stdin = nil
	// A process the sample left behind may hold its output open after it exits: stop waiting.
	cmd.WaitDelay = o.StopGrace
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("run: starting %q in %s: %w", o.Command, o.Dir, err)
	}
	if o.Started != nil {
		o.Started(func() { killGroup(cmd) })
	}
	r.emit(Event{Kind: Started, Status: verify.Passed, Detail: fmt.Sprintf("started %q in %s (process %d)", o.Command, o.Dir, cmd.Process.Pid)})
	if rt == DotNet || rt == Unknown {
		r.emit(Event{Kind: Unwatched, Status: verify.NotChecked, Detail: "the callback at the redirect URI is not watched for this runtime" +
			map[bool]string{true: "; the emulator's request log shows the rest", false: ""}[o.Emulator != nil]})
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.tailHooks(watchCtx, events) }()
	go func() { defer wg.Done(); r.waitListening(watchCtx) }()
	if o.Emulator != nil && o.Emulator.AdminToken != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			r.watchEmulator(watchCtx, final)
		}()
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	stopped := false
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		stopped = true
		r.emit(Event{Kind: Stopping, Status: verify.Running, Detail: "stopping the sample"})
		interruptGroup(cmd)
		select {
		case waitErr = <-exited:
		case <-time.After(o.StopGrace):
			killGroup(cmd)
			waitErr = <-exited
		}
		// What ignored the interrupt and outlived the sample's first process (a shell's
		// background job, a reloader's child) still holds the group, and perhaps the port:
		// stopping means all of it. Wait can return before the grace ends (the first process
		// exited), so this is not left to the kill above.
		killGroup(cmd)
	}
	// The last lines the hooks wrote, then stop watching.
	time.Sleep(o.Poll)
	stopWatch()
	wg.Wait()
	r.readHooks(events)

	code := cmd.ProcessState.ExitCode()
	r.mu.Lock()
	r.res.ExitCode = code
	r.mu.Unlock()
	detail := fmt.Sprintf("the sample exited with code %d", code)
	if code < 0 {
		detail = "the sample stopped"
	}
	st := verify.Passed
	if !stopped && code != 0 {
		st = verify.Failed
	}
	r.emit(Event{Kind: Exited, Status: st, Detail: detail})
	r.mu.Lock()
	res := r.res
	r.mu.Unlock()
	if stopped {
		return res, fmt.Errorf("%w (%w)", ErrStopped, context.Cause(ctx))
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		return res, fmt.Errorf("run: %w", waitErr)
	}
	if code != 0 {
		return res, fmt.Errorf("the sample exited with code %d: its output above says why", code)
	}
	return res, nil
}

// lookPath finds a program on the PATH of the sample's environment (the venv's bin first, when
// the person activated one).
func lookPath(prog string, env []string) (string, error) {
	if strings.ContainsRune(prog, filepath.Separator) {
		return prog, nil
	}
	for i := len(env) - 1; i >= 0; i-- {
		if p, ok := strings.CutPrefix(env[i], "PATH="); ok {
			for _, d := range filepath.SplitList(p) {
				if d == "" {
					continue
				}
				c := filepath.Join(d, prog)
				if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return c, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	return exec.LookPath(prog)
}

// environment is the sample's environment: the inherited one, the hooks, and for the emulator
// what routes its hosts there and trusts its CA.
func (r *run) environment(ctx context.Context, rt Runtime, work, events string) ([]string, error) {
	env := append([]string(nil), r.o.Env...)
	get := func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
	set := func(k, v string) { env = append(env, k+"="+v) }
	watch := ""
	if u, err := url.Parse(r.o.RedirectURI); err == nil {
		watch = u.Path
		if watch == "" {
			watch = "/"
		}
	}
	set("ENTRA_QUICKSTART_RUN_EVENTS", events)
	set("ENTRA_QUICKSTART_WATCH_PATH", watch)
	emu := r.o.Emulator
	if emu != nil {
		set("ENTRA_QUICKSTART_EMULATOR_ADDR", emu.Addr)
		// No region discovery (IMDS: MSAL Python reads these; set even empty, MSAL refuses
		// the value) and no proxy for the emulator's traffic.
		env = slices.DeleteFunc(env, func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			return k == "MSAL_FORCE_REGION" || k == "REGION_NAME" || k == "AZURE_REGIONAL_AUTHORITY_NAME"
		})
		// A proxy of the person's (a corporate one) would take the emulated hosts' connections
		// away from the emulator and, for the rest, out of this machine: none during a rehearsal.
		// (.NET gets this package's own loopback proxy below.)
		env = slices.DeleteFunc(env, func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			switch strings.ToUpper(k) {
			case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY":
				return true
			}
			return false
		})
		const noProxy = "localhost,127.0.0.1,::1,login.microsoftonline.com,graph.microsoft.com,.ciamlogin.com"
		set("NO_PROXY", noProxy)
		set("no_proxy", noProxy)
	}
	switch rt {
	case Node:
		p := filepath.Join(work, "entra-quickstart-run.js")
		if err := os.WriteFile(p, nodePreload, 0o600); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
		opts := strings.TrimSpace(get("NODE_OPTIONS") + " --require " + nodeQuote(p))
		set("NODE_OPTIONS", opts)
		if emu != nil {
			set("NODE_EXTRA_CA_CERTS", emu.CAFile)
		}
	case Python:
		p := filepath.Join(work, "sitecustomize.py")
		if err := os.WriteFile(p, pythonSiteCustomize, 0o600); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
		pp := work
		if old := get("PYTHONPATH"); old != "" {
			pp += string(os.PathListSeparator) + old
		}
		set("PYTHONPATH", pp)
		set("PYTHONUNBUFFERED", "1")
		if emu != nil {
			set("REQUESTS_CA_BUNDLE", emu.CAFile)
			set("SSL_CERT_FILE", emu.CAFile)
		}
	case DotNet:
		if emu != nil {
			// .NET has no preload: its HttpClient sends https requests through HTTPS_PROXY
			// (a CONNECT tunnel), and this package's loopback proxy sends the emulated hosts to
			// the emulator and refuses the others. On Linux, .NET reads SSL_CERT_FILE for the
			// trusted roots (OpenSSL). [Untested here: no .NET on the project's machines.]
			proxy, err := startProxy(ctx, emu.Addr, func(host string) {
				r.emit(Event{Kind: Refused, Status: verify.Failed, Detail: "refused " + host})
			})
			if err != nil {
				return nil, err
			}
			set("HTTPS_PROXY", proxy)
			set("https_proxy", proxy)
			set("HTTP_PROXY", proxy) // plain http too, so that it is refused, not sent direct
			set("http_proxy", proxy)
			// The emulated hosts must go through the proxy here (exec keeps the last value).
			set("NO_PROXY", "localhost,127.0.0.1,::1")
			set("no_proxy", "localhost,127.0.0.1,::1")
			set("SSL_CERT_FILE", emu.CAFile)
		}
	}
	return env, nil
}

// nodeQuote quotes a path for NODE_OPTIONS, which splits on spaces and honours double quotes.
func nodeQuote(p string) string {
	if !strings.ContainsAny(p, " \t\"\\") {
		return p
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
}

// hookEvent is one line the Node preload or the Python sitecustomize writes.
type hookEvent struct {
	Kind             string `json:"kind"`
	Method           string `json:"method"`
	Path             string `json:"path"`
	Status           int    `json:"status"`
	Code             bool   `json:"code"`
	IDToken          bool   `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Host             string `json:"host"`
	Port             int    `json:"port"`
}

// tailHooks reads the hooks' file until ctx ends.
func (r *run) tailHooks(ctx context.Context, path string) {
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.readHooks(path)
		}
	}
}

// readHooks handles the lines added to the hooks' file since the last read.
func (r *run) readHooks(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	r.mu.Lock()
	off := r.hookOffset
	r.mu.Unlock()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return
	}
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return // a partial line waits for the next read
		}
		r.mu.Lock()
		r.hookOffset += int64(len(line))
		r.mu.Unlock()
		var ev hookEvent
		if json.Unmarshal([]byte(line), &ev) != nil {
			r.emit(Event{Kind: HookError, Status: verify.NotChecked, Detail: "a line from the sample's hooks could not be read"})
			continue
		}
		r.hook(ev)
	}
}

// hook turns one hook line into a step.
func (r *run) hook(ev hookEvent) {
	switch ev.Kind {
	case "refused":
		r.emit(Event{Kind: Refused, Status: verify.Failed, Detail: fmt.Sprintf("refused %s", net.JoinHostPort(ev.Host, fmt.Sprint(ev.Port))),
			Diagnosis: &verify.Diagnosis{Code: "local:left_loopback", Title: "The sample tried to reach another machine",
				Explanation: fmt.Sprintf("During a rehearsal against the emulator, the sample tried to connect to %s, which is neither this machine nor a host the emulator stands in for; the connection was refused.", net.JoinHostPort(ev.Host, fmt.Sprint(ev.Port))),
				Fix:         "Look at the sample's output above for what it was calling; a sample that needs another service cannot run offline against the emulator."}})
	case "callback":
		switch {
		case ev.Error != "":
			d := r.diag.OAuth(ev.Error, ev.ErrorDescription, nil)
			r.emit(Event{Kind: Callback, Status: verify.Failed, Detail: fmt.Sprintf("the browser came back to %s with error %s: %s", ev.Path, ev.Error, firstLine(ev.ErrorDescription)), Diagnosis: d})
		case !ev.Code && !ev.IDToken:
			r.emit(Event{Kind: Callback, Status: verify.Failed, Detail: fmt.Sprintf("%s %s arrived with neither a code nor an error (the sample answered %d)", ev.Method, ev.Path, ev.Status),
				Diagnosis: r.diag.Lookup("local:no_code")})
		case ev.Status >= 400:
			r.emit(Event{Kind: Callback, Status: verify.Failed, Detail: fmt.Sprintf("the browser brought an authorization code to %s, but the sample answered %d: its output above says why (often the code redemption: the client secret, or the token endpoint it calls)", ev.Path, ev.Status)})
		default:
			what := "an authorization code"
			if !ev.Code {
				what = "an ID token"
			} else {
				r.mu.Lock()
				r.codes++
				r.mu.Unlock()
			}
			r.emit(Event{Kind: Callback, Status: verify.Passed, Detail: fmt.Sprintf("the browser brought %s to %s (%s); the sample answered %d", what, ev.Path, ev.Method, ev.Status)})
		}
	}
}

// firstLine is the AADSTS sentence without Entra's trace lines.
func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	return strings.TrimSpace(l)
}

// waitListening reports when the sample's server answers at the redirect URI's host and port.
func (r *run) waitListening(ctx context.Context) {
	u, err := url.Parse(r.o.RedirectURI)
	if err != nil || u.Host == "" {
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	app := u.Scheme + "://" + u.Host + "/"
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	var d net.Dialer
	for {
		for _, h := range []string{u.Hostname(), "127.0.0.1", "::1"} {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			c, err := d.DialContext(dctx, "tcp", net.JoinHostPort(h, port))
			cancel()
			if err == nil {
				c.Close()
				r.emit(Event{Kind: Listening, Status: verify.Passed, Detail: "the sample answers at " + app + ": open it in a browser and sign in"})
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logWatch reads the emulator's request log.
type logWatch struct {
	client *http.Client
	seen   int
	warned bool
}

func (r *run) newLogWatch() (*logWatch, error) {
	pem, err := os.ReadFile(r.o.Emulator.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &logWatch{client: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}, nil
}

// poll reports the requests logged since the last poll (from the start of this run).
func (r *run) poll(ctx context.Context, w *logWatch) {
	emu := r.o.Emulator
	recs, err := fetchRequests(ctx, w.client, emu.URL, emu.AdminToken)
	if err != nil {
		if !w.warned && ctx.Err() == nil {
			w.warned = true
			r.emit(Event{Kind: Unwatched, Status: verify.NotChecked, Detail: "the emulator's request log could not be read (" + err.Error() + "); is the emulator still running?"})
		}
		return
	}
	if len(recs) < w.seen {
		w.seen = 0 // the log was emptied
	}
	for _, rec := range recs[w.seen:] {
		if !rec.Time.Before(r.start) {
			r.logged(rec)
		}
	}
	w.seen = len(recs)
	r.checkRedeemed(time.Now())
}

// checkRedeemed reports a code the sample was given but never redeemed at the token endpoint.
func (r *run) checkRedeemed(now time.Time) {
	r.mu.Lock()
	switch {
	case r.codes <= r.tokens:
		r.waiting = time.Time{}
	case r.waiting.IsZero():
		r.waiting = now
	}
	late := !r.waiting.IsZero() && now.Sub(r.waiting) >= r.o.RedeemWait && r.reported < r.codes
	if late {
		r.reported = r.codes
	}
	r.mu.Unlock()
	if late {
		r.emit(Event{Kind: Redeemed, Status: verify.Failed, Detail: fmt.Sprintf("the sample got an authorization code but did not redeem it at the emulator's token endpoint within %s: its output above says why (a library error it caught, or a token endpoint it could not reach or trust)", r.o.RedeemWait)})
	}
}

// watchEmulator follows the emulator's request log until ctx ends, then reads it once more
// (within final's time) for the steps of the last moments.
func (r *run) watchEmulator(ctx, final context.Context) {
	w, err := r.newLogWatch()
	if err != nil {
		r.emit(Event{Kind: Unwatched, Status: verify.NotChecked, Detail: "the emulator's request log is not watched: " + err.Error()})
		return
	}
	defer w.client.CloseIdleConnections()
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.poll(final, w)
			return
		case <-t.C:
			r.poll(ctx, w)
		}
	}
}

// requestRecord is one line of the emulator's request log.
type requestRecord struct {
	Time   time.Time `json:"time"`
	Route  string    `json:"route"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Host   string    `json:"host"`
	Status int       `json:"status"`
}

func fetchRequests(ctx context.Context, c *http.Client, base, token string) ([]requestRecord, error) {
	req, err := emuclient.NewAdminRequest(ctx, http.MethodGet, base, "/requests", token, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the emulator answered %s", resp.Status)
	}
	var recs []requestRecord
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// logged turns one emulator request into a step (routes the sign-in does not use are skipped).
func (r *run) logged(rec requestRecord) {
	ok := rec.Status > 0 && rec.Status < 400
	st := verify.Passed
	if !ok {
		st = verify.Failed
	}
	switch {
	case rec.Route == "login.authorize" && rec.Method == http.MethodGet:
		detail := fmt.Sprintf("the browser reached the emulator's sign-in page (%d)", rec.Status)
		if !ok {
			detail = fmt.Sprintf("the emulator answered the sign-in request with %d: its page in the browser names the AADSTS error", rec.Status)
		}
		r.emit(Event{Kind: Authorize, Status: st, Detail: detail})
	case rec.Route == "login.token" && rec.Method == http.MethodPost:
		r.mu.Lock()
		r.tokens++
		r.mu.Unlock()
		var d *verify.Diagnosis
		switch rec.Status {
		case http.StatusUnauthorized:
			d = r.diag.OAuth("invalid_client", "", nil)
		case http.StatusBadRequest:
			d = r.diag.OAuth("invalid_grant", "", nil)
		}
		r.emit(Event{Kind: Redeemed, Status: st, Detail: fmt.Sprintf("the sample called the token endpoint: %d", rec.Status), Diagnosis: d})
	case strings.HasPrefix(rec.Route, "graph.me"):
		var d *verify.Diagnosis
		switch rec.Status {
		case http.StatusUnauthorized:
			d = r.diag.Lookup("graph:InvalidAuthenticationToken")
		case http.StatusForbidden:
			d = r.diag.Lookup("graph:Forbidden")
		}
		r.emit(Event{Kind: GraphMe, Status: st, Detail: fmt.Sprintf("the sample called Graph %s %s: %d", rec.Method, pathOnly(rec.Path), rec.Status), Diagnosis: d})
	case strings.HasPrefix(rec.Route, "login.logout"):
		r.emit(Event{Kind: SignOut, Status: st, Detail: fmt.Sprintf("the browser went to the end-session endpoint %s: %d", pathOnly(rec.Path), rec.Status)})
	}
}

func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}
