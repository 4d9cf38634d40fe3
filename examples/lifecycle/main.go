// Command lifecycle shows the guide's section 5 in weft: a recycler that
// lends out long-lived workers and replaces them as they wear out (task
// count, age, idle time, memory), and a health monitor that records every
// task and flags stuck and failing workers.
//
//	go run ./examples/lifecycle
package main

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/weftlabs/weft/worker"
)

// scratch is a worker's state: a buffer it reuses from task to task. It
// reports its size, so the recycler can retire a worker whose buffer has
// grown past the limit.
type scratch struct {
	id  int
	buf []float64
}

func (s *scratch) MemorySize() int64 { return int64(cap(s.buf)) * 8 }

func (s *scratch) Close() error {
	fmt.Printf("  worker %d retired (%d KiB of state)\n", s.id, s.MemorySize()>>10)
	return nil
}

// process is a task: fill the buffer with n values and sum them.
func (s *scratch) process(n int) float64 {
	s.buf = s.buf[:0]
	for i := range n {
		s.buf = append(s.buf, float64(i))
	}
	sum := 0.0
	for _, v := range s.buf {
		sum += v
	}
	return sum
}

func main() {
	ctx := context.Background()

	// WorkerRecycler('./worker.ts', 10, 100): at most 10 workers, 100 MB.
	// The 100 MB is measured twice over: the Go heap (runtime/metrics) and
	// what each worker's state reports; here a worker is also retired
	// after 50 tasks, and after 200ms without one.
	recycler, err := worker.NewRecycler(func(_ context.Context, id int) (*scratch, error) {
		return &scratch{id: id}, nil
	}, worker.RecyclerOptions{
		MaxWorkers: 10,
		HeapLimit:  100 << 20,
		StateLimit: 1 << 20, // 1 MiB per worker
		MaxTasks:   50,
		MaxIdle:    200 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}

	monitor, err := worker.NewHealthMonitor(worker.HealthOptions{
		StuckAfter:    50 * time.Millisecond,
		CheckInterval: 10 * time.Millisecond,
		OnUnhealthy: func(h worker.WorkerHealth) {
			fmt.Printf("  health check: %s unhealthy (stuck=%v, failing=%v, recent failure rate %.2f)\n",
				h.Name, h.Stuck, h.Failing, h.RecentFailureRate)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := monitor.Publish("lifecycle-health"); err != nil {
		log.Fatal(err)
	}

	// Acquire worker, post a task, release worker — from 4 goroutines,
	// each recording its tasks into its own recorder.
	fmt.Println("recycler: 4 clients, 120 tasks each")
	var wg sync.WaitGroup
	for c := range 4 {
		rec, err := monitor.Register(fmt.Sprint("client-", c))
		if err != nil {
			log.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 120 {
				w, err := recycler.Acquire(ctx)
				if err != nil {
					log.Fatal(err)
				}
				n := 1000
				if c == 0 && i == 60 {
					n = 200_000 // one big task: its buffer passes 1 MiB
				}
				start := time.Now()
				sum := w.State().process(n)
				monitor.RecordTask(rec, start, sum >= 0)
				if err := recycler.Release(w); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	st := recycler.Stats()
	fmt.Printf("stats: %d workers (%d idle), %d made, %d acquisitions; retired: %d after 50 tasks, %d over 1 MiB\n",
		st.Workers, st.Idle, st.Created, st.Acquires, st.RetiredTasks, st.RetiredStateSize)
	fmt.Printf("memory: live heap %d MiB (limit %d MiB), worker state %d KiB\n",
		st.HeapLiveBytes>>20, st.HeapLimitBytes>>20, st.StateBytes>>10)

	time.Sleep(300 * time.Millisecond) // every worker idles past 200ms
	st = recycler.Stats()
	fmt.Printf("after 300ms idle: %d workers, %d retired for idleness\n", st.Workers, st.RetiredIdle)

	// Health: a worker whose task hangs, and one whose tasks fail.
	fmt.Println("health: a stuck worker and a failing one")
	stuck, _ := monitor.Register("stuck")
	flaky, _ := monitor.Register("flaky")
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		stuck.Start()
		<-release // a task that does not finish
		stuck.Done(nil)
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		flaky.Start()
		var err error
		if rng.IntN(4) != 0 {
			err = errors.New("upstream unavailable")
		}
		flaky.Done(err)
	}
	time.Sleep(100 * time.Millisecond)

	mt := monitor.Metrics()
	fmt.Printf("metrics: totalTasks %d, successfulTasks %d, failedTasks %d, successRate %.3f\n",
		mt.TotalTasks, mt.SuccessfulTasks, mt.FailedTasks, mt.SuccessRate)
	fmt.Printf("         avgTaskTime %v, p50 %v, p99 %v, max %v\n",
		mt.AvgTaskTime.Round(time.Microsecond), mt.P50TaskTime.Round(time.Microsecond),
		mt.P99TaskTime.Round(time.Microsecond), mt.MaxTaskTime.Round(time.Microsecond))
	fmt.Printf("         activeWorkers %d, healthyWorkers %d (stuck %d, failing %d)\n",
		mt.ActiveWorkers, mt.HealthyWorkers, mt.StuckWorkers, mt.FailingWorkers)

	// The same metrics on the expvar page (/debug/vars with net/http).
	var page map[string]any
	if err := json.Unmarshal([]byte(expvar.Get("lifecycle-health").String()), &page); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("expvar lifecycle-health: totalTasks=%v healthyWorkers=%v\n", page["totalTasks"], page["healthyWorkers"])

	close(release)
	<-done
	monitor.Close()
	// terminateAll
	if err := recycler.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("closed")
}
