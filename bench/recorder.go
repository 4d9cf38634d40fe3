package bench

import (
	"slices"
	"time"

	"github.com/loov/hrtime"
)

// Recorder collects per-operation durations in latency scenarios. Its
// buffer is sized before Run starts, so Lap does not allocate.
type Recorder struct {
	laps []time.Duration
}

// Now returns a high-resolution timestamp for a later Lap.
func (r *Recorder) Now() time.Duration { return hrtime.Now() }

// Lap records the operation that began at start (a value from Now).
func (r *Recorder) Lap(start time.Duration) {
	r.laps = append(r.laps, hrtime.Now()-start)
}

func (r *Recorder) reset(n int) {
	if cap(r.laps) < n {
		r.laps = make([]time.Duration, 0, n)
	}
	r.laps = r.laps[:0]
}

// Percentiles of one round's laps, in nanoseconds, with the timer's own
// overhead subtracted (never below zero).
type Percentiles struct {
	P50, P90, P99, P999, Max float64
}

func (r *Recorder) percentiles(overhead time.Duration) Percentiles {
	if len(r.laps) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(r.laps)
	slices.Sort(s)
	at := func(q float64) float64 {
		d := s[min(len(s)-1, int(q*float64(len(s))))] - overhead
		return float64(max(d, 0))
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: at(1)}
}
