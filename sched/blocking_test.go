package sched

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlockingRunsEveryCall(t *testing.T) {
	s, err := New(Options{Workers: 2, MaxBlocking: 8, BlockingIdle: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const calls = 2000
	var ran [calls]atomic.Int32
	for i := range calls {
		if err := s.SubmitBlocking(ctx, func(context.Context) {
			if i%100 == 0 {
				time.Sleep(time.Millisecond) // let the pool grow and shrink
			}
			ran[i].Add(1)
		}); err != nil {
			t.Fatal(err)
		}
		if i%500 == 0 {
			time.Sleep(20 * time.Millisecond) // idle spells: goroutines end
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Fatalf("call %d ran %d times", i, n)
		}
	}
	if st := s.Stats(); st.BlockingDone != calls || st.BlockingGoroutines != 0 {
		t.Fatalf("stats after Close: %+v", st)
	}
}

func TestBlockingMaxGoroutines(t *testing.T) {
	s, err := New(Options{Workers: 1, MaxBlocking: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	release := make(chan struct{})
	var inside, most atomic.Int32
	var fs []*Future[int]
	for range 10 {
		fs = append(fs, GoBlocking(ctx, s, func(context.Context) (int, error) {
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			inside.Add(-1)
			return 1, nil
		}))
	}
	deadline := time.Now().Add(5 * time.Second)
	for inside.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for _, f := range fs {
		if v, err := f.Wait(ctx); v != 1 || err != nil {
			t.Fatalf("future: %v, %v", v, err)
		}
	}
	if m := most.Load(); m != 3 {
		t.Fatalf("at most %d calls ran at once, want 3 (MaxBlocking)", m)
	}
}

func TestAwaitBlockingFromTask(t *testing.T) {
	s, err := New(Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	f := Go(ctx, s, func(w *Worker) (int, error) {
		io := GoBlocking(ctx, s, func(context.Context) (int, error) {
			time.Sleep(10 * time.Millisecond) // long enough for the worker to park
			return 41, nil
		})
		v, err := Await(w, io)
		return v + 1, err
	})
	if v, err := f.Wait(ctx); v != 42 || err != nil {
		t.Fatalf("got %v, %v", v, err)
	}
	if st := s.Stats(); st.Parks == 0 {
		t.Errorf("the awaiting worker never parked: %+v", st)
	}
}

func TestBlockingErrors(t *testing.T) {
	s, err := New(Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.SubmitBlocking(ctx, nil); !errors.Is(err, ErrNilFunc) {
		t.Errorf("nil func: %v", err)
	}
	f := GoBlocking(ctx, s, func(context.Context) (int, error) { panic("boom") })
	if _, err := f.Wait(ctx); !errors.Is(err, ErrPanic) {
		t.Errorf("panic: %v", err)
	} else if pe := (*PanicError)(nil); !errors.As(err, &pe) || pe.Worker != -1 || pe.Value != "boom" {
		t.Errorf("panic error: %#v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	g := GoBlocking(cctx, s, func(context.Context) (int, error) { return 1, nil })
	if _, err := g.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SubmitBlocking(ctx, func(context.Context) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if st := s.Stats(); st.Panics != 1 {
		t.Errorf("panics = %d, want 1", st.Panics)
	}
	if _, err := New(Options{MaxBlocking: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("MaxBlocking -1: %v", err)
	}
	if _, err := New(Options{BlockingIdle: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("BlockingIdle -1: %v", err)
	}
}

func TestShutdownCancelsBlockingCalls(t *testing.T) {
	s, err := New(Options{Workers: 1, MaxBlocking: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	started := make(chan struct{})
	first := GoBlocking(ctx, s, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done() // ends only when Shutdown gives up
		return 0, ctx.Err()
	})
	<-started
	second := GoBlocking(ctx, s, func(context.Context) (int, error) { return 2, nil })
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	notRun, err := s.Shutdown(sctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := first.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("running call: %v", err)
	}
	if _, err := second.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("queued call: %v", err)
	}
	if notRun != 1 && s.Stats().NotRun != 1 {
		t.Errorf("notRun = %d (stats %d), want 1", notRun, s.Stats().NotRun)
	}
}
