package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/window"
)

// Duration is a time.Duration that reads and writes JSON as "250ms" (or a number of
// milliseconds), for the admin endpoint and the --data file.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w (write it like \"250ms\" or \"2s\")", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration: want a string like \"250ms\" or a number of milliseconds")
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// FaultKind says what an injected fault does to a matching request.
type FaultKind string

const (
	// FaultLatency waits Delay, then serves the request normally.
	FaultLatency FaultKind = "latency"
	// FaultStatus answers Status (with Retry-After when set) without running the handler.
	FaultStatus FaultKind = "status"
	// FaultDrop closes the connection without an answer, before the handler runs.
	FaultDrop FaultKind = "drop"
	// FaultStatusAfterCommit runs the handler (its write commits) and answers Status instead.
	FaultStatusAfterCommit FaultKind = "status-after-commit"
	// FaultDropAfterCommit runs the handler and then closes the connection without an answer.
	FaultDropAfterCommit FaultKind = "drop-after-commit"
)

// Fault is one injected fault. Route is a glob over route names (see Routes; "graph.*" is every
// Graph route, "*" every route); Method, when set, narrows it. Skip lets that many matching
// requests through first (to hit, say, the third token request of a run). Times is how many
// matching requests it hits after those (0: every one until cleared).
type Fault struct {
	Route      string    `json:"route"`
	Method     string    `json:"method,omitempty"`
	Kind       FaultKind `json:"kind"`
	Status     int       `json:"status,omitempty"`
	RetryAfter string    `json:"retryAfter,omitempty"`
	Delay      Duration  `json:"delay,omitempty"`
	Skip       int       `json:"skip,omitempty"`
	Times      int       `json:"times,omitempty"`
}

// Throttle is Graph's identity-and-access budget for one (client app, tenant) pair: resource
// units per Window and writes per WriteWindow (facts/graph.md §8: 3,500 RU / 10 s for a small
// tenant, 3,000 writes / 150 s). A benchmark scales both down to keep runs short.
type Throttle struct {
	ResourceUnits int      `json:"resourceUnits"`
	Window        Duration `json:"window"`
	Writes        int      `json:"writes"`
	WriteWindow   Duration `json:"writeWindow"`
	// NoRetryAfter leaves the Retry-After header out of 429s (some Graph services do).
	NoRetryAfter bool `json:"noRetryAfter,omitempty"`
}

// DocumentedThrottle is the documented budget of a small tenant, divided by scale (1 = as is).
func DocumentedThrottle(scale int) *Throttle {
	if scale < 1 {
		scale = 1
	}
	return &Throttle{ResourceUnits: 3500 / scale, Window: Duration(10 * time.Second), Writes: 3000 / scale, WriteWindow: Duration(150 * time.Second)}
}

// FaultConfig is every knob at once: what the admin endpoint reads and writes.
type FaultConfig struct {
	Faults []Fault `json:"faults"`
	// ReplicationLag hides new objects (apps, service principals, grants, secrets) from every call
	// but the one that made them for this long, answering as Graph and Entra do meanwhile.
	ReplicationLag Duration  `json:"replicationLag"`
	Throttle       *Throttle `json:"throttle,omitempty"`
	// DuplicateGrantConflict answers a duplicate oauth2PermissionGrant with the older 409
	// Request_MultipleObjectsWithSameKeyValue instead of today's 400 Request_BadRequest.
	DuplicateGrantConflict bool `json:"duplicateGrantConflict,omitempty"`
	// ObjectQuota is the non-admin quota of objects a caller may own, soft-deleted ones counted
	// (Graph's is 250); 0 turns it off.
	ObjectQuota int `json:"objectQuota,omitempty"`
	// MaxSecretLifetime makes addPassword refuse longer lifetimes with
	// CredentialInvalidLifetimeAsPerAppPolicy, as an app management policy does; 0 is no policy.
	MaxSecretLifetime Duration `json:"maxSecretLifetime,omitempty"`
	// MaxPageSize caps every collection page at this many items, however large $top is: Graph
	// may answer fewer items than asked and a nextLink, and a client must follow it. 0 is no cap.
	MaxPageSize int `json:"maxPageSize,omitempty"`
	// KeyCredentialReads is how many reads of applications with keyCredentials in $select a
	// tenant may make per minute (the v1.0 list-applications doc: "The use of $select to get
	// keyCredentials for applications has a throttling limit of 150 requests per minute for each
	// tenant"). 0 is that documented 150; a negative value turns the limit off.
	KeyCredentialReads int `json:"keyCredentialReads,omitempty"`
	// KeyCredentialWindow is the window of KeyCredentialReads (0: the documented minute); a
	// benchmark shrinks both to keep the rate and bind sooner.
	KeyCredentialWindow Duration `json:"keyCredentialWindow,omitempty"`
}

// DocumentedKeyCredentialReads is Graph's limit of $select=keyCredentials reads of
// applications, per tenant per minute.
const DocumentedKeyCredentialReads = 150

// FaultEvent records one fault that hit a request, so tests can see what happened.
type FaultEvent struct {
	Time   time.Time `json:"time"`
	Route  string    `json:"route"`
	Method string    `json:"method"`
	Kind   FaultKind `json:"kind"`
	Status int       `json:"status,omitempty"`
}

// faults is the live fault state.
type faults struct {
	mu      sync.Mutex
	cfg     FaultConfig
	left    []int // per cfg.Faults entry: requests it still hits (-1: unlimited)
	skip    []int // per cfg.Faults entry: matching requests still to let through
	events  []FaultEvent
	buckets map[string]*bucket
	keyLogs map[string]*window.Log // $select=keyCredentials reads, by tenant
}

type bucket struct {
	ru     window.Log
	writes window.Log
}

func (f *faults) set(cfg FaultConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	f.left = make([]int, len(cfg.Faults))
	f.skip = make([]int, len(cfg.Faults))
	for i, x := range cfg.Faults {
		f.skip[i] = x.Skip
		f.left[i] = x.Times
		if x.Times <= 0 {
			f.left[i] = -1
		}
	}
	f.buckets = nil
	f.keyLogs = nil
}

func (f *faults) config() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	c.Faults = append([]Fault(nil), f.cfg.Faults...)
	return c
}

// take returns the faults that hit this request, in order, using up their counts.
func (f *faults) take(route, method string, now time.Time) []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var hit []Fault
	for i, x := range f.cfg.Faults {
		if f.left[i] == 0 {
			continue
		}
		if x.Method != "" && !strings.EqualFold(x.Method, method) {
			continue
		}
		if ok, _ := path.Match(x.Route, route); !ok && x.Route != route {
			continue
		}
		if f.skip[i] > 0 {
			f.skip[i]--
			continue
		}
		if f.left[i] > 0 {
			f.left[i]--
		}
		hit = append(hit, x)
		f.events = append(f.events, FaultEvent{Time: now, Route: route, Method: method, Kind: x.Kind, Status: x.Status})
	}
	return hit
}

func (f *faults) record(ev FaultEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

// Events returns the faults that have hit requests so far.
func (f *faults) Events() []FaultEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FaultEvent(nil), f.events...)
}

// throttle charges a Graph request against its caller's budget. It returns 0 when the request
// may go on, else how long until it would fit and which limit it hit.
func (f *faults) throttle(key string, ru int, write bool, now time.Time) (wait time.Duration, info string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.cfg.Throttle
	if t == nil {
		return 0, ""
	}
	if f.buckets == nil {
		f.buckets = map[string]*bucket{}
	}
	b := f.buckets[key]
	if b == nil {
		b = &bucket{}
		f.buckets[key] = b
	}
	if wait := b.ru.Wait(ru, t.ResourceUnits, time.Duration(t.Window), now); wait > 0 {
		return wait, "ResourceUnitLimitExceeded"
	}
	if write {
		if wait := b.writes.Wait(1, t.Writes, time.Duration(t.WriteWindow), now); wait > 0 {
			return wait, "WriteLimitExceeded"
		}
	}
	b.ru.Add(now, ru)
	if write {
		b.writes.Add(now, 1)
	}
	return 0, ""
}

// keyCredentialRead charges a $select=keyCredentials read of applications against its tenant's
// per-minute limit. It returns 0 when the read may go on, else how long until it would fit.
func (f *faults) keyCredentialRead(tenant string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := f.cfg.KeyCredentialReads
	if limit < 0 {
		return 0
	}
	if limit == 0 {
		limit = DocumentedKeyCredentialReads
	}
	if f.keyLogs == nil {
		f.keyLogs = map[string]*window.Log{}
	}
	l := f.keyLogs[tenant]
	if l == nil {
		l = &window.Log{}
		f.keyLogs[tenant] = l
	}
	win := time.Duration(f.cfg.KeyCredentialWindow)
	if win <= 0 {
		win = time.Minute
	}
	if wait := l.Wait(1, limit, win, now); wait > 0 {
		return wait
	}
	l.Add(now, 1)
	return 0
}

// selectsKeyCredentials reports whether a Graph request reads applications with keyCredentials
// in $select (a list, one object by id or alternate key, or a page of either).
func selectsKeyCredentials(r *http.Request, graphPath string) bool {
	if r.Method != http.MethodGet || !strings.HasPrefix(strings.ToLower(graphPath), "/applications") {
		return false
	}
	for _, f := range strings.Split(r.URL.Query().Get("$select"), ",") {
		if strings.EqualFold(strings.TrimSpace(f), "keyCredentials") {
			return true
		}
	}
	return false
}

// resourceUnits is the documented cost of a Graph identity request (facts/graph.md §8).
func resourceUnits(r *http.Request, graphPath string) (cost int, write bool) {
	if r.Method != http.MethodGet {
		return 1, true
	}
	cost = 1
	p := strings.ToLower(graphPath)
	if strings.HasPrefix(p, "/applications") || strings.HasPrefix(p, "/oauth2permissiongrants") || strings.HasPrefix(p, "/users") {
		cost = 2
	}
	q := r.URL.Query()
	if q.Get("$select") != "" {
		cost--
	}
	if q.Get("$expand") != "" {
		cost++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		cost--
	}
	if cost < 1 {
		cost = 1
	}
	return cost, false
}

// callerKey names the throttling bucket of a Graph request: the client app and tenant of its
// bearer token (read without verifying: only for bucketing; the Graph routes verify tokens).
func callerKey(r *http.Request) (key, appID, tenant string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "anonymous", "", ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "anonymous", "", ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "anonymous", "", ""
	}
	var c struct {
		AppID string `json:"appid"`
		Azp   string `json:"azp"`
		Tid   string `json:"tid"`
	}
	_ = json.Unmarshal(b, &c)
	if c.AppID == "" {
		c.AppID = c.Azp
	}
	return c.AppID + "/" + c.Tid, c.AppID, c.Tid
}
