package sched

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errBoom = errors.New("boom")

func TestPanicBecomesError(t *testing.T) {
	var (
		mu      sync.Mutex
		handled []any
	)
	s := newTest(t, Options{Workers: 2, PanicHandler: func(worker int, v any, stack []byte) {
		mu.Lock()
		defer mu.Unlock()
		if len(stack) == 0 {
			t.Errorf("PanicHandler: empty stack")
		}
		handled = append(handled, v)
	}})
	ctx := context.Background()

	_, err := Go(ctx, s, func(*Worker) (int, error) { panic(errBoom) }).Wait(ctx)
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("err = %v, want ErrPanic", err)
	}
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v: does not unwrap to the panic value", err)
	}
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != errBoom || !strings.Contains(string(pe.Stack), "panic_test.go") {
		t.Fatalf("PanicError = %+v", pe)
	}

	// A panic in a Submit task, and in the stolen or local half of a Join.
	if err := s.Submit(ctx, func(*Worker) { panic("plain") }); err != nil {
		t.Fatal(err)
	}
	_, err = Go(ctx, s, func(w *Worker) (int, error) {
		Join(w, func(*Worker) {}, func(*Worker) { panic("half") })
		return 0, nil
	}).Wait(ctx)
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "half") {
		t.Fatalf("Join half: err = %v", err)
	}
	_, err = Go(ctx, s, func(w *Worker) (int, error) {
		return 0, ParallelFor(ctx, w, 0, 100, 1, func(_ *Worker, lo, _ int) {
			if lo == 57 {
				panic("chunk 57")
			}
		})
	}).Wait(ctx)
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "chunk 57") {
		t.Fatalf("ParallelFor: err = %v", err)
	}

	// A plain error is a failure, not a panic.
	if _, err := Go(ctx, s, func(*Worker) (int, error) { return 0, errBoom }).Wait(ctx); err != errBoom {
		t.Fatalf("err = %v, want errBoom as it is", err)
	}

	// The scheduler keeps working on replaced workers.
	var ran atomic.Int64
	for range 1000 {
		if err := s.Submit(ctx, func(*Worker) { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Go(ctx, s, func(w *Worker) (int, error) { return fibEvery(w, 15), nil }).Wait(ctx)
	if err != nil || got != 610 {
		t.Fatalf("after panics: fib(15) = %d, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 1000 {
		t.Fatalf("after panics: %d of 1000 tasks ran", ran.Load())
	}
	st := s.Stats()
	if st.Panics != 4 {
		t.Fatalf("Stats.Panics = %d, want 4", st.Panics)
	}
	if st.Failed != 4 { // three futures that panicked, one that returned an error
		t.Fatalf("Stats.Failed = %d, want 4", st.Failed)
	}
	if st.Replaced != 4 {
		t.Fatalf("Stats.Replaced = %d, want 4 (one per panicking task)", st.Replaced)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 4 {
		t.Fatalf("PanicHandler called %d times, want 4: %v", len(handled), handled)
	}
}

func TestPanicInBlockingCall(t *testing.T) {
	var calls atomic.Int32
	s := newTest(t, Options{Workers: 1, PanicHandler: func(worker int, _ any, _ []byte) {
		if worker != -1 {
			t.Errorf("PanicHandler worker = %d, want -1 for a blocking call", worker)
		}
		calls.Add(1)
	}})
	ctx := context.Background()
	_, err := GoBlocking(ctx, s, func(context.Context) (int, error) { panic("io") }).Wait(ctx)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Worker != -1 {
		t.Fatalf("err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || s.Stats().Panics != 1 {
		t.Fatalf("handler calls %d, Stats.Panics %d", calls.Load(), s.Stats().Panics)
	}
}

func TestStuckTask(t *testing.T) {
	s := newTest(t, Options{Workers: 2, StuckAfter: 20 * time.Millisecond})
	release := make(chan struct{})
	started := make(chan struct{})
	if err := s.Submit(context.Background(), func(*Worker) {
		close(started)
		<-release // a task that does not return (for the test's purposes)
	}); err != nil {
		t.Fatal(err)
	}
	<-started
	waitFor(t, "Stats.Stuck == 1", func() bool { return s.Stats().Stuck == 1 })
	close(release)
	waitFor(t, "Stats.Stuck == 0", func() bool { return s.Stats().Stuck == 0 })
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
