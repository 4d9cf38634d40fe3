package sched

import (
	"context"
	"testing"
)

func fibJoinEvery(w *Worker, n int) int {
	if n < 2 {
		return n
	}
	var a, b int
	Join(w, func(w *Worker) { a = fibJoinEvery(w, n-1) }, func(w *Worker) { b = fibJoinEvery(w, n-2) })
	return a + b
}

// BenchmarkJoin reports the cost of one Join (fib with a Join at every
// call: fib(20) makes 10945 joins).
func BenchmarkJoin(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			s, err := New(Options{Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			const joins = 10945
			b.ResetTimer()
			f := Go(ctx, s, func(w *Worker) (int, error) {
				for range (b.N + joins - 1) / joins {
					fibJoinEvery(w, 20)
				}
				return 0, nil
			})
			if _, err := f.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkSubmit reports the cost of one tiny task submitted from outside
// and run.
func BenchmarkSubmit(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	task := func(*Worker) {}
	for b.Loop() {
		if err := s.Submit(ctx, task); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
}

// BenchmarkSubmitPinned is BenchmarkSubmit with pinned workers.
func BenchmarkSubmitPinned(b *testing.B) {
	s, err := New(Options{Pin: true})
	if err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	task := func(*Worker) {}
	for b.Loop() {
		if err := s.Submit(ctx, task); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
}
