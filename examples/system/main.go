// Command system is the guide's section 8, "Complete Worker System", in Go:
// a shared environment, a worker system with health checks, a memory limit
// and a task timeout, a batch of tasks, metrics, a configuration broadcast
// to every worker, and a graceful shutdown on SIGTERM.
//
//	go run ./examples/system
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/weftlabs/weft/worker"
)

// Settings is the configuration every worker shares.
type Settings struct {
	APIBaseURL   string
	MaxRetries   int
	MaxBatchSize int
}

// Task and Result are what the system processes.
type Task struct {
	ID   int
	Data string
}

type Result struct {
	ID     int
	Output string
	Worker int
}

// workerState is each worker's own: what it has seen of the configuration.
type workerState struct {
	id           int
	maxBatchSize int
	processed    int
}

func main() {
	// EnvironmentManager.initialize: a versioned configuration that any
	// worker reads without a lock.
	env := worker.NewEnvironment(Settings{APIBaseURL: "https://api.production.com", MaxRetries: 5})
	defer env.Close()

	// new WorkerSystem('./worker.ts', 4, {enableHealthChecks, memoryLimitMB, timeoutMs})
	sys, err := worker.NewStatefulSystem(
		func(id int) *workerState { return &workerState{id: id} },
		func(ctx context.Context, st *workerState, t Task) (Result, error) {
			cfg := env.Config().Load().Value // one atomic load
			st.processed++
			out := fmt.Sprintf("%s (retries %d)", strings.ToUpper(t.Data), cfg.MaxRetries)
			return Result{ID: t.ID, Output: out, Worker: worker.Thread(ctx).Worker}, nil
		},
		worker.SystemOptions{
			Pool:         worker.PoolOptions{Workers: 4, Timeout: 10 * time.Second},
			HealthChecks: true,
			MemoryLimit:  50 << 20,
		})
	if err != nil {
		log.Fatal(err)
	}

	// Graceful shutdown on SIGTERM (or Ctrl-C): stop intake, drain with a
	// deadline, close shared resources, report what did not run.
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()

	// processBatch
	ctx := context.Background()
	tasks := make([]Task, 100)
	for i := range tasks {
		tasks[i] = Task{ID: i, Data: fmt.Sprintf("task-%d", i)}
	}
	results, err := sys.ProcessBatch(ctx, tasks)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("processed %d tasks; first: %+v\n", len(results), results[0])

	// getMetrics
	m := sys.Metrics()
	fmt.Printf("metrics: %d workers, %d completed, %d failed; health: %d tasks, success rate %.2f, p99 %v, %d/%d workers healthy; live heap %d KiB of a %d MiB limit\n",
		m.Pool.TotalWorkers, m.Pool.Completed, m.Pool.Failed,
		m.Health.TotalTasks, m.Health.SuccessRate, m.Health.P99TaskTime, m.Health.HealthyWorkers, m.Health.ActiveWorkers,
		m.HeapLive>>10, m.MemoryLimit>>20)

	// broadcast({type: 'configUpdate', config: {maxBatchSize: 1000}}): the
	// shared configuration gets a new version, and every worker, on its own
	// thread, takes note of it exactly once.
	v, err := env.Config().Update(func(s *Settings) error { s.MaxBatchSize = 1000; return nil })
	if err != nil {
		log.Fatal(err)
	}
	err = sys.Broadcast(ctx, func(ctx context.Context, st *workerState) error {
		st.maxBatchSize = env.Config().Load().Value.MaxBatchSize
		fmt.Printf("  worker %d: config version %d, maxBatchSize %d, %d tasks so far\n",
			worker.Thread(ctx).Worker, v.Version, st.maxBatchSize, st.processed)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// Here the program would serve until told to stop; the example sends
	// itself the signal a supervisor would.
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		log.Fatal(err)
	}
	if err := self.Signal(syscall.SIGTERM); err != nil {
		log.Fatal(err)
	}
	<-stop.Done()
	fmt.Println("SIGTERM: shutting down")
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelDeadline()
	report, err := sys.Shutdown(deadline)
	fmt.Printf("shutdown: %d tasks unfinished, resources: %v, err: %v\n", report.Unfinished, report.Resources, err)
}
