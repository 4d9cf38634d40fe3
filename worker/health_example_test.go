package worker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftlabs/weft/worker"
)

// The guide's WorkerHealthMonitor: register a worker, record its tasks,
// read the metrics.
func ExampleHealthMonitor() {
	m, err := worker.NewHealthMonitor(worker.HealthOptions{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	w, err := m.Register("worker-1")
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 20; i++ {
		// Observe records a task the caller timed; Start and Done time it.
		w.Observe(time.Duration(i)*time.Millisecond, i%10 != 0)
	}
	mt := m.Metrics()
	fmt.Printf("total %d, successful %d, failed %d, success rate %.2f\n",
		mt.TotalTasks, mt.SuccessfulTasks, mt.FailedTasks, mt.SuccessRate)
	fmt.Printf("avg %v, max %v, workers %d active, %d healthy\n",
		mt.AvgTaskTime, mt.MaxTaskTime, mt.ActiveWorkers, mt.HealthyWorkers)
	// Output:
	// total 20, successful 18, failed 2, success rate 0.90
	// avg 10.5ms, max 20ms, workers 1 active, 1 healthy
}

// A pool whose workers each record into their own TaskRecorder, made as
// the worker's state: recording takes no lock and allocates nothing.
func ExampleTaskRecorder() {
	m, err := worker.NewHealthMonitor(worker.HealthOptions{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	pool, err := worker.NewStatefulPool(
		func(id int) *worker.TaskRecorder {
			r, err := m.Register(fmt.Sprint("cpu-", id))
			if err != nil {
				panic(err)
			}
			return r
		},
		func(_ context.Context, r *worker.TaskRecorder, n int) (int, error) {
			r.Start()
			var err error
			if n < 0 {
				err = errors.New("negative")
			}
			r.Done(err)
			return n * n, err
		},
		worker.PoolOptions{Workers: 2})
	if err != nil {
		panic(err)
	}
	_, err = pool.Map(context.Background(), []int{1, 2, -3, 4}, worker.MapOptions{CollectErrors: true})
	fmt.Println("map:", err)
	pool.Close()
	mt := m.Metrics()
	fmt.Printf("total %d, failed %d\n", mt.TotalTasks, mt.FailedTasks)
	// Output:
	// map: worker: input 2: negative
	// total 4, failed 1
}
