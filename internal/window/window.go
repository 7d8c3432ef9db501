// Package window keeps the spending of a sliding time window, the way Graph counts its
// throttling budgets (facts/graph.md §8): the emulator charges requests with it, and the lab's
// governor books them before it sends them.
package window

import "time"

// Spend is one charge: its time and its cost (resource units, or 1 for a write).
type Spend struct {
	At   time.Time
	Cost int
}

// Log is the spending still in a window, oldest first. It is not safe for concurrent use: its
// owner holds the lock.
type Log []Spend

// Wait drops what has left the window (spent at or before now-window) and returns how long
// until cost more fits under limit: 0 when it fits now or when limit is 0 or less (no limit).
// A wait is never shorter than a millisecond, so a caller that sleeps it always moves on.
func (l *Log) Wait(cost, limit int, window time.Duration, now time.Time) time.Duration {
	l.prune(now.Add(-window))
	if limit <= 0 {
		return 0
	}
	need := l.Total() + cost - limit
	if need <= 0 {
		return 0
	}
	freed := 0
	for _, x := range *l {
		freed += x.Cost
		if freed >= need {
			return max(x.At.Add(window).Sub(now), time.Millisecond)
		}
	}
	return window
}

// Add books a charge.
func (l *Log) Add(at time.Time, cost int) { *l = append(*l, Spend{At: at, Cost: cost}) }

// Total is the cost still in the window.
func (l Log) Total() int {
	n := 0
	for _, x := range l {
		n += x.Cost
	}
	return n
}

func (l *Log) prune(after time.Time) {
	i := 0
	for i < len(*l) && !(*l)[i].At.After(after) {
		i++
	}
	*l = (*l)[i:]
}
