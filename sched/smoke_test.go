package sched

import (
	"context"
	"sync/atomic"
	"testing"
)

func fib(w *Worker, n int) int {
	if n < 2 {
		return n
	}
	if n < 12 {
		return fib(w, n-1) + fib(w, n-2)
	}
	var a, b int
	Join(w, func(w *Worker) { a = fib(w, n-1) }, func(w *Worker) { b = fib(w, n-2) })
	return a + b
}

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	for _, workers := range []int{1, 2, 8} {
		s, err := New(Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var n atomic.Int64
		const tasks = 200_000
		for range tasks {
			if err := s.Submit(ctx, func(*Worker) { n.Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
		f := Go(ctx, s, func(w *Worker) (int, error) { return fib(w, 25), nil })
		v, err := f.Wait(ctx)
		if err != nil || v != 75025 {
			t.Fatalf("fib = %d, %v", v, err)
		}
		sum := make([]int64, 1<<16)
		if err := ParallelFor(ctx, s, 0, len(sum), 0, func(_ *Worker, lo, hi int) {
			for i := lo; i < hi; i++ {
				sum[i] = int64(i)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := n.Load(); got != tasks {
			t.Fatalf("workers=%d: %d tasks ran, want %d", workers, got, tasks)
		}
		for i, v := range sum {
			if v != int64(i) {
				t.Fatalf("ParallelFor skipped index %d", i)
			}
		}
		st := s.Stats()
		t.Logf("workers=%d: %+v", workers, st)
	}
}
