package sched

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// newTest starts a scheduler for a test and closes it at the end.
func newTest(t testing.TB, opt Options) *Scheduler {
	t.Helper()
	s, err := New(opt)
	if err != nil {
		t.Fatalf("New(%+v): %v", opt, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStressExactlyOnce submits tasks from outside, and has a share of
// them spawn further tasks from inside (onto their worker's deque, where
// the other workers steal them); every task id must run exactly once.
func TestStressExactlyOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			const fanout = 4 // spawns per spawning task
			outside := scaled(1_000_000)
			spawning := outside / 8 // every 8th outside task spawns
			total := outside + spawning*fanout
			runs := make([]atomic.Uint32, total)
			s := newTest(t, Options{Workers: workers, QueueSize: 1024, LocalQueueSize: 64})
			ctx := context.Background()
			for i := range outside {
				id := i
				var fn func(w *Worker)
				if id%8 == 0 {
					first := outside + (id/8)*fanout
					fn = func(w *Worker) {
						runs[id].Add(1)
						for k := range fanout {
							child := first + k
							Go(ctx, w, func(*Worker) (struct{}, error) {
								runs[child].Add(1)
								return struct{}{}, nil
							})
						}
					}
				} else {
					fn = func(*Worker) { runs[id].Add(1) }
				}
				if err := s.Submit(ctx, fn); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for id := range runs {
				if n := runs[id].Load(); n != 1 {
					t.Fatalf("task %d ran %d times, want exactly once", id, n)
				}
			}
			st := s.Stats()
			if st.Done != uint64(total) {
				t.Fatalf("Stats.Done = %d, want %d", st.Done, total)
			}
			if st.Active != 0 || st.Queued != 0 || st.Busy != 0 {
				t.Fatalf("after Close: %+v", st)
			}
			t.Logf("%d tasks, %d steals, %d parks", total, st.Steals, st.Parks)
		})
	}
}

// fibEvery computes fib(n) with a Join at every call: the deepest nesting
// fork-join can produce.
func fibEvery(w *Worker, n int) int {
	if n < 2 {
		return n
	}
	var a, b int
	Join(w, func(w *Worker) { a = fibEvery(w, n-1) }, func(w *Worker) { b = fibEvery(w, n-2) })
	return a + b
}

func TestNestedForkJoin(t *testing.T) {
	n, want := 25, 75025
	if raceEnabled || testing.Short() {
		n, want = 20, 6765
	}
	for _, workers := range []int{1, 2, 8} {
		s := newTest(t, Options{Workers: workers})
		ctx := context.Background()
		// Several roots at once, so the workers' joins interleave.
		fs := make([]*Future[int], 4)
		for i := range fs {
			fs[i] = Go(ctx, s, func(w *Worker) (int, error) { return fibEvery(w, n), nil })
		}
		for i, f := range fs {
			got, err := f.Wait(ctx)
			if err != nil || got != want {
				t.Fatalf("workers=%d root %d: fib(%d) = %d, %v; want %d", workers, i, n, got, err, want)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAwaitNested has tasks wait, from inside, for futures they started
// on their own worker; the waiting worker must run the awaited work
// rather than deadlock, even with a single worker.
func TestAwaitNested(t *testing.T) {
	var depth func(w *Worker, n int) (int, error)
	depth = func(w *Worker, n int) (int, error) {
		if n == 0 {
			return 1, nil
		}
		f := Go(context.Background(), w, func(w *Worker) (int, error) { return depth(w, n-1) })
		v, err := Await(w, f)
		return v + 1, err
	}
	for _, workers := range []int{1, 2} {
		s := newTest(t, Options{Workers: workers})
		got, err := Go(context.Background(), s, func(w *Worker) (int, error) { return depth(w, 200) }).Wait(context.Background())
		if err != nil || got != 201 {
			t.Fatalf("workers=%d: depth = %d, %v; want 201", workers, got, err)
		}
	}
}
