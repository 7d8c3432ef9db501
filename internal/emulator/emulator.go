// Package emulator is a local stand-in for Microsoft Entra ID (workforce and External ID) and the
// part of Microsoft Graph v1.0 that app registration uses. One HTTPS server plays every host:
// reached at its local base (https://localhost:PORT) every URL it returns is under that base;
// reached under a real host name (login.microsoftonline.com, graph.microsoft.com,
// <name>.ciamlogin.com) through a dialer override, Chromium's --host-resolver-rules or a hosts
// file, every URL it returns is the real one. It follows the services' documented behaviour
// (shared/facts/graph.md §12, identity.md §0) so that independent clients work against it, and it
// injects faults on demand. The rest of the product reaches it only over HTTP.
package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// Options configure an emulator.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// DataFile, when set, keeps the directory, the CA and the signing keys across restarts.
	DataFile string
	// Dir is where the CA certificate (ca.pem) is written; default: beside DataFile, else a new
	// temporary folder removed by Close.
	Dir string
	// Now is the clock (tests move it to expire tokens); default time.Now.
	Now func() time.Time
	// Faults is the initial fault configuration.
	Faults FaultConfig
	// Settings, when set, are applied to every tenant at start (over those of a data file).
	Settings *Settings
	// B2CTenant adds an Azure AD B2C tenant (tenantType "AAD B2C") to the seeded ones.
	B2CTenant bool
	// AllowRemoteListen lets Addr be other than a loopback address. The emulator serves users'
	// passwords and client secrets to whoever reaches it, so it is off unless a person asks.
	AllowRemoteListen bool
}

// Emulator is a running emulator.
type Emulator struct {
	opts     Options
	pki      *pki
	keys     *keyRing
	store    *Store
	faults   *faults
	ln       net.Listener
	srv      *http.Server
	caFile   string
	tempDir  string
	base     string // https://localhost:PORT
	now      func() time.Time
	log      requestLog
	identity *identityState
	// adminToken is the bearer token the admin endpoints (/_emulator/...) require; made at
	// start, given in Info and in the admin-token file beside ca.pem.
	adminToken string
	// caRenewed says why a persisted CA was replaced at start ("" when it was kept).
	caRenewed string

	loginRoutes []route
	graphRoutes []route
	// unknownGraph and unknownLogin serve requests no route matches (logged, faults apply).
	unknownGraph, unknownLogin route
}

// Start makes and starts an emulator. Close stops it.
func Start(opts Options) (*Emulator, error) {
	e := &Emulator{opts: opts, now: opts.Now, faults: &faults{}, keys: &keyRing{}}
	if e.now == nil {
		e.now = time.Now
	}
	e.faults.set(opts.Faults)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !opts.AllowRemoteListen && !loopbackHost(addr) {
		return nil, fmt.Errorf("emulator: %w", ErrRemoteListen)
	}
	tok, err := newAdminToken()
	if err != nil {
		return nil, err
	}
	e.adminToken = tok
	if err := e.loadOrSeed(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.removeTemp()
		return nil, fmt.Errorf("emulator: listen on %s: %w (pick another address with --listen, e.g. 127.0.0.1:0)", addr, err)
	}
	// A host name may resolve to anything: check the address actually bound too.
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !opts.AllowRemoteListen && !ta.IP.IsLoopback() {
		ln.Close()
		e.removeTemp()
		return nil, fmt.Errorf("emulator: %s is bound to %s: %w", addr, ta.IP, ErrRemoteListen)
	}
	e.ln = ln
	e.base = "https://localhost:" + portOf(ln.Addr())
	e.identity = newIdentityState()
	e.loginRoutes = e.identityRoutes()
	e.graphRoutes = e.graphAPIRoutes()
	e.unknownGraph, e.unknownLogin = e.unrecognisedRoutes()
	e.srv = &http.Server{
		Handler:           e,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{e.pki.leaf}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          discardLogger(),
	}
	go func() { _ = e.srv.ServeTLS(ln, "", "") }()
	return e, nil
}

// ErrRemoteListen refuses a listen address other than loopback without AllowRemoteListen.
var ErrRemoteListen = errors.New("the listen address is not a loopback address, and the emulator serves users' passwords and client secrets to whoever reaches it; listen on 127.0.0.1 (e.g. --listen 127.0.0.1:8443), or pass --allow-remote-listen if every machine that can reach this address may see them")

// loopbackHost reports whether a listen address names only this machine: a loopback IP or
// localhost. An empty host (":8443") means every interface.
func loopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (e *Emulator) removeTemp() {
	if e.tempDir != "" {
		os.RemoveAll(e.tempDir)
	}
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// loadOrSeed restores the state from DataFile, or seeds a new directory, CA and keys.
func (e *Emulator) loadOrSeed() error {
	now := e.now()
	var st persisted
	if e.opts.DataFile != "" {
		b, err := os.ReadFile(e.opts.DataFile)
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &st); err != nil {
				return fmt.Errorf("emulator: data file %s is not readable (%w); move it away to start fresh", e.opts.DataFile, err)
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return fmt.Errorf("emulator: read data file: %w", err)
		}
	}
	var err error
	if st.CACert != "" {
		e.pki, err = loadPKI([]byte(st.CACert), []byte(st.CAKey), now)
		if err == nil {
			if why := caStale(e.pki.caCert, now); why != "" {
				e.caRenewed = why
				e.pki, err = newPKI(now)
			}
		}
	} else {
		e.pki, err = newPKI(now)
	}
	if err != nil {
		return fmt.Errorf("emulator: certificate authority: %w", err)
	}
	for _, k := range st.Keys {
		sk, err := keyFromDER(k.DER, k.PKCS8)
		if err != nil {
			return fmt.Errorf("emulator: signing key in data file: %w", err)
		}
		e.keys.keys = append(e.keys.keys, sk)
	}
	if len(e.keys.keys) == 0 {
		if _, err := e.keys.rotate(now); err != nil {
			return err
		}
	}
	dir := st.Directory
	if dir == nil {
		dir = seedDirectory(now, e.opts.B2CTenant)
	}
	upgradeDirectory(dir, now, e.opts.B2CTenant)
	e.store = &Store{dir: dir}
	if e.opts.Settings != nil {
		s := *e.opts.Settings
		for _, t := range dir.Tenants {
			cp := s
			t.Settings = &cp
			e.applyToolConsent(t, s.ToolConsentGranted)
		}
	}
	// Write the CA file where the user can find it.
	caDir := e.opts.Dir
	if caDir == "" && e.opts.DataFile != "" {
		caDir = filepath.Dir(e.opts.DataFile)
	}
	if caDir == "" {
		if caDir, err = os.MkdirTemp("", "entra-quickstart-emulator-"); err != nil {
			return err
		}
		e.tempDir = caDir
	}
	if err := os.MkdirAll(caDir, 0o700); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	e.caFile = filepath.Join(caDir, "ca.pem")
	if err := atomicfile.Write(e.caFile, e.pki.caPEM, 0o644); err != nil {
		return fmt.Errorf("emulator: write CA file: %w", err)
	}
	// The admin token beside the CA, readable only by this user: a client given --ca-file
	// finds it there, so a rehearsal needs no more typing than before.
	if err := atomicfile.Write(filepath.Join(caDir, emuclient.AdminTokenFile), []byte(e.adminToken+"\n"), 0o600); err != nil {
		return fmt.Errorf("emulator: write admin token file: %w", err)
	}
	if e.opts.DataFile != "" {
		e.store.path = e.opts.DataFile
		e.store.extra = e.persistExtra
		return e.store.Do(func(*Directory) error { return nil })
	}
	return nil
}

// persisted is the --data file: the directory plus what must survive a restart for clients to
// keep working (the CA they trust, the keys that signed their tokens).
type persisted struct {
	Directory *Directory   `json:"directory"`
	CACert    string       `json:"caCert"`
	CAKey     string       `json:"caKey"`
	Keys      []signingKey `json:"keys"`
}

func (e *Emulator) persistExtra(d *Directory) any {
	st := persisted{Directory: d, CACert: string(e.pki.caPEM), CAKey: string(e.pki.caKeyPE)}
	for _, k := range e.keys.published() {
		st.Keys = append(st.Keys, *k)
	}
	return st
}

// Close stops the server and removes a temporary CA folder.
func (e *Emulator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = e.srv.Close()
	}
	e.removeTemp()
	return err
}

// AdminToken is the bearer token the admin endpoints (/_emulator/...) require.
func (e *Emulator) AdminToken() string { return e.adminToken }

// CARenewed says why a CA kept in the data file was replaced at start ("" when it was kept):
// people who trusted the old one must trust the new ca.pem.
func (e *Emulator) CARenewed() string { return e.caRenewed }

// URL is the local base, https://localhost:PORT.
func (e *Emulator) URL() string { return e.base }

// Addr is the listener's address, 127.0.0.1:PORT.
func (e *Emulator) Addr() string { return e.ln.Addr().String() }

// CAFile is the path of the PEM file of the emulator's CA.
func (e *Emulator) CAFile() string { return e.caFile }

// CAPool is a pool holding only the emulator's CA.
func (e *Emulator) CAPool() *x509.CertPool { return e.pki.pool() }

// CAPEM is the emulator's CA certificate as PEM.
func (e *Emulator) CAPEM() []byte { return append([]byte(nil), e.pki.caPEM...) }

// Store gives tests and the standalone command direct access to the directory.
func (e *Emulator) Store() *Store { return e.store }

// SetFaults replaces the whole fault configuration.
func (e *Emulator) SetFaults(cfg FaultConfig) { e.faults.set(cfg) }

// Faults returns the current fault configuration.
func (e *Emulator) Faults() FaultConfig { return e.faults.config() }

// AddFault adds one fault to the current configuration.
func (e *Emulator) AddFault(f Fault) {
	c := e.faults.config()
	c.Faults = append(c.Faults, f)
	e.faults.set(c)
}

// SetReplicationLag sets the replication lag, keeping the other faults.
func (e *Emulator) SetReplicationLag(d time.Duration) {
	c := e.faults.config()
	c.ReplicationLag = Duration(d)
	e.faults.set(c)
}

// SetThrottle sets (nil: removes) the Graph throttling budget, keeping the other faults.
func (e *Emulator) SetThrottle(t *Throttle) {
	c := e.faults.config()
	c.Throttle = t
	e.faults.set(c)
}

// FaultEvents lists the faults that have hit requests.
func (e *Emulator) FaultEvents() []FaultEvent { return e.faults.Events() }

// RotateKeys publishes a new token-signing key and signs with it from now on.
func (e *Emulator) RotateKeys() error {
	_, err := e.keys.rotate(e.now())
	if err != nil {
		return err
	}
	return e.store.Do(func(*Directory) error { return nil }) // persist the new key
}

// Requests is the log of every request served, oldest first.
func (e *Emulator) Requests() []RequestRecord { return e.log.all() }

// ResetRequests empties the request log.
func (e *Emulator) ResetRequests() { e.log.reset() }

// visibleAt is when an object made now becomes visible to other calls.
func (e *Emulator) visibleAt() time.Time {
	lag := time.Duration(e.faults.config().ReplicationLag)
	if lag <= 0 {
		return time.Time{}
	}
	return e.now().Add(lag)
}

// visible reports whether an object with this VisibleAt has replicated.
func (e *Emulator) visible(at time.Time) bool { return at.IsZero() || !e.now().Before(at) }

// ---- sites: which host a request is for, and the base of the URLs it answers with ----

type siteKind int

const (
	siteLogin siteKind = iota // login.microsoftonline.com (workforce identity)
	siteCIAM                  // <label>.ciamlogin.com (External ID identity)
	siteGraph                 // graph.microsoft.com
	siteAdmin                 // the emulator's own admin endpoint
)

// site is what a request addresses: the service, the URL base to answer with, and for External
// ID the host label (a subdomain or a tenant id).
type site struct {
	kind  siteKind
	base  string // e.g. https://login.microsoftonline.com or https://localhost:PORT
	label string // siteCIAM: the first host label
	local bool   // reached at the local base
	// bases of the other services as this client reaches them
	loginBase string
	graphBase string
	localBase string
}

// CIAMBase is the base URL of an External ID host label as this client reaches it.
func (s site) CIAMBase(label string) string {
	if s.local {
		return s.localBase + "/ciam/" + label
	}
	return "https://" + label + ".ciamlogin.com"
}

type siteKey struct{}

func siteOf(r *http.Request) site {
	s, _ := r.Context().Value(siteKey{}).(site)
	return s
}

// resolve maps a request to its site and the path within it. At the local base, Graph is under
// /v1.0, External ID hosts under /ciam/<label>, the admin endpoint under /_emulator, and
// everything else is login.microsoftonline.com.
func (e *Emulator) resolve(r *http.Request) (site, string) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	p := r.URL.EscapedPath()
	real := site{loginBase: "https://login.microsoftonline.com", graphBase: "https://graph.microsoft.com", localBase: e.base}
	switch {
	case strings.HasPrefix(p, "/_emulator/") || p == "/_emulator":
		real.kind, real.base = siteAdmin, e.base
		return real, strings.TrimPrefix(p, "/_emulator")
	case host == "graph.microsoft.com":
		real.kind, real.base = siteGraph, real.graphBase
		return real, p
	case host == "login.microsoftonline.com":
		real.kind, real.base = siteLogin, real.loginBase
		return real, p
	case strings.HasSuffix(host, ".ciamlogin.com"):
		real.kind, real.label = siteCIAM, strings.TrimSuffix(host, ".ciamlogin.com")
		real.base = "https://" + host
		return real, p
	}
	local := site{local: true, loginBase: e.base, graphBase: e.base, localBase: e.base, base: e.base}
	switch {
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/") || strings.HasPrefix(p, "/v1.0?"):
		local.kind = siteGraph
		return local, p
	case strings.HasPrefix(p, "/ciam/"):
		rest := strings.TrimPrefix(p, "/ciam/")
		label, tail, _ := strings.Cut(rest, "/")
		local.kind, local.label = siteCIAM, strings.ToLower(label)
		local.base = e.base + "/ciam/" + label
		return local, "/" + tail
	}
	local.kind = siteLogin
	return local, p
}

// ServeHTTP routes by host (or local base prefix), then by path.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, p := e.resolve(r)
	r = r.WithContext(context.WithValue(r.Context(), siteKey{}, s))
	switch s.kind {
	case siteAdmin:
		e.serveAdmin(w, r, p)
	case siteGraph:
		gp := graphPath(strings.TrimPrefix(p, "/v1.0"))
		if rt, params := match(e.graphRoutes, r.Method, gp); rt != nil {
			e.serveRoute(w, r, rt, params, gp)
			return
		}
		// Not a route: logged and subject to faults and latency like any other request.
		e.serveRoute(w, r, &e.unknownGraph, params{"path": gp}, gp)
	default:
		if rt, params := match(e.loginRoutes, r.Method, p); rt != nil {
			e.serveRoute(w, r, rt, params, "")
			return
		}
		e.serveRoute(w, r, &e.unknownLogin, params{}, "")
	}
}

// Route names of requests that match no route. They are logged, and faults can target them,
// like every other request.
const (
	RouteGraphUnrecognised = "graph.unrecognised"
	RouteLoginUnrecognised = "login.unrecognised"
)

// unrecognisedRoutes are the routes of requests no other route matches.
func (e *Emulator) unrecognisedRoutes() (graph, login route) {
	graph = rt(RouteGraphUnrecognised, "", `.*`, func(w http.ResponseWriter, r *http.Request, p params) { e.graphUnrecognised(w, r, p["path"]) })
	login = rt(RouteLoginUnrecognised, "", `.*`, func(w http.ResponseWriter, r *http.Request, _ params) { http.NotFound(w, r) })
	return graph, login
}

// graphUnrecognised answers a Graph request no route matches as Graph does: 405 when the path is
// a route under another method, else 400 naming the first segment it does not know.
func (e *Emulator) graphUnrecognised(w http.ResponseWriter, r *http.Request, gp string) {
	if methodAllowed(e.graphRoutes, gp) {
		writeGraphError(w, r, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
		return
	}
	writeGraphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", firstSegment(gp)))
}

// graphPath is the route path of a Graph request: the path after /v1.0 without the
// /myorganization segment, an alias for the caller's own tenant that Graph accepts before every
// resource (the Azure portal and the CLI for Microsoft 365 send it; matched case-insensitively,
// as clients spell it myorganization and myOrganization). The tenant comes from the token either way.
func graphPath(p string) string {
	const alias = "/myorganization"
	if len(p) >= len(alias) && strings.EqualFold(p[:len(alias)], alias) && (len(p) == len(alias) || p[len(alias)] == '/') {
		return p[len(alias):]
	}
	return p
}

func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	s, _, _ := strings.Cut(p, "/")
	s, _, _ = strings.Cut(s, "(")
	return s
}

// ---- routes ----

// route is one endpoint: a name faults and the request log use, a method ("" for any) and a
// path pattern (a regular expression over the escaped path, anchored, with named groups as
// parameters).
type route struct {
	name    string
	method  string
	pattern *regexp.Regexp
	handle  func(w http.ResponseWriter, r *http.Request, p params)
}

type params map[string]string

func rt(name, method, pattern string, h func(http.ResponseWriter, *http.Request, params)) route {
	return route{name: name, method: method, pattern: regexp.MustCompile("^" + pattern + "$"), handle: h}
}

func match(routes []route, method, p string) (*route, params) {
	for i := range routes {
		x := &routes[i]
		m := x.pattern.FindStringSubmatch(p)
		if m == nil || (x.method != "" && x.method != method) {
			continue
		}
		ps := params{}
		for j, n := range x.pattern.SubexpNames() {
			if n != "" {
				ps[n] = m[j]
			}
		}
		return x, ps
	}
	return nil, nil
}

func methodAllowed(routes []route, p string) bool {
	for _, x := range routes {
		if x.pattern.MatchString(p) {
			return true
		}
	}
	return false
}

// Routes lists the route names faults can target.
func (e *Emulator) Routes() []string {
	var names []string
	for _, x := range append(append([]route(nil), e.loginRoutes...), e.graphRoutes...) {
		names = append(names, x.name)
	}
	names = append(names, RouteLoginUnrecognised, RouteGraphUnrecognised)
	return names
}

// serveRoute applies faults, throttling and latency, runs the handler and logs the request.
func (e *Emulator) serveRoute(w http.ResponseWriter, r *http.Request, x *route, ps params, graphPath string) {
	start, began := e.now(), time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		e.log.add(RequestRecord{Time: start, Duration: Duration(time.Since(began)), Route: x.name, Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Status: rec.status})
	}()
	var after *Fault
	for _, f := range e.faults.take(x.name, r.Method, start) {
		if f.Delay > 0 {
			select {
			case <-time.After(time.Duration(f.Delay)):
			case <-r.Context().Done():
				return
			}
		}
		switch f.Kind {
		case FaultStatus:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			rec.status = f.Status
			e.writeFaultStatus(w, r, f.Status, siteOf(r).kind == siteGraph)
			return
		case FaultDrop:
			rec.status = 0
			panic(http.ErrAbortHandler)
		case FaultStatusAfterCommit, FaultDropAfterCommit:
			f := f
			after = &f
		}
	}
	if siteOf(r).kind == siteGraph {
		key, _, tenant := callerKey(r)
		if selectsKeyCredentials(r, graphPath) {
			if wait := e.faults.keyCredentialRead(tenant, start); wait > 0 {
				w.Header().Set("Retry-After", fmt.Sprint(int(wait/time.Second)+1))
				e.faults.record(FaultEvent{Time: start, Route: x.name, Method: r.Method, Kind: "throttle-keycredentials", Status: http.StatusTooManyRequests})
				rec.status = http.StatusTooManyRequests
				// Graph documents the limit, not the answer's wording: the identity service's 429.
				writeGraphError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Too many requests from Identifier:"+tenant+" under category:throttle.aad.ags.identity.keycredentials. Please try again later.")
				return
			}
		}
		cost, write := resourceUnits(r, graphPath)
		if wait, info := e.faults.throttle(key, cost, write, start); wait > 0 {
			secs := int(wait/time.Second) + 1
			if !e.faults.config().Throttle.NoRetryAfter {
				w.Header().Set("Retry-After", fmt.Sprint(secs))
			}
			w.Header().Set("x-ms-throttle-information", info)
			w.Header().Set("x-ms-throttle-scope", "Tenant_Application/ReadWrite/"+strings.ReplaceAll(key, "/", "/"))
			e.faults.record(FaultEvent{Time: start, Route: x.name, Method: r.Method, Kind: "throttle", Status: http.StatusTooManyRequests})
			rec.status = http.StatusTooManyRequests
			writeGraphError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Too many requests from Identifier:"+key+" under category:throttle.aad.ags.identity. Please try again later.")
			return
		}
		w.Header().Set("x-ms-resource-unit", fmt.Sprint(cost))
	}
	if after == nil {
		x.handle(rec, r, ps)
		return
	}
	// The write happens; the answer is lost or replaced.
	buf := &bufferedWriter{header: http.Header{}}
	x.handle(buf, r, ps)
	if after.Kind == FaultDropAfterCommit {
		rec.status = 0
		panic(http.ErrAbortHandler)
	}
	rec.status = after.Status
	e.writeFaultStatus(w, r, after.Status, siteOf(r).kind == siteGraph)
}

// writeFaultStatus answers an injected error status the way the service would.
func (e *Emulator) writeFaultStatus(w http.ResponseWriter, r *http.Request, status int, graph bool) {
	if graph {
		code := map[int]string{429: "TooManyRequests", 500: "Service_InternalServerError", 502: "BadGateway", 503: "serviceNotAvailable", 504: "UnknownError"}[status]
		if code == "" {
			code = "UnknownError"
		}
		msg := map[int]string{429: "Too many requests. Please try again later.", 500: "Encountered an internal server error.", 503: "The service is temporarily unavailable. Please retry later.", 504: "The operation timed out."}[status]
		if msg == "" {
			msg = http.StatusText(status)
		}
		writeGraphError(w, r, status, code, msg)
		return
	}
	writeOAuthError(w, status, oauthErrorForStatus(status), aadsts(e.now(), 90033, "A transient error has occurred. Please try again."))
}

func oauthErrorForStatus(status int) string {
	if status == http.StatusTooManyRequests || status >= 500 {
		return "temporarily_unavailable"
	}
	return "invalid_request"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// bufferedWriter swallows a handler's answer (for faults after commit).
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header  { return b.header }
func (b *bufferedWriter) WriteHeader(code int) { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}

// ---- request log ----

// RequestRecord is one served request.
type RequestRecord struct {
	Time time.Time `json:"time"`
	// Duration is how long the emulator took to answer, injected latency included: with Time it
	// tells which requests overlapped, so a client's dependent rounds can be counted from the log.
	Duration Duration `json:"duration"`
	Route    string   `json:"route"`
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Host     string   `json:"host"`
	Status   int      `json:"status"` // 0: the connection was dropped
}

type requestLog struct {
	mu   sync.Mutex
	recs []RequestRecord
}

const maxLog = 100000

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) >= maxLog {
		l.recs = l.recs[len(l.recs)/2:]
	}
	l.recs = append(l.recs, r)
}

func (l *requestLog) all() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RequestRecord(nil), l.recs...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = nil
}
