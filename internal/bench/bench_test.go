package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// BenchmarkSingleApp is the single-app row of the table: Apply for a new app with a fixed
// latency per Graph and token call, beside the minimum (dependent round trips x latency) and
// the sample's Configure.ps1 call sequence replayed against the same emulator. One op is one
// Apply and one replay.
func BenchmarkSingleApp(b *testing.B) {
	for _, sample := range []string{"node-workforce", "node-external"} {
		b.Run(sample, func(b *testing.B) {
			s, err := RunSingleApp(context.Background(), sample, 50*time.Millisecond, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(s.Apply.Microseconds())/1000, "apply-ms")
			b.ReportMetric(float64(s.Minimum().Microseconds())/1000, "min-ms")
			b.ReportMetric(float64(s.Script.Microseconds())/1000, "configure.ps1-ms")
			b.ReportMetric(float64(s.ScriptCall), "configure.ps1-calls")
			b.ReportMetric(s.Apply.Seconds()/s.Minimum().Seconds(), "apply/min")
			b.ReportMetric(s.Script.Seconds()/s.Apply.Seconds(), "configure.ps1/apply")
		})
	}
}

// BenchmarkLab is the lab row: attendees under the emulator enforcing Graph's documented
// budgets with counts and windows divided by 100 (Graph's rates, small bursts). -short runs
// 20 attendees instead of 100.
func BenchmarkLab(b *testing.B) {
	n := 100
	if testing.Short() {
		n = 20
	}
	for range b.N {
		l, err := RunLab(context.Background(), n, 100, 0)
		if err != nil {
			b.Fatal(err)
		}
		if l.Failed > 0 {
			b.Fatalf("%d attendees failed", l.Failed)
		}
		b.ReportMetric(l.WritesPerSecond(), "writes/s")
		b.ReportMetric(l.Fraction(), "of-budget")
		b.ReportMetric(float64(l.Throttled), "429s")
		b.ReportMetric(l.Elapsed.Seconds(), "s")
	}
}

// BenchmarkLabKeyCredentials is the lab row under the keyCredentials budget: aspnet-workforce
// (a certificate), whose attendees read their app's keyCredentials, against the emulator
// enforcing Graph's 150 such reads a minute (scaled as the other budgets): every attendee
// provisioned, and no 429 of that limit.
func BenchmarkLabKeyCredentials(b *testing.B) {
	n := 100
	if testing.Short() {
		n = 20
	}
	for range b.N {
		l, err := RunLabSample(context.Background(), "aspnet-workforce", n, 100, 0)
		if err != nil {
			b.Fatal(err)
		}
		if l.Failed > 0 || l.KeyThrottled > 0 || l.KeyReads < n {
			b.Fatalf("%d attendees failed, %d key reads, %d of them answered 429", l.Failed, l.KeyReads, l.KeyThrottled)
		}
		b.ReportMetric(float64(l.KeyReads), "key-reads")
		b.ReportMetric(float64(l.Throttled), "429s")
		b.ReportMetric(l.Elapsed.Seconds(), "s")
	}
}

// BenchmarkApplyUnderLag is the rows of Apply under 2 s and 10 s of replication lag, beside
// the dependency-chain minimum (two lags plus Apply's round trips with no lag). -short uses
// 200 ms so that the harness runs in CI; one op is the pair of measurements.
func BenchmarkApplyUnderLag(b *testing.B) {
	lags := []time.Duration{2 * time.Second, 10 * time.Second}
	if testing.Short() {
		lags = []time.Duration{200 * time.Millisecond}
	}
	for _, lag := range lags {
		b.Run(lag.String(), func(b *testing.B) {
			for range b.N {
				a, err := RunApplyUnderLag(context.Background(), "node-workforce", lag, 1)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(a.Apply.Seconds(), "s")
				b.ReportMetric(a.Apply.Seconds()/a.Minimum().Seconds(), "x-minimum")
				b.ReportMetric(float64(a.Calls), "calls")
			}
		})
	}
}

// BenchmarkBinary is the journey and binary rows, on the tool built once as `make build`
// builds it. journey: process start to a passed sign-in check with `init --emulator --no-input
// --auto-sign-in`, a fresh config folder each time (one op is one journey). help: the time of
// `entra-quickstart --help` (one op is one run), and the binary's size.
func BenchmarkBinary(b *testing.B) {
	dir, err := os.MkdirTemp("", "eq-bench-bin-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := Build(context.Background(), testenv.RepoRoot(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("journey", func(b *testing.B) {
		j, err := RunJourney(context.Background(), bin, b.N)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(j.Median.Microseconds())/1000, "median-ms")
	})
	b.Run("help", func(b *testing.B) {
		r, err := RunBinary(context.Background(), bin, b.N)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.HelpMedian.Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(r.Size)/1e6, "MB")
	})
}
