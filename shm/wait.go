package shm

import (
	"context"
	"sync/atomic"
	"time"
)

// maxWaitSlice bounds one sleep of Wait when its context can be cancelled
// (the futex cannot be interrupted by the context, so Wait wakes up this
// often to look at it): a cancellation is noticed within this long.
const maxWaitSlice = 10 * time.Millisecond

// Wait sleeps while *w holds expected, until a Notify on w, the context's
// end, or — rarely — a spurious wake-up: the Atomics.wait of the guide. It
// works across processes when w is a word of a shared arena (Arena.Uint32):
// on Linux it is a futex wait without the private flag, keyed on the
// physical page, so a Notify from another process that maps the same
// memory wakes it.
//
// It returns nil when woken or when *w no longer holds expected (callers
// recheck their condition in a loop, as with any futex), and ctx.Err()
// when the context ends first. Outside Linux it returns ErrUnsupported.
func Wait(ctx context.Context, w *atomic.Uint32, expected uint32) error {
	return wait(ctx, w, expected)
}

// Notify wakes up to n goroutines (of any process) sleeping in Wait on w,
// and returns how many it woke. n ≤ 0 wakes none. Outside Linux it returns
// ErrUnsupported.
func Notify(w *atomic.Uint32, n int) (int, error) {
	return notify(w, n)
}

// sliceFor returns how long the next sleep of a wait under ctx may last:
// forever (0) for a context that never ends, else until the deadline, but
// never more than maxWaitSlice.
func sliceFor(ctx context.Context) time.Duration {
	if ctx.Done() == nil {
		return 0
	}
	d := maxWaitSlice
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return max(d, time.Microsecond)
}
