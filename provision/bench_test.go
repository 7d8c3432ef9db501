package provision

import (
	"context"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
)

// BenchmarkApply measures Apply's wall time for a new app with a secret when every Graph call
// takes a fixed latency, beside the theoretical minimum: dependent round trips x latency.
// Microsoft's Configure.ps1 scripts make 6 to 9 sequential calls for less (facts/samples.md §3);
// "sequential-ms" is what this tool's calls would cost made one after another.
func BenchmarkApply(b *testing.B) {
	for _, kind := range []samples.TenantType{Workforce, External} {
		for _, lat := range []time.Duration{20 * time.Millisecond, 50 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s/latency=%s", kind, lat), func(b *testing.B) {
				v := newEnv(b)
				eng := v.engine(kind)
				ctx := context.Background()
				// Warm the token cache and connections outside the timing.
				if _, err := eng.Plan(ctx, v.spec(kind, samples.Secret, "warm")); err != nil {
					b.Fatal(err)
				}
				v.e.AddFault(emulator.Fault{Route: "graph.*", Kind: emulator.FaultLatency, Delay: emulator.Duration(lat)})
				var total time.Duration
				var trips, calls int
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					plan, err := eng.Plan(ctx, v.spec(kind, samples.Secret, fmt.Sprint("bench", i)))
					if err != nil {
						b.Fatal(err)
					}
					before := len(v.e.Requests())
					b.StartTimer()
					start := time.Now()
					res, err := eng.Apply(ctx, plan)
					total += time.Since(start)
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					trips = res.RoundTrips
					calls = len(v.graphCalls(before))
					b.StartTimer()
				}
				b.StopTimer()
				per := total / time.Duration(b.N)
				b.ReportMetric(float64(per.Microseconds())/1000, "apply-ms")
				b.ReportMetric(float64((time.Duration(trips)*lat).Microseconds())/1000, "min-ms")
				b.ReportMetric(float64(trips), "round-trips")
				b.ReportMetric(float64(calls), "calls")
				b.ReportMetric(float64((time.Duration(calls)*lat).Microseconds())/1000, "sequential-ms")
			})
		}
	}
}
