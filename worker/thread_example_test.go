package worker_test

import (
	"context"
	"fmt"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/worker"
)

// The guide's isMainThread and getThreadInfo: a pool's handler learns
// which worker it runs on from its context.
func ExampleThread() {
	ctx := context.Background()
	fmt.Println("main thread:", worker.IsMainThread(ctx))
	pool, err := worker.NewPool(func(ctx context.Context, _ struct{}) (worker.ThreadInfo, error) {
		return worker.Thread(ctx), nil
	}, worker.PoolOptions{Workers: 1})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	ti, err := pool.Execute(ctx, struct{}{})
	if err != nil {
		panic(err)
	}
	fmt.Println("in the task:", ti.InWorker, ti.Kind, "worker", ti.Worker)
	// Output:
	// main thread: true
	// in the task: true cpu worker 0
}

// The guide's runInWorker: one function on a worker, its result back.
func ExampleRunInWorker() {
	sum, err := worker.RunInWorker(context.Background(), nil, func(ctx context.Context) (int, error) {
		s := 0
		for _, v := range []int{1, 2, 3} {
			s += v
		}
		return s, nil
	})
	fmt.Println(sum, err)
	// Output: 6 <nil>
}

// The guide's createThreadLocal: one counter per worker, no lock.
func ExampleThreadLocal() {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	counter, err := worker.NewThreadLocal(s, func() int { return 0 })
	if err != nil {
		panic(err)
	}
	pool, err := worker.NewPool(func(ctx context.Context, _ int) (int, error) {
		c, err := counter.Get(ctx) // this worker's own
		if err != nil {
			return 0, err
		}
		*c++
		return *c, nil
	}, worker.PoolOptions{Scheduler: s})
	if err != nil {
		panic(err)
	}
	if _, err := pool.Map(context.Background(), make([]int, 1000), worker.MapOptions{}); err != nil {
		panic(err)
	}
	pool.Close()
	total := 0
	for _, c := range counter.All() {
		total += *c
	}
	fmt.Println("tasks counted over the workers:", total)
	// Output: tasks counted over the workers: 1000
}

// The guide's measureThreadPerformance.
func ExampleMeasure() {
	m := worker.Measure(context.Background(), "data processing", func() {
		s := 0
		for i := range 1000 {
			s += i
		}
		_ = s
	})
	fmt.Println(m.Name, m.Elapsed >= 0, m.Thread)
	// Output: data processing true main (not a worker)
}
