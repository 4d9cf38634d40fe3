package worker_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/weftlabs/weft/worker"
)

func ExampleSystem() {
	sys, err := worker.NewSystem(func(ctx context.Context, s string) (string, error) {
		return strings.ToUpper(s), nil
	}, worker.SystemOptions{
		Pool:         worker.PoolOptions{Workers: 2, Timeout: 10 * time.Second}, // a default deadline per task
		HealthChecks: true,
		MemoryLimit:  512 << 20, // no new task while the live heap is over 512 MiB
	})
	if err != nil {
		panic(err)
	}
	out, err := sys.ProcessBatch(context.Background(), []string{"a", "b", "c"})
	fmt.Println(out, err)

	m := sys.Metrics()
	fmt.Println(m.Pool.Completed, m.Health.TotalTasks, m.Health.HealthyWorkers)

	// Graceful shutdown: stop intake, drain within the deadline, close
	// the shared resources.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	report, err := sys.Shutdown(ctx)
	fmt.Println(report.Unfinished, err)
	// Output:
	// [A B C] <nil>
	// 3 3 2
	// 0 <nil>
}

func ExampleSystem_Broadcast() {
	type state struct{ limit int }
	sys, err := worker.NewStatefulSystem(
		func(id int) *state { return &state{limit: 10} },
		func(ctx context.Context, st *state, n int) (int, error) { return min(n, st.limit), nil },
		worker.SystemOptions{Pool: worker.PoolOptions{Workers: 2}})
	if err != nil {
		panic(err)
	}
	defer sys.Close()
	ctx := context.Background()
	// Every worker receives the update once, on its own thread, between
	// two of its tasks: no lock needed on the state.
	err = sys.Broadcast(ctx, func(ctx context.Context, st *state) error {
		st.limit = 100
		return nil
	})
	v, _ := sys.Execute(ctx, 500)
	fmt.Println(v, err)
	// Output: 100 <nil>
}
