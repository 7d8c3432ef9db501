package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/reliability"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// callPoint is one call init makes: the emulator's route name and which of that route's
// requests in a clean run it is (0 the first).
type callPoint struct {
	Route  string
	Method string
	Nth    int
}

func (c callPoint) String() string {
	if c.Nth == 0 {
		return c.Route
	}
	return fmt.Sprintf("%s#%d", c.Route, c.Nth+1)
}

// faultKind is one fault the matrix injects at a call point.
type faultKind struct {
	Name  string
	Fault func(c callPoint) emulator.Fault
	// Interrupt sends SIGINT while the call is held by the fault.
	Interrupt bool
}

func faultKinds() []faultKind {
	f := func(c callPoint, kind emulator.FaultKind, status int, retryAfter string) emulator.Fault {
		return emulator.Fault{Route: c.Route, Method: c.Method, Skip: c.Nth, Times: 1, Kind: kind, Status: status, RetryAfter: retryAfter}
	}
	return []faultKind{
		{Name: "latency 1.5s", Fault: func(c callPoint) emulator.Fault {
			x := f(c, emulator.FaultLatency, 0, "")
			x.Delay = emulator.Duration(1500 * time.Millisecond)
			return x
		}},
		{Name: "429 Retry-After 1", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultStatus, 429, "1") }},
		{Name: "429 no Retry-After", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultStatus, 429, "") }},
		{Name: "500", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultStatus, 500, "") }},
		{Name: "503", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultStatus, 503, "") }},
		{Name: "dropped connection", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultDrop, 0, "") }},
		{Name: "500 after commit", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultStatusAfterCommit, 500, "") }},
		{Name: "dropped after commit", Fault: func(c callPoint) emulator.Fault { return f(c, emulator.FaultDropAfterCommit, 0, "") }},
		{Name: "SIGINT", Interrupt: true, Fault: func(c callPoint) emulator.Fault {
			x := f(c, emulator.FaultLatency, 0, "")
			x.Delay = emulator.Duration(time.Minute) // held until the signal cancels the call
			return x
		}},
	}
}

// matrixSamples are the samples the matrix runs: one of each tenant kind (the External ID one
// adds the user-flow calls).
func matrixSamples() []string { return []string{"node-workforce", "node-external"} }

// outcome is what one case did.
type outcome struct {
	Sample, Point, Fault string
	Code                 int
	Survived             bool   // the faulted run itself succeeded, sign-in check passed
	Error                string // its one-line error otherwise
	Files                string // untouched or written
	Converged            bool
	Problem              string // a broken promise; empty when every check passed
}

// TestFaultMatrixEndToEnd runs the built binary's init against the emulator with one fault at
// one call: for every call a clean init makes (each Graph call, the wizard's own token, each of
// WaitReady's polls, the sign-in check's discovery, keys, token, /me and pages), every fault
// the emulator offers and a real SIGINT while the call is in flight. After each: success, or a
// clear error and exit code; the checkout's files untouched or completely written; no secret on
// screen; and a re-run (no faults) ends with a passed sign-in check and exactly one app with one
// working credential. Replication lag beyond the SDK's retries is a case of its own per sample.
// With -update the outcomes go into RELIABILITY.md.
func TestFaultMatrixEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end fault matrix runs the binary a few hundred times")
	}
	bin := buildBinary(t)
	seed := emulatortest.Seed(t)

	type tc struct {
		sample string
		point  callPoint
		kind   faultKind
		lag    time.Duration
	}
	var cases []tc
	points := map[string][]callPoint{}
	for _, id := range matrixSamples() {
		points[id] = cleanRunCalls(t, bin, seed, id)
		for _, p := range points[id] {
			for _, k := range faultKinds() {
				cases = append(cases, tc{sample: id, point: p, kind: k})
			}
		}
		cases = append(cases, tc{sample: id, point: callPoint{Route: "(every call)"}, kind: faultKind{Name: "replication lag 3s"}, lag: 3 * time.Second})
	}

	// FAULT_CASES=regexp narrows the matrix to the cases whose sample/call/fault it matches
	// (the pool below runs before subtests exist, so -run cannot).
	if re := os.Getenv("FAULT_CASES"); re != "" {
		pick := regexp.MustCompile(re)
		var some []tc
		for _, c := range cases {
			if pick.MatchString(fmt.Sprintf("%s/%s/%s", c.sample, c.point, c.kind.Name)) {
				some = append(some, c)
			}
		}
		cases = some
	}
	// The cases run in a pool of their own (each holds an emulator, a checkout and two short
	// runs of the binary, mostly waiting), then each reports as a subtest.
	results := make([]outcome, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := cases[i]
				o, err := runFaultCase(t, bin, seed, c.sample, c.point, c.kind, c.lag)
				if err != nil {
					o.Problem = "the harness failed: " + err.Error()
				}
				results[i] = o
			}
		}()
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, c := range cases {
		o := results[i]
		t.Run(fmt.Sprintf("%s/%s/%s", c.sample, c.point, c.kind.Name), func(t *testing.T) {
			t.Logf("exit %d survived=%v files=%s converged=%v error=%q", o.Code, o.Survived, o.Files, o.Converged, o.Error)
			if o.Problem != "" {
				t.Errorf("%s (exit %d, error %q)", o.Problem, o.Code, o.Error)
			}
		})
	}
	// The shared-tenant cases: roles, settings and policies, 409s (reliability_tenants_test.go).
	if tenants := runTenantCases(t, bin, seed); tenants != nil && testkit.Updating() && !t.Failed() {
		if err := reliability.UpdateBlock(filepath.Join(testenv.RepoRoot(), "RELIABILITY.md"), "shared-tenant", tenantTable(tenants)); err != nil {
			t.Fatal(err)
		}
	}
	if testkit.Updating() && !t.Failed() && os.Getenv("FAULT_CASES") == "" {
		if err := reliability.UpdateBlock(filepath.Join(testenv.RepoRoot(), "RELIABILITY.md"), "fault-matrix", faultTable(results, points)); err != nil {
			t.Fatal(err)
		}
	}
}

// cleanRunCalls runs init once without faults and lists the calls it made, in order.
func cleanRunCalls(t *testing.T, bin, seed, sample string) []callPoint {
	t.Helper()
	e, _, dir := seededCheckout(t, seed, sample)
	r, err := runBinary(bin, t.TempDir(), nil, initArgs(e, sample, dir)...)
	if err != nil || r.code != 0 {
		t.Fatalf("clean run of %s: %v exit %d\n%s", sample, err, r.code, r.stderr)
	}
	seen := map[string]int{}
	var out []callPoint
	for _, rq := range e.Requests() {
		k := rq.Route + " " + rq.Method
		out = append(out, callPoint{Route: rq.Route, Method: rq.Method, Nth: seen[k]})
		seen[k]++
	}
	if len(out) < 10 {
		t.Fatalf("a clean run of %s made only %d calls: %+v", sample, len(out), out)
	}
	return out
}

func initArgs(e *emulatortest.Emulator, sample, dir string) []string {
	return []string{"init", "--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--no-input", "--sample", sample,
		"--dir", dir, "--auto-sign-in", "--yes", "--json", "--timeout", "8s"}
}

// runFaultCase is one case of the matrix, on its own emulator, home and checkout. It runs in a
// goroutine of the pool: it reports through its result, never through t's failure methods.
func runFaultCase(tb testing.TB, bin, seed, sample string, p callPoint, k faultKind, lag time.Duration) (outcome, error) {
	o := outcome{Sample: sample, Point: p.String(), Fault: k.Name}
	e, err := emulatortest.Start(tb, emulatortest.FromSeed(seed))
	if err != nil {
		return o, err
	}
	m, err := samples.Lookup(sample)
	if err != nil {
		return o, err
	}
	ti, _ := e.Info().Tenant(emulator.TenantType(m.TenantType))
	dir, err := checkout(tb, m)
	if err != nil {
		return o, err
	}
	before, err := readTree(dir)
	if err != nil {
		return o, err
	}
	home := tb.TempDir()
	var interrupt func() bool
	if k.Fault != nil {
		e.AddFault(k.Fault(p))
		if k.Interrupt {
			interrupt = func() bool { return len(e.FaultEvents()) > 0 }
		}
	}
	e.SetReplicationLag(lag)
	first, err := runBinary(bin, home, interrupt, initArgs(e, sample, dir)...)
	if err != nil {
		return o, err
	}
	o.Code = first.code
	o.Survived = first.code == 0
	o.Error = errorLine(first.stderr)
	problem := func(s string) (outcome, error) {
		o.Problem = s
		return o, nil
	}
	switch {
	case k.Fault != nil && len(e.FaultEvents()) == 0:
		return problem("the fault never hit its call")
	case k.Interrupt && !first.interrupted:
		return problem("the SIGINT was not delivered")
	case k.Interrupt && first.code != 0 && first.code != ExitInterrupted:
		return problem(fmt.Sprintf("exit code %d after SIGINT; want 0 or %d", first.code, ExitInterrupted))
	case !k.Interrupt && first.code != 0 && first.code != ExitError:
		return problem(fmt.Sprintf("exit code %d; want 0 or %d", first.code, ExitError))
	case first.code != 0 && o.Error == "":
		return problem("failed without an error message")
	case strings.Contains(first.stderr, "panic:") || strings.Contains(first.stderr, "goroutine "):
		return problem("panicked")
	}
	fs, err := fileState(m, dir, before)
	if err != nil {
		return problem(err.Error())
	}
	o.Files = fs
	if o.Survived && !strings.Contains(first.stdout, `"status": "passed"`) {
		return problem("exit 0 without a passed sign-in check")
	}

	// Again, without faults: it must converge.
	e.SetFaults(emulator.FaultConfig{})
	second, err := runBinary(bin, home, nil, initArgs(e, sample, dir)...)
	if err != nil {
		return o, err
	}
	if second.code != 0 {
		return problem(fmt.Sprintf("the re-run failed (exit %d): %s", second.code, errorLine(second.stderr)))
	}
	if err := convergence(e, ti.ID, m, dir); err != nil {
		return problem("after the re-run: " + err.Error())
	}
	o.Converged = true
	if s := leaked(secretsOf(e), first.stdout, first.stderr, second.stdout, second.stderr); s != "" {
		return problem("a secret reached the terminal: " + s)
	}
	if st, err := os.Stat(filepath.Join(dir, ".env")); err == nil && st.Mode().Perm() != 0o600 {
		return problem(fmt.Sprintf(".env has mode %o, want 600", st.Mode().Perm()))
	}
	return o, nil
}

// faultTable renders the outcomes for RELIABILITY.md: one row per call, one column per fault.
func faultTable(results []outcome, points map[string][]callPoint) string {
	kinds := faultKinds()
	by := map[string]outcome{}
	for _, r := range results {
		by[r.Sample+"|"+r.Point+"|"+r.Fault] = r
	}
	var b strings.Builder
	total, survived, failedClean := 0, 0, 0
	for _, r := range results {
		total++
		if r.Survived {
			survived++
		} else if r.Problem == "" {
			failedClean++
		}
	}
	fmt.Fprintf(&b, "%d faults injected by `TestFaultMatrixEndToEnd` (the built binary, one emulator each): %d survived "+
		"(the faulted run itself succeeded, sign-in check passed), %d failed with a clear error and exit code 1 (130 after SIGINT) and "+
		"converged on the re-run, %d broke a promise.\n\n", total, survived, failedClean, total-survived-failedClean)
	b.WriteString("Legend: ✓ the run succeeded; ↻ it stopped with a clear error (exit 1, or 130 after SIGINT), the files untouched (u) or " +
		"completely written (w), and the re-run converged on one app with one working credential; ✗ a broken promise.\n")
	ids := make([]string, 0, len(points))
	for id := range points {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "\n**%s**\n\n| call | ", id)
		for _, k := range kinds {
			b.WriteString(k.Name + " | ")
		}
		b.WriteString("\n|---|")
		for range kinds {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, p := range points[id] {
			fmt.Fprintf(&b, "| `%s` | ", p)
			for _, k := range kinds {
				b.WriteString(mark(by[id+"|"+p.String()+"|"+k.Name]) + " | ")
			}
			b.WriteString("\n")
		}
		if r, ok := by[id+"|(every call)|replication lag 3s"]; ok {
			fmt.Fprintf(&b, "\nReplication lag of 3 s on every new object (beyond the SDK's retries): %s.\n", mark(r))
		}
	}
	// The errors people saw, once each.
	seen := map[string]bool{}
	var errs []string
	for _, r := range results {
		if !r.Survived && r.Error != "" {
			line := maskLine(r.Error)
			if !seen[line] {
				seen[line] = true
				errs = append(errs, line)
			}
		}
	}
	sort.Strings(errs)
	b.WriteString("\nThe errors the failed runs printed (ids and numbers masked), each once:\n\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "- `%s`\n", e)
	}
	return b.String()
}

func mark(o outcome) string {
	switch {
	case o.Sample == "":
		return "–"
	case o.Problem != "":
		return "✗"
	case o.Survived:
		return "✓"
	case o.Files == "untouched":
		return "↻u"
	default:
		return "↻w"
	}
}

// volatileRE matches what differs between runs of one failure: times, HTTP/2 stream ids, the
// error bodies' trace details.
var volatileRE = regexp.MustCompile(`\d{2}:\d{2}:\d{2}Z|stream ID \d+|\\r\\nTrace ID.*`)

// tmpNameRE matches the random part of a temporary file's name.
var tmpNameRE = regexp.MustCompile(`\.tmp-\d+`)

func maskLine(s string) string {
	s = tempPathRE.ReplaceAllString(s, "<dir>")
	s = guidRE.ReplaceAllString(s, "<id>")
	s = portRE.ReplaceAllString(s, "localhost:<port>")
	s = dateRE.ReplaceAllString(s, "<date>")
	s = volatileRE.ReplaceAllString(s, "…")
	s = tmpNameRE.ReplaceAllString(s, ".tmp-<n>")
	s = strings.ReplaceAll(s, "`", "'")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// TestTwoRunsAtOnce: while one init of the built binary is in the middle of its Graph writes
// (held there by a latency fault), a second init on the same folder, and one on another folder
// for the same app, fail at once with a clear error and exit 1, having written nothing (no Graph
// write, no file); a dry run still shows its plan; the first run then finishes alone: one app,
// one secret, its files whole. The same for two lab provisions of one lab, and a lab reset
// during a provision.
func TestTwoRunsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	bin := buildBinary(t)
	seed := emulatortest.Seed(t)
	e, m, dir := seededCheckout(t, seed, "node-workforce")
	before, _ := readTree(dir)
	h := t.TempDir()
	e.AddFault(emulator.Fault{Route: "graph.applications.upsert", Kind: emulator.FaultLatency, Delay: emulator.Duration(3 * time.Second), Times: 1})
	type res struct {
		r   binRun
		err error
	}
	firstDone := make(chan res, 1)
	go func() {
		r, err := runBinary(bin, h, nil, initArgs(e, "node-workforce", dir)...)
		firstDone <- res{r, err}
	}()
	waitUntil(t, func() bool { return len(e.FaultEvents()) > 0 })
	writes := func() int {
		n := 0
		for _, rq := range e.Requests() {
			if rq.Method != "GET" && strings.HasPrefix(rq.Route, "graph.") {
				n++
			}
		}
		return n
	}
	writesBefore := writes()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same folder", initArgs(e, "node-workforce", dir), "is configuring " + dir},
		{"same app, other folder", initArgs(e, "node-workforce", t.TempDir()), "working on the same app registration"},
	} {
		r, err := runBinary(bin, h, nil, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != ExitError || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "run the same command again") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 and %q", tc.name, r.code, r.stderr, tc.want)
		}
	}
	if n := writes(); n != writesBefore {
		t.Errorf("the refused runs wrote to Graph: %d writes, %d before", n, writesBefore)
	}
	if now, _ := readTree(dir); !equalMaps(before, now) {
		t.Errorf("the folder changed while the first run was still in Graph")
	}
	dry, err := runBinary(bin, h, nil, append(initArgs(e, "node-workforce", dir), "--dry-run")...)
	if err != nil || dry.code != 0 {
		t.Errorf("a dry run during a run: %v exit %d\n%s", err, dry.code, dry.stderr)
	}
	first := <-firstDone
	if first.err != nil || first.r.code != 0 {
		t.Fatalf("the first run: %v exit %d\n%s", first.err, first.r.code, first.r.stderr)
	}
	ti, _ := e.Info().Tenant(emulator.Workforce)
	if err := convergence(e, ti.ID, m, dir); err != nil {
		t.Fatal(err)
	}
	if live, _ := tagged(e, ti.ID); len(live) != 1 || len(live[0].PasswordCredentials) != 1 {
		t.Fatalf("want one app with one secret, got %+v", live)
	}

	// Labs: a second provision of the same lab, and a reset, while one provision runs.
	labDir := t.TempDir()
	e.AddFault(emulator.Fault{Route: "graph.applications.upsert", Kind: emulator.FaultLatency, Delay: emulator.Duration(3 * time.Second), Times: 1})
	events := len(e.FaultEvents())
	labArgs := func(args ...string) []string {
		return append([]string{"lab"}, append(args, "--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--name", "rehearsal", "--yes", "--no-input")...)
	}
	provisionArgs := labArgs("provision", "--sample", "node-workforce", "--attendees", "2", "--dir", labDir)
	go func() {
		r, err := runBinary(bin, h, nil, provisionArgs...)
		firstDone <- res{r, err}
	}()
	waitUntil(t, func() bool { return len(e.FaultEvents()) > events })
	for _, args := range [][]string{provisionArgs, labArgs("reset")} {
		r, err := runBinary(bin, h, nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != ExitError || !strings.Contains(r.stderr, "working on the lab rehearsal") {
			t.Errorf("%v during a provision: exit %d, stderr:\n%s", args[:2], r.code, r.stderr)
		}
	}
	first = <-firstDone
	if first.err != nil || first.r.code != 0 {
		t.Fatalf("the lab provision: %v exit %d\n%s", first.err, first.r.code, first.r.stderr)
	}
}

// waitUntil polls cond until it holds; the bound only stops a hang.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
