package worker_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/weftlabs/weft/worker"
)

// recyclerParser is a worker's state: here a buffer that grows with use.
type recyclerParser struct {
	id  int
	buf bytes.Buffer
}

func (p *recyclerParser) Close() error { fmt.Printf("worker %d retired\n", p.id); return nil }

// MemorySize reports what the state keeps, for RecyclerOptions.StateLimit.
func (p *recyclerParser) MemorySize() int64 { return int64(p.buf.Cap()) }

// The guide's WorkerRecycler: at most two workers, each retired after
// three tasks or when its buffer passes 1 MiB.
func ExampleRecycler() {
	r, err := worker.NewRecycler(func(_ context.Context, id int) (*recyclerParser, error) {
		return &recyclerParser{id: id}, nil
	}, worker.RecyclerOptions{MaxWorkers: 2, MaxTasks: 3, StateLimit: 1 << 20})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := range 4 {
		w, err := r.Acquire(ctx)
		if err != nil {
			panic(err)
		}
		w.State().buf.WriteString("task ")
		fmt.Printf("task %d on worker %d (#%d)\n", i, w.ID(), w.Serial())
		if err := r.Release(w); err != nil {
			panic(err)
		}
	}
	st := r.Stats()
	fmt.Printf("created %d, retired %d after MaxTasks, %d idle\n", st.Created, st.RetiredTasks, st.Idle)
	r.Close()
	// Output:
	// task 0 on worker 0 (#1)
	// task 1 on worker 0 (#1)
	// task 2 on worker 0 (#1)
	// worker 0 retired
	// task 3 on worker 0 (#2)
	// created 2, retired 1 after MaxTasks, 1 idle
	// worker 0 retired
}

// Do acquires a worker, runs a function with its state and releases it.
func ExampleRecycler_Do() {
	r, err := worker.NewRecycler(func(_ context.Context, id int) (*bytes.Buffer, error) {
		return new(bytes.Buffer), nil
	}, worker.RecyclerOptions{MaxWorkers: 1})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for _, s := range []string{"a", "b"} {
		err := r.Do(context.Background(), func(_ context.Context, buf *bytes.Buffer) error {
			buf.WriteString(s)
			fmt.Println("state now", buf.String())
			return nil
		})
		if err != nil {
			panic(err)
		}
	}
	// Output:
	// state now a
	// state now ab
}
