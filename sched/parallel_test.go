package sched

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"runtime/pprof"
	"sync/atomic"
	"testing"
)

// floats returns n values whose sum depends on the order of addition.
func floats(n int) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(12)))
	}
	return xs
}

func TestReduceOrderedDeterministic(t *testing.T) {
	xs := floats(scaled(1 << 20))
	const chunk = 1000
	// The reference: the same chunks, folded and combined in order, on
	// one goroutine.
	var want float64
	for lo := 0; lo < len(xs); lo += chunk {
		var a float64
		for _, x := range xs[lo:min(lo+chunk, len(xs))] {
			a += x
		}
		want += a
	}
	var flat float64
	for _, x := range xs {
		flat += x
	}
	if flat == want {
		t.Fatal("test data: the sum does not depend on grouping, so the test would prove nothing")
	}
	ctx := context.Background()
	add := func(a, b float64) float64 { return a + b }
	zero := func() float64 { return 0 }
	for _, workers := range []int{1, 2, 8} {
		s := newTest(t, Options{Workers: workers})
		for run := range 20 {
			// Keep other work queued, so chunks are stolen in a different
			// pattern every run.
			for range 64 {
				if err := s.Submit(ctx, func(*Worker) { sink.Add(tiny(uint64(run))) }); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReduceOrdered(ctx, s, xs, chunk, zero, add, add)
			if err != nil {
				t.Fatal(err)
			}
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("workers=%d run %d: sum %v (%#x), want %v (%#x) bit for bit",
					workers, run, got, math.Float64bits(got), want, math.Float64bits(want))
			}
		}
	}
}

// sink keeps tiny's results, so the work cannot be removed.
var sink atomic.Uint64

//go:noinline
func tiny(x uint64) uint64 {
	for range 16 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func TestReduceAndMap(t *testing.T) {
	n := scaled(1 << 18)
	in := make([]int64, n)
	for i := range in {
		in[i] = int64(i)
	}
	want := int64(n) * int64(n-1) / 2
	ctx := context.Background()
	for _, workers := range []int{1, 2, 8} {
		s := newTest(t, Options{Workers: workers})
		sum, err := Reduce(ctx, s, in, func() int64 { return 0 },
			func(a, x int64) int64 { return a + x },
			func(a, b int64) int64 { return a + b })
		if err != nil || sum != want {
			t.Fatalf("workers=%d: Reduce = %d, %v; want %d", workers, sum, err, want)
		}
		sq, err := Map(ctx, s, in, func(x int64) int64 { return x * x })
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range sq {
			if v != in[i]*in[i] {
				t.Fatalf("workers=%d: Map[%d] = %d", workers, i, v)
			}
		}
		// From inside a task.
		got, err := Go(ctx, s, func(w *Worker) (int64, error) {
			return Reduce(ctx, w, in, func() int64 { return 0 },
				func(a, x int64) int64 { return a + x },
				func(a, b int64) int64 { return a + b })
		}).Wait(ctx)
		if err != nil || got != want {
			t.Fatalf("workers=%d: Reduce inside a task = %d, %v", workers, got, err)
		}
		// Empty input.
		if e, err := ReduceOrdered(ctx, s, nil, 0, func() int64 { return 7 },
			func(a, x int64) int64 { return a + x },
			func(a, b int64) int64 { return a + b }); e != 7 || err != nil {
			t.Fatalf("ReduceOrdered(nil) = %d, %v; want zero()", e, err)
		}
	}
}

func TestParallelForCoversRange(t *testing.T) {
	s := newTest(t, Options{Workers: 2})
	ctx := context.Background()
	for _, tc := range []struct{ lo, hi, grain int }{
		{0, 0, 0}, {5, 3, 1}, {0, 1, 0}, {0, 1000, 1}, {-500, 501, 7}, {0, 1 << 16, 0}, {3, 100, 1000},
	} {
		width := max(tc.hi-tc.lo, 0)
		hits := make([]atomic.Int32, width)
		var maxChunk atomic.Int64
		err := ParallelFor(ctx, s, tc.lo, tc.hi, tc.grain, func(_ *Worker, lo, hi int) {
			if hi-lo > int(maxChunk.Load()) {
				maxChunk.Store(int64(hi - lo))
			}
			for i := lo; i < hi; i++ {
				hits[i-tc.lo].Add(1)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range hits {
			if n := hits[i].Load(); n != 1 {
				t.Fatalf("%+v: index %d visited %d times", tc, tc.lo+i, n)
			}
		}
		if tc.grain > 0 && maxChunk.Load() > int64(tc.grain) {
			t.Fatalf("%+v: a chunk of %d indices exceeds the grain", tc, maxChunk.Load())
		}
	}
}

func TestWorkerLocalAndThreadInfo(t *testing.T) {
	const workers = 4
	s := newTest(t, Options{Workers: workers})
	counts := NewWorkerLocal(s, func() int { return 0 })
	ctx := context.Background()
	n := scaled(100_000)
	var badInfo atomic.Int32
	if err := ParallelFor(ctx, s, 0, n, 16, func(w *Worker, lo, hi int) {
		if w.ID() < 0 || w.ID() >= workers || w.Pinned() || w.CPU() != -1 || w.Scheduler() != s {
			badInfo.Add(1)
		}
		*counts.Get(w) += hi - lo
	}); err != nil {
		t.Fatal(err)
	}
	if badInfo.Load() != 0 {
		t.Fatalf("%d chunks saw wrong thread info", badInfo.Load())
	}
	total, seen := 0, 0
	for id, c := range counts.All() {
		if id != seen {
			t.Fatalf("All yielded id %d at position %d", id, seen)
		}
		seen++
		total += *c
	}
	if seen != workers || total != n {
		t.Fatalf("WorkerLocal: %d slots, total %d; want %d, %d", seen, total, workers, n)
	}
}

// TestPprofLabels checks that a task's goroutine carries the scheduler's
// and the worker's labels, as a goroutine profile shows them.
func TestPprofLabels(t *testing.T) {
	s := newTest(t, Options{Workers: 1, Name: "labelled"})
	inside, release := make(chan struct{}), make(chan struct{})
	if err := s.Submit(context.Background(), func(*Worker) { close(inside); <-release }); err != nil {
		t.Fatal(err)
	}
	<-inside
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	close(release)
	for _, want := range []string{`"sched":"labelled"`, `"worker":"0"`} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Fatalf("goroutine profile has no label %s", want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := newTest(t, Options{Workers: 2})
	ctx := context.Background()
	var n atomic.Int64
	task := func(*Worker) { n.Add(1) }
	// Warm up: the workers' free lists fill.
	for range 10000 {
		if err := s.Submit(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(10000, func() {
		if err := s.Submit(ctx, task); err != nil {
			t.Fatal(err)
		}
	}); a > 0.01 {
		t.Errorf("Submit: %.3f allocations per task", a)
	}

	leaf := func(*Worker) { sink.Add(tiny(1)) }
	root := func(w *Worker) {
		for range 1000 {
			Join(w, leaf, leaf)
		}
	}
	f := Go(ctx, s, func(w *Worker) (int, error) { root(w); return 0, nil }) // warm up
	if _, err := f.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var allocs float64
	f = Go(ctx, s, func(w *Worker) (int, error) {
		allocs = testing.AllocsPerRun(20, func() { root(w) })
		return 0, nil
	})
	if _, err := f.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if perJoin := allocs / 1000; perJoin > 0.001 {
		t.Errorf("Join: %.4f allocations per join", perJoin)
	}
}
