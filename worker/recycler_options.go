package worker

import (
	"fmt"
	"runtime"
	"time"
)

// RecyclerOptions configure a Recycler. The zero value allows
// runtime.GOMAXPROCS(0) workers and never recycles one: every limit below
// is off at zero.
type RecyclerOptions struct {
	// MaxWorkers is how many workers may exist at once, on loan or idle
	// (0: GOMAXPROCS). Acquire waits when all of them are on loan.
	MaxWorkers int
	// MaxTasks retires a worker after this many tasks (releases).
	MaxTasks int
	// MaxAge retires a worker this long after it was made: at its release
	// or, when idle, at the next check.
	MaxAge time.Duration
	// MaxIdle retires a worker idle for this long.
	MaxIdle time.Duration
	// HeapLimit, in bytes, is compared with the process's live Go heap,
	// read from runtime/metrics (/gc/heap/live:bytes: what the last GC
	// found reachable). While the heap is over it, the recycler retires
	// one worker per GC cycle — the next released, or an idle one at a
	// check — so that each retirement is measured before the next.
	HeapLimit int64
	// HeapLimitFraction, in (0, 1], sets the heap limit to this fraction
	// of the runtime's soft memory limit (debug.SetMemoryLimit or
	// GOMEMLIMIT, read at every sample), while one is set. With HeapLimit
	// also set, the lower limit applies. The soft limit bounds all the
	// memory of the Go runtime and makes the GC work harder as the
	// process nears it; a fraction of it (0.7–0.8) makes the recycler
	// shed worker state before the GC starts to thrash.
	HeapLimitFraction float64
	// StateLimit, in bytes, retires at release a worker whose state (a
	// MemorySizer) reports more. States that do not implement MemorySizer
	// are not measured; NewRecycler cannot always tell, so Acquire fails
	// with ErrInvalidOptions for such a state when StateLimit is set.
	StateLimit int64
	// CheckInterval is the period of the background check that retires
	// idle workers past MaxIdle, MaxAge or the heap limit (0: a quarter
	// of the shortest of MaxIdle and MaxAge, at least 1ms; 100ms for the
	// heap limit alone). No check runs when none of them is set.
	CheckInterval time.Duration
}

func (o *RecyclerOptions) validate() error {
	switch {
	case o.MaxWorkers < 0:
		return fmt.Errorf("%w: MaxWorkers = %d", ErrInvalidOptions, o.MaxWorkers)
	case o.MaxTasks < 0:
		return fmt.Errorf("%w: MaxTasks = %d", ErrInvalidOptions, o.MaxTasks)
	case o.MaxAge < 0:
		return fmt.Errorf("%w: MaxAge = %v", ErrInvalidOptions, o.MaxAge)
	case o.MaxIdle < 0:
		return fmt.Errorf("%w: MaxIdle = %v", ErrInvalidOptions, o.MaxIdle)
	case o.HeapLimit < 0:
		return fmt.Errorf("%w: HeapLimit = %d", ErrInvalidOptions, o.HeapLimit)
	case o.HeapLimitFraction < 0 || o.HeapLimitFraction > 1 || o.HeapLimitFraction != o.HeapLimitFraction:
		return fmt.Errorf("%w: HeapLimitFraction = %v, want (0, 1]", ErrInvalidOptions, o.HeapLimitFraction)
	case o.StateLimit < 0:
		return fmt.Errorf("%w: StateLimit = %d", ErrInvalidOptions, o.StateLimit)
	case o.CheckInterval < 0:
		return fmt.Errorf("%w: CheckInterval = %v", ErrInvalidOptions, o.CheckInterval)
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = runtime.GOMAXPROCS(0)
	}
	if o.CheckInterval == 0 {
		var shortest time.Duration
		for _, d := range []time.Duration{o.MaxIdle, o.MaxAge} {
			if d > 0 && (shortest == 0 || d < shortest) {
				shortest = d
			}
		}
		switch {
		case shortest > 0:
			o.CheckInterval = max(shortest/4, time.Millisecond)
		case o.HeapLimit > 0 || o.HeapLimitFraction > 0:
			o.CheckInterval = 100 * time.Millisecond
		}
	}
	return nil
}
