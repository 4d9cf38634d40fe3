package shm

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestAtomicWords(t *testing.T) {
	a := newArena(t, 4096)
	l, h := a.Data()
	w32, err := a.Uint32(l + 4)
	must(t, "Uint32", err)
	w32.Store(5)
	if !w32.CompareAndSwap(5, 6) || w32.Add(1) != 7 || w32.Load() != 7 {
		t.Fatal("32-bit atomics")
	}
	w64, err := a.Uint64(l + 8)
	must(t, "Uint64", err)
	if w64.Add(1<<40) != 1<<40 || w64.Swap(3) != 1<<40 || w64.Load() != 3 {
		t.Fatal("64-bit atomics")
	}
	// The words are arena memory.
	b, err := a.Buffer(l, 16)
	must(t, "Buffer", err)
	v, _ := View[uint32](b)
	if v[1] != 7 || v[2] != 3 {
		t.Fatalf("words not in the arena: %v", v)
	}

	_, err = a.Uint32(l + 2)
	wantErr(t, "Uint32 misaligned", err, ErrAlignment)
	_, err = a.Uint64(l + 4)
	wantErr(t, "Uint64 misaligned", err, ErrAlignment)
	_, err = a.Uint32(h - 2)
	wantErr(t, "Uint32 past the end", err, ErrOutOfRange)
	_, err = a.Uint64(0)
	wantErr(t, "Uint64 in the header", err, ErrOutOfRange)
	if _, err := a.Uint64(h - 8); err != nil {
		t.Fatalf("last word: %v", err)
	}
}

// Counting from many goroutines through two mappings of one memfd: every
// increment lands.
func TestAtomicsAcrossMappings(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memfd is Linux only")
	}
	a, err := CreateMemfd(4096, Options{})
	must(t, "CreateMemfd", err)
	defer a.Close()
	b, err := OpenFile(a.File(), Options{})
	must(t, "OpenFile", err)
	defer b.Close()
	wa, _ := a.Uint64(lo(a))
	wb, _ := b.Uint64(lo(b))
	n := scaled(100000)
	var wg sync.WaitGroup
	for g := range 4 {
		w := wa
		if g%2 == 1 {
			w = wb
		}
		wg.Go(func() {
			for range n {
				w.Add(1)
			}
		})
	}
	wg.Wait()
	if got := wa.Load(); got != uint64(4*n) {
		t.Fatalf("count %d, want %d", got, 4*n)
	}
}

func TestWaitNotify(t *testing.T) {
	if !futexSupported {
		a := newArena(t, 4096)
		w, _ := a.Uint32(lo(a))
		wantErr(t, "Wait", Wait(context.Background(), w, 0), ErrUnsupported)
		_, err := Notify(w, 1)
		wantErr(t, "Notify", err, ErrUnsupported)
		t.Skip("no futex here")
	}
	a := newArena(t, 4096)
	w, _ := a.Uint32(lo(a))
	ctx := context.Background()

	// Not equal: returns at once.
	w.Store(1)
	must(t, "Wait on a changed word", Wait(ctx, w, 0))

	// Timed out.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := Wait(tctx, w, 1)
	cancel()
	wantErr(t, "Wait with a deadline", err, context.DeadlineExceeded)

	// Cancelled.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- Wait(cctx, w, 1) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	wantErr(t, "Wait cancelled", <-done, context.Canceled)

	// Woken by Notify: the waiter is asleep on the futex (it cannot see
	// the store, which keeps the same value), so only the wake ends it.
	for range 10 {
		go func() { done <- Wait(ctx, w, 1) }()
		var woke int
		for woke == 0 {
			time.Sleep(time.Millisecond)
			woke, err = Notify(w, 1)
			must(t, "Notify", err)
		}
		must(t, "woken Wait", <-done)
	}
	if n, err := Notify(w, 0); n != 0 || err != nil {
		t.Fatalf("Notify(0) = %d, %v", n, err)
	}
	if n, err := Notify(w, 5); n != 0 || err != nil {
		t.Fatalf("Notify with no waiter = %d, %v", n, err)
	}
}

// Wait and Notify as a semaphore handshake: every round's wake-up arrives,
// none is lost, however the two goroutines interleave.
func TestStressWaitNotifyHandshake(t *testing.T) {
	if !futexSupported {
		t.Skip("no futex here")
	}
	a := newArena(t, 4096)
	turn, _ := a.Uint32(lo(a)) // even: ping's turn; odd: pong's
	rounds := scaled(20000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitFor := func(want uint32) error {
		for {
			v := turn.Load()
			if v == want {
				return nil
			}
			if err := Wait(ctx, turn, v); err != nil {
				return err
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			if err := waitFor(uint32(2*i + 1)); err != nil {
				t.Error(err)
				return
			}
			turn.Add(1)
			Notify(turn, 1)
		}
	})
	for i := range rounds {
		turn.Add(1)
		Notify(turn, 1)
		if err := waitFor(uint32(2*i + 2)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("handshake timed out: a wake-up was lost")
	}
}
