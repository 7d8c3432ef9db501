package bench

import (
	"context"
	"testing"
	"time"
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
		l, err := RunLab(context.Background(), n, 100)
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
