package sched

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestBroadcastOncePerWorker(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		s, err := New(Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		// Load the workers with tasks while broadcasting.
		var tasks atomic.Int64
		for range 10000 {
			if err := s.Submit(ctx, func(*Worker) { tasks.Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
		rounds := 200
		if raceEnabled {
			rounds = 30
		}
		seen := make([]atomic.Int64, workers)
		for range rounds {
			if err := s.Broadcast(ctx, func(w *Worker) { seen[w.ID()].Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
		for id := range seen {
			if n := seen[id].Load(); n != int64(rounds) {
				t.Fatalf("workers=%d: worker %d received %d broadcasts, want %d", workers, id, n, rounds)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if tasks.Load() != 10000 {
			t.Fatalf("tasks ran %d", tasks.Load())
		}
	}
}

func TestBroadcastReachesParkedWorkers(t *testing.T) {
	s, err := New(Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Parked < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var n atomic.Int32
	if err := s.Broadcast(context.Background(), func(*Worker) { n.Add(1) }); err != nil || n.Load() != 2 {
		t.Fatalf("Broadcast: %v, %d calls", err, n.Load())
	}
}

func TestBroadcastErrors(t *testing.T) {
	s, err := New(Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Broadcast(ctx, nil); !errors.Is(err, ErrNilFunc) {
		t.Errorf("nil: %v", err)
	}
	err = s.Broadcast(ctx, func(w *Worker) {
		if w.ID() == 1 {
			panic("one worker fails")
		}
	})
	if !errors.Is(err, ErrPanic) {
		t.Errorf("panic: %v", err)
	}
	s.Close()
	if err := s.Broadcast(ctx, func(*Worker) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
