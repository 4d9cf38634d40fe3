package bench

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/weftlabs/weft/sched"
)

func init() {
	Register(
		&Scenario{
			Suite: "sched", Name: "tiny-tasks",
			Doc: "one tiny task submitted from outside and completed (the 1M-task workload)",
			Impls: []Impl{
				{Name: "weft.sched", Run: tasksWeft(false)},
				{Name: "weft.sched-pinned", Run: tasksWeft(true)},
				{Name: "go+WaitGroup", Peer: true, Run: tasksGo},
				{Name: "ants", Peer: true, Run: tasksAnts},
				{Name: "pond", Peer: true, Run: tasksPond},
				{Name: "errgroup", Peer: true, Run: tasksErrgroup},
				{Name: "conc", Peer: true, Run: tasksConc},
			},
		},
		&Scenario{
			Suite: "sched", Name: "fib-join-every",
			Doc: "one call of fib(20) with a Join at every call: the per-join overhead",
			Impls: []Impl{
				{Name: "weft.Join", Run: fibWeft(20, 0, false), Quantum: fibCalls(20)},
				{Name: "sequential", Peer: true, Run: fibRun(fibSeq, 20), Quantum: fibCalls(20)},
				{Name: "go+WaitGroup", Peer: true, Run: fibRun(fibGo, 14), Quantum: fibCalls(14)}, // per call, on a smaller tree
			},
		},
		&Scenario{
			Suite: "sched", Name: "fib-join-cutoff",
			Doc: "one call of fib(30) with a Join at every call above fib(14): the speedup",
			Impls: []Impl{
				{Name: "weft.Join", Run: fibWeft(30, 14, false), Quantum: fibCalls(30)},
				{Name: "weft.Join-pinned", Run: fibWeft(30, 14, true), Quantum: fibCalls(30)},
				{Name: "sequential", Peer: true, Run: fibRun(fibSeq, 30), Quantum: fibCalls(30)},
			},
		},
		&Scenario{
			Suite: "sched", Name: "triad",
			Doc: "one element of a[i] = b[i] + k*c[i] over 2^25 float64 (768 MiB), all workers",
			Impls: []Impl{
				{Name: "weft.ParallelFor", Run: triadWeft(false)},
				{Name: "weft.ParallelFor-pinned", Run: triadWeft(true)},
				{Name: "hand-split", Peer: true, Run: triadSplit},
				{Name: "sequential", Peer: true, Run: triadSeq},
			},
		},
	)
}

// tiny is the work of one tiny task: a few dozen cycles that the compiler
// cannot remove.
//
//go:noinline
func tiny(x uint64) uint64 {
	for range 4 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// work runs one tiny task's work; the check keeps it from being removed.
func work() {
	if tiny(42) == 0 {
		panic("unreachable")
	}
}

func tinyTask(*sched.Worker) { work() }

func workers() int { return sched.DefaultWorkers() }

// newSched starts a scheduler with the default workers, pinned or not.
// Pinning falls back to unpinned where the platform has no affinity.
func newSched(pin bool) *sched.Scheduler {
	s, err := sched.New(sched.Options{Pin: pin})
	if err != nil && pin {
		s, err = sched.New(sched.Options{})
	}
	if err != nil {
		panic(err)
	}
	return s
}

func tasksWeft(pin bool) func(int, *Recorder) {
	return func(n int, _ *Recorder) {
		s := newSched(pin)
		ctx := context.Background()
		for range n {
			if err := s.Submit(ctx, tinyTask); err != nil {
				panic(err)
			}
		}
		s.Close()
	}
}

func tasksGo(n int, _ *Recorder) {
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go func() { work(); wg.Done() }()
	}
	wg.Wait()
}

func tasksAnts(n int, _ *Recorder) {
	p, err := ants.NewPool(workers())
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	wg.Add(n)
	task := func() { work(); wg.Done() }
	for range n {
		if err := p.Submit(task); err != nil {
			panic(err)
		}
	}
	wg.Wait()
	if err := p.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
}

func tasksPond(n int, _ *Recorder) {
	p := pond.NewPool(workers())
	task := func() { work() }
	for range n {
		p.Submit(task)
	}
	p.StopAndWait()
}

func tasksErrgroup(n int, _ *Recorder) {
	var g errgroup.Group
	g.SetLimit(workers())
	task := func() error { work(); return nil }
	for range n {
		g.Go(task)
	}
	if err := g.Wait(); err != nil {
		panic(err)
	}
}

func tasksConc(n int, _ *Recorder) {
	p := pool.New().WithMaxGoroutines(workers())
	task := func() { work() }
	for range n {
		p.Go(task)
	}
	p.Wait()
}

// fibCalls returns the number of calls fib(k) makes, itself included.
func fibCalls(k int) int {
	a, b := 1, 1 // calls(0), calls(1)
	for range k - 1 {
		a, b = b, a+b+1
	}
	if k == 0 {
		return a
	}
	return b
}

// fibReps is how many times to compute fib(k) to make at least n calls.
func fibReps(n, k int) int { return max(1, (n+fibCalls(k)-1)/fibCalls(k)) }

func fibJoin(w *sched.Worker, k, cutoff int) int {
	if k < 2 {
		return k
	}
	if k <= cutoff {
		return fibSeq(k)
	}
	var a, b int
	sched.Join(w, func(w *sched.Worker) { a = fibJoin(w, k-1, cutoff) }, func(w *sched.Worker) { b = fibJoin(w, k-2, cutoff) })
	return a + b
}

func fibSeq(k int) int {
	if k < 2 {
		return k
	}
	return fibSeq(k-1) + fibSeq(k-2)
}

func fibGo(k int) int {
	if k < 2 {
		return k
	}
	var a, b int
	var wg sync.WaitGroup
	wg.Go(func() { a = fibGo(k - 1) })
	b = fibGo(k - 2)
	wg.Wait()
	return a + b
}

// fibWeft computes fib(k) with a Join at every call above cutoff, from
// one task, as many times as n calls need.
func fibWeft(k, cutoff int, pin bool) func(int, *Recorder) {
	want := fibSeq(k)
	return func(n int, _ *Recorder) {
		s := newSched(pin)
		defer s.Close()
		ctx := context.Background()
		reps := fibReps(n, k)
		f := sched.Go(ctx, s, func(w *sched.Worker) (int, error) {
			for range reps {
				if fibJoin(w, k, cutoff) != want {
					panic("bench: fib went wrong")
				}
			}
			return 0, nil
		})
		if _, err := f.Wait(ctx); err != nil {
			panic(err)
		}
	}
}

// fibRun computes fib(k) with fib as many times as n calls need.
func fibRun(fib func(int) int, k int) func(int, *Recorder) {
	want := fibSeq(k)
	return func(n int, _ *Recorder) {
		for range fibReps(n, k) {
			if fib(k) != want {
				panic("bench: fib went wrong")
			}
		}
	}
}

// The triad arrays, allocated on first use and kept: 3 × 256 MiB.
var (
	triadOnce sync.Once
	triadA    []float64
	triadB    []float64
	triadC    []float64
)

const triadLen = 1 << 25

func triadArrays() ([]float64, []float64, []float64) {
	triadOnce.Do(func() {
		triadA = make([]float64, triadLen)
		triadB = make([]float64, triadLen)
		triadC = make([]float64, triadLen)
		for i := range triadB {
			triadB[i], triadC[i] = float64(i), 1
		}
	})
	return triadA, triadB, triadC
}

func triadKernel(a, b, c []float64) {
	c = c[:len(a)]
	b = b[:len(a)]
	for i := range a {
		a[i] = b[i] + 3*c[i]
	}
}

// triadPasses runs fn over [0, triadLen) as many whole passes as n
// elements need (a partial first pass when n is smaller).
func triadPasses(n int, fn func(lo, hi int)) {
	for n > 0 {
		k := min(n, triadLen)
		fn(0, k)
		n -= k
	}
}

func triadWeft(pin bool) func(int, *Recorder) {
	return func(n int, r *Recorder) { triadOn(newSched(pin), n) }
}

func triadOn(s *sched.Scheduler, n int) {
	a, b, c := triadArrays()
	defer s.Close()
	ctx := context.Background()
	triadPasses(n, func(lo, hi int) {
		grain := max(4096, (hi-lo)/(s.Workers()*8))
		if err := sched.ParallelFor(ctx, s, lo, hi, grain, func(_ *sched.Worker, lo, hi int) {
			triadKernel(a[lo:hi], b[lo:hi], c[lo:hi])
		}); err != nil {
			panic(err)
		}
	})
}

func triadSplit(n int, _ *Recorder) {
	a, b, c := triadArrays()
	g := runtime.GOMAXPROCS(0)
	triadPasses(n, func(lo, hi int) {
		var wg sync.WaitGroup
		for p := range g {
			plo, phi := lo+(hi-lo)*p/g, lo+(hi-lo)*(p+1)/g
			wg.Go(func() { triadKernel(a[plo:phi], b[plo:phi], c[plo:phi]) })
		}
		wg.Wait()
	})
}

func triadSeq(n int, _ *Recorder) {
	a, b, c := triadArrays()
	triadPasses(n, func(lo, hi int) { triadKernel(a[lo:hi], b[lo:hi], c[lo:hi]) })
}
