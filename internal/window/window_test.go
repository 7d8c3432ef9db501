package window

import (
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name      string
		log       Log
		cost      int
		limit     int
		window    time.Duration
		now       time.Time
		want      time.Duration
		wantTotal int // what is left in the window after Wait
	}{
		{"empty log fits", nil, 5, 10, time.Second, at(0), 0, 0},
		{"no limit", Log{{at(0), 100}}, 5, 0, time.Second, at(10), 0, 100},
		{"fits exactly", Log{{at(0), 5}}, 5, 10, time.Second, at(10), 0, 5},
		{"over: the oldest must leave", Log{{at(0), 6}, {at(100), 4}}, 1, 10, time.Second, at(200), 800 * time.Millisecond, 10},
		{"over: two must leave", Log{{at(0), 3}, {at(100), 3}, {at(300), 4}}, 4, 10, time.Second, at(400), 700 * time.Millisecond, 10},
		{"expired spends are dropped", Log{{at(0), 10}, {at(500), 2}}, 8, 10, time.Second, at(1000), 0, 2},
		{"a spend exactly at the edge has left", Log{{at(0), 10}}, 1, 10, time.Second, at(1000), 0, 0},
		{"never less than a millisecond", Log{{at(0), 10}}, 1, 10, time.Second, at(1000).Add(-time.Microsecond), time.Millisecond, 10},
		{"cost above the limit waits a whole window", Log{{at(0), 1}}, 20, 10, time.Second, at(0), time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := append(Log(nil), tt.log...)
			if got := l.Wait(tt.cost, tt.limit, tt.window, tt.now); got != tt.want {
				t.Errorf("Wait = %v, want %v", got, tt.want)
			}
			if got := l.Total(); got != tt.wantTotal {
				t.Errorf("Total after Wait = %d, want %d", got, tt.wantTotal)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var l Log
	for i := range 3 {
		l.Add(t0.Add(time.Duration(i)*time.Second), 4)
	}
	if got := l.Total(); got != 12 {
		t.Fatalf("Total = %d, want 12", got)
	}
	// At t0+2.5s with a 2 s window only the last two are in; 2 more fits under 10, 3 does not.
	now := t0.Add(2500 * time.Millisecond)
	if w := l.Wait(2, 10, 2*time.Second, now); w != 0 {
		t.Errorf("Wait(2) = %v, want 0", w)
	}
	if w := l.Wait(3, 10, 2*time.Second, now); w != 500*time.Millisecond {
		t.Errorf("Wait(3) = %v, want 500ms (the spend at 1 s leaves at 3 s)", w)
	}
}
