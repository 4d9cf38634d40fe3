package sched_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/weftlabs/weft/sched"
)

func Example() {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	var n atomic.Int64
	for range 1000 {
		if err := s.Submit(ctx, func(*sched.Worker) { n.Add(1) }); err != nil {
			panic(err)
		}
	}
	f := sched.Go(ctx, s, func(w *sched.Worker) (string, error) {
		// Thread info: which worker runs this task, and whether pinned.
		n := w.Scheduler().Workers()
		return fmt.Sprintf("on one of %d workers: %v, pinned: %v", n, w.ID() >= 0 && w.ID() < n, w.Pinned()), nil
	})
	msg, err := f.Wait(ctx)
	fmt.Println(msg, err)
	s.Close() // runs every accepted task before returning
	fmt.Println(n.Load(), "tasks")
	// Output:
	// on one of 2 workers: true, pinned: false <nil>
	// 1000 tasks
}

func fib(w *sched.Worker, n int) int {
	if n < 20 { // below a cutoff, a Join costs more than it saves
		return fibSeq(n)
	}
	var a, b int
	sched.Join(w,
		func(w *sched.Worker) { a = fib(w, n-1) },
		func(w *sched.Worker) { b = fib(w, n-2) })
	return a + b
}

func fibSeq(n int) int {
	if n < 2 {
		return n
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

func ExampleJoin() {
	s, err := sched.New(sched.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	v, err := sched.Go(ctx, s, func(w *sched.Worker) (int, error) { return fib(w, 30), nil }).Wait(ctx)
	fmt.Println(v, err)
	// Output: 832040 <nil>
}

func ExampleParallelFor() {
	s, err := sched.New(sched.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	a, b, c := make([]float64, 1<<20), make([]float64, 1<<20), make([]float64, 1<<20)
	for i := range b {
		b[i], c[i] = float64(i), 1
	}
	// grain 0: about eight chunks per worker.
	err = sched.ParallelFor(context.Background(), s, 0, len(a), 0, func(_ *sched.Worker, lo, hi int) {
		for i := lo; i < hi; i++ {
			a[i] = b[i] + 3*c[i]
		}
	})
	fmt.Println(a[0], a[len(a)-1], err)
	// Output: 3 1.048578e+06 <nil>
}

func ExampleReduceOrdered() {
	s, err := sched.New(sched.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	xs := make([]float64, 100_000)
	for i := range xs {
		xs[i] = 1 / float64(i+1)
	}
	add := func(a, b float64) float64 { return a + b }
	// The same bits every run, whatever the scheduling: fixed chunks,
	// combined in chunk order.
	sum, err := sched.ReduceOrdered(context.Background(), s, xs, 4096, func() float64 { return 0 }, add, add)
	fmt.Printf("%.12f %v\n", sum, err)
	// Output: 12.090146129863 <nil>
}

func ExampleWorkerLocal() {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// One counter per worker, each on its own cache lines: no contention.
	counts := sched.NewWorkerLocal[int](s, nil)
	if err := sched.ParallelFor(context.Background(), s, 0, 10_000, 100, func(w *sched.Worker, lo, hi int) {
		*counts.Get(w) += hi - lo
	}); err != nil {
		panic(err)
	}
	total := 0
	for _, c := range counts.All() {
		total += *c
	}
	fmt.Println(total)
	// Output: 10000
}

func ExampleGoBlocking() {
	s, err := sched.New(sched.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	// A call that may block (a file, a socket, a lock) runs on the
	// elastic pool, never on a CPU worker.
	f := sched.GoBlocking(ctx, s, func(ctx context.Context) (string, error) {
		return "read 42 bytes", ctx.Err()
	})
	fmt.Println(f.Wait(ctx))
	// Output: read 42 bytes <nil>
}

func ExampleScheduler_Broadcast() {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	var reached atomic.Int32
	// Once on every worker, on that worker: a configuration reload, say.
	err = s.Broadcast(context.Background(), func(w *sched.Worker) { reached.Add(1) })
	fmt.Println(reached.Load(), err)
	// Output: 2 <nil>
}
