package lab

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/window"
)

// Budget is Graph's identity-and-access throttling budget for one (client app, tenant) pair:
// resource units per Window and writes per WriteWindow (facts/graph.md §8).
type Budget struct {
	ResourceUnits int
	Window        time.Duration
	Writes        int
	WriteWindow   time.Duration
	// KeyCredentialReads per KeyCredentialWindow is the tenant's limit on reads of applications
	// whose $select names keyCredentials (150 a minute, the v1.0 list-applications doc); 0 does
	// not meter them.
	KeyCredentialReads  int
	KeyCredentialWindow time.Duration
}

// DocumentedBudget is the documented budget of a small tenant (under 50 users), the smallest
// there is: 3,500 resource units per 10 s and 3,000 writes per 2 min 30 s. The tenant's size is
// not known beforehand, so a lab plans for the smallest and lets 429s say otherwise.
func DocumentedBudget() Budget {
	return Budget{ResourceUnits: 3500, Window: 10 * time.Second, Writes: 3000, WriteWindow: 150 * time.Second,
		KeyCredentialReads: 150, KeyCredentialWindow: time.Minute}
}

// Scaled divides the counts by count and the windows by window (both at least 1): the benchmark
// keeps Graph's rates while shrinking the bursts, so a budget binds within seconds.
func (b Budget) Scaled(count, window int) Budget {
	count, window = max(count, 1), max(window, 1)
	s := Budget{
		ResourceUnits: max(b.ResourceUnits/count, 1), Window: b.Window / time.Duration(window),
		Writes: max(b.Writes/count, 1), WriteWindow: b.WriteWindow / time.Duration(window),
	}
	if b.KeyCredentialReads > 0 {
		s.KeyCredentialReads, s.KeyCredentialWindow = max(b.KeyCredentialReads/count, 1), b.KeyCredentialWindow/time.Duration(window)
	}
	return s
}

// SelectsKeyCredentials reports whether a Graph request reads applications with keyCredentials
// in $select: such reads count against Budget.KeyCredentialReads too.
func SelectsKeyCredentials(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	p := strings.ToLower(r.URL.Path)
	i := strings.Index(p, "/v1.0/")
	if i < 0 || !strings.HasPrefix(p[i+len("/v1.0"):], "/applications") {
		return false
	}
	for _, f := range strings.Split(r.URL.Query().Get("$select"), ",") {
		if strings.EqualFold(strings.TrimSpace(f), "keyCredentials") {
			return true
		}
	}
	return false
}

// WritesPerSecond is the budget's sustained write rate.
func (b Budget) WritesPerSecond() float64 {
	if b.WriteWindow <= 0 {
		return math.Inf(1)
	}
	return float64(b.Writes) / b.WriteWindow.Seconds()
}

// Cost is the documented price of a Graph request in resource units, and whether it counts
// as a write: POST, PATCH, PUT and DELETE cost 1 and a write; GET applications,
// oauth2PermissionGrants and users cost 2, any other GET 1; $select takes 1 off, $expand adds
// 1, $top under 20 takes 1 off; never under 1.
func Cost(r *http.Request) (units int, write bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return 1, true
	}
	p := strings.ToLower(r.URL.Path)
	for _, v := range []string{"/v1.0", "/beta"} {
		if i := strings.Index(p, v+"/"); i >= 0 {
			p = p[i+len(v):]
			break
		}
	}
	units = 1
	for _, costly := range []string{"/applications", "/oauth2permissiongrants", "/users"} {
		if strings.HasPrefix(p, costly) {
			units = 2
		}
	}
	q := r.URL.Query()
	if q.Get("$select") != "" {
		units--
	}
	if q.Get("$expand") != "" {
		units++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		units--
	}
	return max(units, 1), false
}

// GovernorOptions tune a Governor; zero values take the defaults.
type GovernorOptions struct {
	Budget Budget // default DocumentedBudget()
	// Start is the first concurrency limit (default 8); Max caps it (default 64). Every request
	// is metered against the budget anyway, so the limit bounds work in flight, not the rate:
	// under replication lag most of a unit's time is waiting, and with 2 and 16 a 100-person
	// room under 2 s of lag took 56 s, with 8 and 64 about 40 s, with no lag unchanged (19.9 s).
	Start, Max int
	// Margin widens each window on this side, because Graph stamps a request later than we
	// send it; default 2 % of the window, at least 20 ms.
	Margin time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Governor keeps a room's worth of Graph calls inside the throttling budget. It is both:
//
//   - a transport wrapper (Wrap) that meters every Graph request against the documented
//     resource-unit and write budgets, and reads selecting keyCredentials against the tenant's
//     150 a minute, before sending it (sliding windows, as Graph counts),
//     and on a 429 pauses every request until Retry-After has passed;
//   - a concurrency limit for whole units of work (Acquire), adapted by AIMD: it starts at
//     Start, grows while work succeeds (doubling per round until the first throttle, then by
//     about one per round) and halves on a 429, once per Retry-After.
//
// The budgets keep 429s rare; the pause and the AIMD limit handle the rest (another tool
// spending the same budget, a smaller budget than documented). The Graph client retries the
// 429s themselves, honouring Retry-After, so none reaches the person.
type Governor struct {
	mu     sync.Mutex
	cond   chan struct{} // closed and replaced whenever a slot frees or the limit changes
	budget Budget
	margin time.Duration
	now    func() time.Time
	ru     window.Log
	writes window.Log
	keys   window.Log // $select=keyCredentials reads
	pause  time.Time  // no request leaves before this (Retry-After)
	limit  float64    // concurrency limit (AIMD)
	max    float64
	inUse  int
	slow   bool      // slow start until the first throttle
	cutAt  time.Time // the last decrease; one per Retry-After window
	stats  GovernorStats
}

// GovernorStats say what the governor saw.
type GovernorStats struct {
	Requests  int     // Graph requests sent
	Writes    int     // of which writes
	Units     int     // resource units spent
	Throttled int     // 429 answers
	KeyReads  int     // of the requests, reads that selected keyCredentials
	Limit     float64 // concurrency limit now
	PeakLimit float64
	// BudgetWait is the time requests spent waiting for the budget or a Retry-After pause
	// (summed over requests).
	BudgetWait time.Duration
}

// NewGovernor makes a Governor.
func NewGovernor(o GovernorOptions) *Governor {
	if o.Budget == (Budget{}) {
		o.Budget = DocumentedBudget()
	}
	if o.Start <= 0 {
		o.Start = 8
	}
	if o.Max <= 0 {
		o.Max = 64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Margin <= 0 {
		o.Margin = max(min(o.Budget.Window, o.Budget.WriteWindow)/50, 20*time.Millisecond)
	}
	g := &Governor{cond: make(chan struct{}), budget: o.Budget, margin: o.Margin, now: o.Now,
		limit: float64(min(o.Start, o.Max)), max: float64(o.Max), slow: true}
	g.stats.PeakLimit = g.limit
	return g
}

// Budget is the budget the governor meters against.
func (g *Governor) Budget() Budget { return g.budget }

// Stats returns what the governor saw so far.
func (g *Governor) Stats() GovernorStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.Limit = g.limit
	return s
}

// broadcast wakes every waiter; call with mu held.
func (g *Governor) broadcast() {
	close(g.cond)
	g.cond = make(chan struct{})
}

// Acquire waits for a slot under the concurrency limit. release(ok) gives it back: ok grows
// the limit, !ok (the work failed) leaves it.
func (g *Governor) Acquire(ctx context.Context) (release func(ok bool), err error) {
	for {
		g.mu.Lock()
		if float64(g.inUse) < math.Floor(g.limit) || g.inUse == 0 {
			g.inUse++
			g.mu.Unlock()
			var once sync.Once
			return func(ok bool) { once.Do(func() { g.release(ok) }) }, nil
		}
		wake := g.cond
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-wake:
		}
	}
}

func (g *Governor) release(ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inUse--
	if ok {
		if g.slow {
			g.limit++ // one more per success: doubles per round
		} else {
			g.limit += 1 / g.limit // about one more per round
		}
		g.limit = min(g.limit, g.max)
		g.stats.PeakLimit = max(g.stats.PeakLimit, g.limit)
	}
	g.broadcast()
}

// throttled halves the limit (once per Retry-After window) and pauses every request.
func (g *Governor) throttled(retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.stats.Throttled++
	if retryAfter <= 0 {
		retryAfter = time.Second // Graph may omit it: a short pause, the client backs off too
	}
	if until := now.Add(retryAfter); until.After(g.pause) {
		g.pause = until
	}
	if now.After(g.cutAt) {
		g.slow = false
		g.limit = max(g.limit/2, 1)
		g.cutAt = now.Add(retryAfter)
	}
	g.broadcast()
}

// admit waits until the request fits the budget and no pause holds, then books it. It returns
// the booking to refund when Graph did not count the request (a 429).
func (g *Governor) admit(ctx context.Context, units int, write, keys bool) (refund func(), err error) {
	start := g.now()
	for {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		g.mu.Lock()
		now := g.now()
		wait := time.Duration(0)
		if now.Before(g.pause) {
			wait = g.pause.Sub(now)
		} else {
			wait = g.ru.Wait(units, g.budget.ResourceUnits, g.budget.Window+g.margin, now)
			if wait <= 0 && write {
				wait = g.writes.Wait(1, g.budget.Writes, g.budget.WriteWindow+g.margin, now)
			}
			if wait <= 0 && keys && g.budget.KeyCredentialReads > 0 {
				// A wider margin here: a small count per window turns every read into a window
				// edge, where the delay between our stamp and Graph's decides.
				wait = g.keys.Wait(1, g.budget.KeyCredentialReads, g.budget.KeyCredentialWindow+max(g.margin, g.budget.KeyCredentialWindow/10), now)
			}
		}
		if wait <= 0 {
			r := window.Spend{At: now, Cost: units}
			g.ru.Add(now, units)
			if write {
				g.writes.Add(now, 1)
				g.stats.Writes++
			}
			if keys {
				g.keys.Add(now, 1)
				g.stats.KeyReads++
			}
			g.stats.Requests++
			g.stats.Units += units
			g.stats.BudgetWait += now.Sub(start)
			g.mu.Unlock()
			return func() { g.refund(r, write, keys) }, nil
		}
		wake := g.cond
		g.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		case <-wake:
			t.Stop()
		}
	}
}

// refund takes back a booking Graph did not count.
func (g *Governor) refund(r window.Spend, write, keys bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if keys {
		for i, x := range g.keys {
			if x.At.Equal(r.At) {
				g.keys = append(g.keys[:i:i], g.keys[i+1:]...)
				g.stats.KeyReads--
				break
			}
		}
	}
	for i, x := range g.ru {
		if x == r {
			g.ru = append(g.ru[:i:i], g.ru[i+1:]...)
			break
		}
	}
	if write {
		for i, x := range g.writes {
			if x.At.Equal(r.At) {
				g.writes = append(g.writes[:i:i], g.writes[i+1:]...)
				g.stats.Writes--
				break
			}
		}
	}
	g.stats.Units -= r.Cost
}

// Wrap returns a transport that meters every request through the governor before next sends it.
func (g *Governor) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return governed{g: g, next: next}
}

type governed struct {
	g    *Governor
	next http.RoundTripper
}

func (t governed) RoundTrip(r *http.Request) (*http.Response, error) {
	units, write := Cost(r)
	refund, err := t.g.admit(r.Context(), units, write, SelectsKeyCredentials(r))
	if err != nil {
		return nil, fmt.Errorf("waiting for Graph's throttling budget: %w", err)
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		refund()
		t.g.throttled(retryAfter(resp.Header.Get("Retry-After"), t.g.now()))
	}
	return resp, err
}

// retryAfter reads Retry-After in seconds or as an HTTP date; 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
