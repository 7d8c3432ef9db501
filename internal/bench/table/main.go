// Command table prints the benchmark table of BENCHMARKS.md: `make bench` runs it.
//
//	go run ./internal/bench/table [-short] [-bin bin/entra-quickstart]
//
// Everything runs on loopback against the emulator in this process (the journey starts the
// built binary, which runs its own). -short is the CI smoke run: fewer runs and attendees, so
// the harness cannot rot; its numbers mean little.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/bench"
)

func main() {
	short := flag.Bool("short", false, "a quick smoke run (CI): fewer runs and attendees")
	bin := flag.String("bin", "", "the built binary (default: build one into a temporary folder)")
	latency := flag.Duration("latency", 50*time.Millisecond, "added latency per Graph and token call for the single-app rows")
	attendees := flag.Int("attendees", 100, "attendees in the lab row")
	scale := flag.Int("scale", 100, "divide the documented throttling budget's counts and windows by this")
	runs := flag.Int("runs", 5, "runs per single-app measurement and journey")
	helpRuns := flag.Int("help-runs", 20, "runs of --help")
	flag.Parse()
	if *short {
		*attendees, *runs, *helpRuns = min(*attendees, 20), 1, 3
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, *bin, *latency, *attendees, *scale, *runs, *helpRuns, *short); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ what, result, reference, ratio, notes string }

func run(ctx context.Context, out, log io.Writer, bin string, latency time.Duration, attendees, scale, runs, helpRuns int, short bool) error {
	if bin == "" {
		tmp, err := os.MkdirTemp("", "eq-bench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		fmt.Fprintln(log, "building the binary…")
		if bin, err = bench.Build(ctx, root, tmp); err != nil {
			return err
		}
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	var rows []row
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

	for _, sample := range []string{"node-workforce", "node-external"} {
		fmt.Fprintf(log, "single app: %s…\n", sample)
		s, err := bench.RunSingleApp(ctx, sample, latency, runs)
		if err != nil {
			return fmt.Errorf("single app %s: %w", sample, err)
		}
		rows = append(rows,
			row{fmt.Sprintf("single app, %s: Apply (%s per Graph and token call)", sample, ms(latency)), ms(s.Apply),
				fmt.Sprintf("minimum %d round trips × %s = %s", s.RoundTrips, ms(latency), ms(s.Minimum())),
				fmt.Sprintf("%.2f× the minimum", s.Apply.Seconds()/s.Minimum().Seconds()),
				fmt.Sprintf("%d Graph calls in %d dependent rounds; Plan + Apply %s; median of %d", s.ApplyCalls, s.RoundTrips, ms(s.PlanApply), s.Runs)},
			row{fmt.Sprintf("same app by Configure.ps1's call sequence, %s", sample), ms(s.Script),
				"Apply " + ms(s.Apply), fmt.Sprintf("Apply is %.2f× faster", s.Script.Seconds()/s.Apply.Seconds()),
				fmt.Sprintf("%d calls one after another, replayed over plain HTTP (facts/samples.md §3); no consent, no user-flow link", s.ScriptCall)})
	}

	vrows, err := versusRows(ctx, log, bin, runs, short)
	if err != nil {
		return err
	}
	rows = append(rows, vrows...)

	lags := []time.Duration{2 * time.Second, 10 * time.Second}
	lagRuns := min(runs, 3)
	if short {
		lags = []time.Duration{200 * time.Millisecond}
	}
	for _, sample := range []string{"node-workforce", "node-external"} {
		for _, lag := range lags {
			fmt.Fprintf(log, "apply under %s of replication lag: %s…\n", lag, sample)
			a, err := bench.RunApplyUnderLag(ctx, sample, lag, lagRuns)
			if err != nil {
				return fmt.Errorf("apply under lag %s: %w", sample, err)
			}
			rows = append(rows, row{fmt.Sprintf("single app, %s: Apply under %s of replication lag (no added latency)", sample, lag), ms(a.Apply),
				fmt.Sprintf("minimum %d lags + Apply's round trips (%s with no lag) = %s", bench.LagsOnChain, ms(a.NoLag), ms(a.Minimum())),
				fmt.Sprintf("%.2f× the minimum", a.Apply.Seconds()/a.Minimum().Seconds()),
				fmt.Sprintf("%d Graph calls, retries included (the last run); median of %d", a.Calls, a.Runs)})
		}
	}

	var labs []bench.LabRun
	for _, lag := range []time.Duration{0, lags[0]} {
		fmt.Fprintf(log, "lab: %d attendees, %s of replication lag…\n", attendees, lag)
		l, err := bench.RunLab(ctx, attendees, scale, lag)
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		labs = append(labs, l)
		lagNote := ""
		if lag > 0 {
			lagNote = fmt.Sprintf(", %s of replication lag", lag)
		}
		rows = append(rows, row{
			fmt.Sprintf("lab: %d attendees, Graph's write budget (3,000 / 150 s) and RU budget (3,500 / 10 s), counts and windows ÷ %d%s", attendees, scale, lagNote),
			fmt.Sprintf("%d writes in %.1f s = %.1f writes/s", l.Writes, l.Elapsed.Seconds(), l.WritesPerSecond()),
			fmt.Sprintf("budget %.0f writes/s (%d per %s)", l.Budget.WritesPerSecond(), l.Budget.Writes, l.Budget.WriteWindow),
			fmt.Sprintf("%.2f of the budget", l.Fraction()),
			fmt.Sprintf("failures: %d; 429s: %d; the budget allows these writes in %.1f s at best (the first window's burst, then its rate): %.0f %% of that pace", l.Failed, l.Throttled, l.Best().Seconds(), 100*l.Best().Seconds()/l.Elapsed.Seconds())})
	}

	fmt.Fprintf(log, "lab: %d attendees, aspnet-workforce (a certificate), keyCredentials budget…\n", attendees)
	kl, err := bench.RunLabSample(ctx, "aspnet-workforce", attendees, scale, 0)
	if err != nil {
		return fmt.Errorf("lab (certificate): %w", err)
	}
	labs = append(labs, kl)
	rows = append(rows, row{
		fmt.Sprintf("lab: %d attendees, aspnet-workforce (a certificate), also under Graph's 150 reads a minute that select keyCredentials (÷ %d; the other budgets ÷ %d)", attendees, min(scale, 10), scale),
		fmt.Sprintf("%d attendees in %.1f s", attendees-kl.Failed, kl.Elapsed.Seconds()),
		fmt.Sprintf("%d keyCredentials reads at most %d per %s", kl.KeyReads, kl.Budget.KeyCredentialReads, kl.Budget.KeyCredentialWindow),
		"",
		fmt.Sprintf("failures: %d; 429s answered: %d (of the keyCredentials limit: %d); writes %d", kl.Failed, kl.Throttled, kl.KeyThrottled, kl.Writes)})

	fmt.Fprintln(log, "journey…")
	j, err := bench.RunJourney(ctx, bin, runs)
	if err != nil {
		return fmt.Errorf("journey: %w", err)
	}
	rows = append(rows, row{"journey: process start to a passed sign-in check (init --emulator --no-input --auto-sign-in, node-workforce)",
		ms(j.Median), "", "", fmt.Sprintf("median of %d, fastest %s; fresh ENTRA_QUICKSTART_HOME each (the emulator's first start included); no added latency", j.Runs, ms(j.Min))})

	for _, lag := range lags {
		fmt.Fprintf(log, "journey under %s of replication lag…\n", lag)
		jl, err := bench.RunJourneyUnderLag(ctx, bin, "node-workforce", lag, lagRuns)
		if err != nil {
			return fmt.Errorf("journey under lag: %w", err)
		}
		rows = append(rows, row{fmt.Sprintf("journey under %s of replication lag (init --emulator-url --auto-sign-in, node-workforce)", lag), ms(jl.Under),
			fmt.Sprintf("minimum %d lags + the journey with no lag (%s) = %s", bench.JourneyLagsOnChain, ms(jl.NoLag), ms(jl.Minimum())),
			fmt.Sprintf("%.2f× the minimum", jl.Under.Seconds()/jl.Minimum().Seconds()),
			fmt.Sprintf("median of %d each; one emulator started before the runs", jl.Runs)})
	}

	fmt.Fprintln(log, "binary…")
	b, err := bench.RunBinary(ctx, bin, helpRuns)
	if err != nil {
		return err
	}
	rows = append(rows,
		row{"binary size", fmt.Sprintf("%.1f MB", float64(b.Size)/1e6), "", "", runtime.GOOS + "/" + runtime.GOARCH},
		row{"start-up: entra-quickstart --help", ms(b.HelpMedian), "", "", fmt.Sprintf("median of %d", b.Runs)})

	fmt.Fprintf(out, "entra-quickstart benchmarks: %s; %s; %d CPUs (%s)%s\n\n", time.Now().UTC().Format(time.DateOnly), runtime.Version(), runtime.NumCPU(), cpuModel(),
		map[bool]string{true: "; -short: smoke run, not for comparison"}[short])
	fmt.Fprintln(out, "| measurement | result | reference | ratio | notes |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", r.what, r.result, r.reference, r.ratio, r.notes)
	}
	for _, l := range labs {
		if l.Failed > 0 {
			return fmt.Errorf("the lab of %s under %s of lag had %d failures", l.Sample, l.Lag, l.Failed)
		}
		if l.KeyThrottled > 0 {
			return fmt.Errorf("the lab of %s had %d 429s of the keyCredentials limit: the governor let reads through over it", l.Sample, l.KeyThrottled)
		}
	}
	return nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// moduleRoot finds go.mod upwards from the working folder.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("no go.mod above the working folder: run from the repository, or pass -bin")
		}
		d = p
	}
}

// versusRows is the side-by-side row: the same job by the CLI for Microsoft 365 and by our tool
// against one emulator per configuration (latency per call, service principals in the tenant,
// replication lag), every tool's runs interleaved. -short runs one configuration once.
func versusRows(ctx context.Context, log io.Writer, bin string, runs int, short bool) ([]row, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	p, err := bench.FindM365(root)
	if err != nil {
		return nil, err
	}
	type config struct {
		latency time.Duration
		sps     int
		lag     time.Duration
	}
	configs := []config{{0, 2, 0}, {50 * time.Millisecond, 2, 0}, {0, 500, 0}, {50 * time.Millisecond, 500, 0}, {0, 2, 2 * time.Second}}
	if short {
		configs = configs[:1]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	var rows []row
	for _, c := range configs {
		fmt.Fprintf(log, "versus m365: %s per call, %d service principals, %s of lag…\n", c.latency, c.sps, c.lag)
		vs, err := bench.RunVersus(ctx, p, bin, c.latency, c.sps, c.lag, runs)
		if err != nil {
			return nil, fmt.Errorf("versus m365: %w", err)
		}
		where := fmt.Sprintf("%s per call, %d service principals", ms(c.latency), c.sps)
		if c.lag > 0 {
			where += fmt.Sprintf(", %s of replication lag", c.lag)
		}
		for _, pair := range [][2]bench.ToolRun{{vs.M365, vs.Apply}, {vs.M365Login, vs.Init}} {
			them, us := pair[0], pair[1]
			ratio := "n/a"
			switch {
			case them.Median > 0 && us.Median > 0:
				ratio = fmt.Sprintf("ours %.2f× faster", them.Median.Seconds()/us.Median.Seconds())
				if us.Median > them.Median {
					ratio = fmt.Sprintf("ours %.2f× slower", us.Median.Seconds()/them.Median.Seconds())
				}
			case us.Median > 0:
				ratio = "only ours finished"
			}
			for _, t := range []bench.ToolRun{them, us} {
				result := ms(t.Median)
				if t.Median == 0 {
					result = "failed"
				}
				rounds := fmt.Sprintf("in %d dependent rounds", t.Rounds)
				if c.latency == 0 {
					rounds = "(rounds: see the 50 ms rows; with no latency side-by-side calls rarely overlap)"
				}
				note := fmt.Sprintf("%d calls (%d Graph) %s; %d/%d finished", t.Calls, t.Graph, rounds, t.Runs-t.Failures, t.Runs)
				if t.Failures > 0 {
					note += fmt.Sprintf("; a failed run left: %s (%s)", t.Left, strings.ReplaceAll(t.Err, "|", "/"))
				}
				ref, rat := "", ""
				if t.Tool == us.Tool {
					theirs := ms(them.Median)
					if them.Median == 0 {
						theirs = "failed every run"
					}
					ref, rat = them.Tool+" "+theirs, ratio
				}
				rows = append(rows, row{fmt.Sprintf("same job side by side, %s: %s", where, t.Tool), result, ref, rat, note})
			}
		}
	}
	return rows, nil
}
