// Command pool shows the guide's sections 1 and 2 in weft: a typed worker
// pool (execute, map, stats, close) and the specialised workers — CPU
// workers on the scheduler, I/O workers that may block, and a worker type
// with state of its own.
//
//	go run ./examples/pool
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/weftlabs/weft/worker"
)

type task struct{ Data []int }

func sum(_ context.Context, t task) (int, error) {
	s := 0
	for _, v := range t.Data {
		s += v
	}
	return s, nil
}

func main() {
	ctx := context.Background()

	// §1 WorkerPool: four workers, one handler, typed in and out.
	pool, err := worker.NewPool(sum, worker.PoolOptions{Workers: 4})
	if err != nil {
		log.Fatal(err)
	}
	one, err := pool.Execute(ctx, task{Data: []int{1, 2, 3}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("execute:", one)
	many, err := pool.Map(ctx, []task{{[]int{1, 2, 3}}, {[]int{4, 5, 6}}, {[]int{7, 8, 9}}}, worker.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("map:", many)
	st := pool.Stats()
	fmt.Printf("stats: total=%d idle=%d busy=%d queued=%d active=%d completed=%d\n",
		st.TotalWorkers, st.IdleWorkers, st.BusyWorkers, st.QueuedTasks, st.ActiveTasks, st.Completed)
	if err := pool.Close(); err != nil {
		log.Fatal(err)
	}

	// §2 BaseWorker subclass: a handler with per-worker state, here a
	// count of what this worker has processed (no lock needed).
	type upperState struct{ done int }
	upper, err := worker.NewStatefulPool(
		func(int) *upperState { return new(upperState) },
		func(_ context.Context, st *upperState, s string) (string, error) {
			st.done++
			return strings.ToUpper(s), nil
		}, worker.PoolOptions{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	hello, _ := upper.Execute(ctx, "hello")
	fmt.Println("custom worker:", hello)
	upper.Close()

	// §2 CPU worker: pinned to its core where the platform allows.
	sumSquares := func(_ context.Context, xs []float64) (float64, error) {
		s := 0.0
		for _, x := range xs {
			s += x * x
		}
		return s, nil
	}
	cpu, err := worker.NewPool(sumSquares, worker.PoolOptions{Kind: worker.CPU, Workers: 1, Pin: true})
	if err != nil {
		fmt.Println("cpu worker: cannot pin here, running unpinned:", err)
		cpu, err = worker.NewPool(sumSquares, worker.PoolOptions{Kind: worker.CPU, Workers: 1})
		if err != nil {
			log.Fatal(err)
		}
	}
	numbers := make([]float64, 1000)
	for i := range numbers {
		numbers[i] = float64(i)
	}
	squares, _ := cpu.Execute(ctx, numbers)
	fmt.Println("cpu worker: sum of squares", squares)
	cpu.Close()

	// §2 I/O worker: may block (here on the file system) without holding
	// a CPU worker.
	io, err := worker.NewPool(func(ctx context.Context, path string) (int, error) {
		b, err := os.ReadFile(path)
		return len(b), err
	}, worker.PoolOptions{Kind: worker.IO, Workers: 8, Timeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.CreateTemp("", "weft-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.WriteString("hello from a file\n")
	f.Close()
	n, err := io.Execute(ctx, f.Name())
	fmt.Println("io worker: read", n, "bytes, err =", err)
	io.Close()
}
