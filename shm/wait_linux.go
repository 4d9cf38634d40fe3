package shm

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations, without FUTEX_PRIVATE_FLAG: the kernel keys the wait
// on the physical page, so that processes sharing the memory meet.
const (
	futexWait = 0
	futexWake = 1
)

const futexSupported = true

func wait(ctx context.Context, w *atomic.Uint32, expected uint32) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.Load() != expected {
			return nil
		}
		switch err := futexSleep(w, expected, sliceFor(ctx)); err {
		case nil, unix.EAGAIN: // woken, or the word changed first
			return nil
		case unix.ETIMEDOUT, unix.EINTR:
			// Look at the context and the word again.
		default:
			return fmt.Errorf("shm: futex wait: %w", err)
		}
	}
}

// futexSleep sleeps while *w == expected, for at most d (0: no limit).
func futexSleep(w *atomic.Uint32, expected uint32, d time.Duration) error {
	var ts *unix.Timespec
	if d > 0 {
		t := unix.NsecToTimespec(d.Nanoseconds())
		ts = &t
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait,
		uintptr(expected), uintptr(unsafe.Pointer(ts)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func notify(w *atomic.Uint32, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	n = min(n, 1<<31-1)
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0, fmt.Errorf("shm: futex wake: %w", errno)
	}
	return int(r), nil
}

// osYield gives this thread's CPU to another runnable thread, of any
// process (sched_yield).
func osYield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
