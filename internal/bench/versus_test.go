package bench

import (
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
)

func TestDependentRounds(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(startMS, durMS int) emulator.RequestRecord {
		return emulator.RequestRecord{Time: t0.Add(time.Duration(startMS) * time.Millisecond), Duration: emulator.Duration(time.Duration(durMS) * time.Millisecond)}
	}
	for _, tc := range []struct {
		name string
		recs []emulator.RequestRecord
		want int
	}{
		{"none", nil, 0},
		{"one", []emulator.RequestRecord{at(0, 50)}, 1},
		{"strictly in sequence", []emulator.RequestRecord{at(0, 50), at(50, 50), at(101, 50), at(160, 50), at(215, 50)}, 5},
		{"two side by side count once", []emulator.RequestRecord{at(0, 50), at(51, 50), at(52, 50), at(110, 50)}, 3},
		{"a long call beside a short chain", []emulator.RequestRecord{at(0, 300), at(0, 50), at(60, 50), at(120, 50)}, 3},
		{"out of order in the log", []emulator.RequestRecord{at(120, 50), at(0, 50), at(60, 50)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DependentRounds(tc.recs); got != tc.want {
				t.Fatalf("DependentRounds = %d, want %d", got, tc.want)
			}
		})
	}
}
