//go:build !linux

package shm

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

const futexSupported = false

func wait(ctx context.Context, w *atomic.Uint32, expected uint32) error {
	return fmt.Errorf("%w: Wait (no futex)", ErrUnsupported)
}

func notify(w *atomic.Uint32, n int) (int, error) {
	return 0, fmt.Errorf("%w: Notify (no futex)", ErrUnsupported)
}

// futexSleep has no futex to sleep on: it sleeps for a short while (the
// ring's waits poll the word between sleeps), at most d when d > 0.
func futexSleep(w *atomic.Uint32, expected uint32, d time.Duration) error {
	s := 200 * time.Microsecond
	if d > 0 {
		s = min(s, d)
	}
	time.Sleep(s)
	return nil
}

// osYield yields the processor to other goroutines.
func osYield() { runtime.Gosched() }
