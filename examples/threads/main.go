// Command threads shows the guide's section 7 in weft: inside a task,
// which worker and CPU it runs on and whether it is pinned; running one
// function on a worker; per-worker storage; high-resolution timing.
//
//	go run ./examples/threads
package main

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/worker"
)

func main() {
	ctx := context.Background()

	// ThreadUtils.isMainThread
	if worker.IsMainThread(ctx) {
		fmt.Println("main thread:", worker.Thread(ctx))
	}

	// A scheduler of pinned workers where the platform allows it.
	s, err := sched.New(sched.Options{Pin: true})
	if err != nil {
		fmt.Println("cannot pin here, running unpinned:", err)
		if s, err = sched.New(sched.Options{}); err != nil {
			log.Fatal(err)
		}
	}
	defer s.Close()

	// ThreadUtils.getThreadInfo, inside a pool's tasks.
	pool, err := worker.NewPool(func(ctx context.Context, i int) (worker.ThreadInfo, error) {
		return worker.Thread(ctx), nil
	}, worker.PoolOptions{Scheduler: s})
	if err != nil {
		log.Fatal(err)
	}
	infos, err := pool.Map(ctx, make([]int, 64), worker.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	seen := map[int]worker.ThreadInfo{}
	for _, ti := range infos {
		seen[ti.Worker] = ti
	}
	for id := range s.Workers() {
		if ti, ok := seen[id]; ok {
			fmt.Println("task ran on", ti)
		}
	}
	pool.Close()

	// ThreadUtils.runInWorker: one function on a worker, its result back.
	res, err := worker.RunInWorker(ctx, s, func(ctx context.Context) (string, error) {
		sum := 0
		for _, v := range []int{1, 2, 3} {
			sum += v
		}
		return fmt.Sprintf("sum %d computed on %v", sum, worker.Thread(ctx)), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("runInWorker:", res)

	// ThreadUtils.createThreadLocal(0): a counter per worker, padded
	// against false sharing, updated without a lock.
	counter, err := worker.NewThreadLocal(s, func() int { return 0 })
	if err != nil {
		log.Fatal(err)
	}
	err = sched.ParallelFor(ctx, s, 0, 100_000, 1000, func(w *sched.Worker, lo, hi int) {
		c := counter.Of(w)
		*c += hi - lo
	})
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	for id, c := range counter.All() {
		fmt.Printf("thread-local: worker %d counted %d\n", id, *c)
		total += *c
	}
	fmt.Println("thread-local: total", total)

	// ThreadUtils.measureThreadPerformance, on a worker.
	m, err := worker.RunInWorker(ctx, s, func(ctx context.Context) (worker.Measurement, error) {
		_, m := worker.MeasureValue(ctx, "data processing", func() float64 {
			x := 0.0
			for i := range 1_000_000 {
				x += math.Sqrt(float64(i))
			}
			return x
		})
		return m, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("measured:", m)
}
