// Command eventbus shows the guide's section 3 event-based communication
// in weft: listeners subscribed by event name, an event posted to the
// worker, progress events the worker emits while it works (delivered in
// order), unsubscribing, and a request over the same bus.
//
//	go run ./examples/eventbus
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/weftlabs/weft/worker"
)

type (
	fileJob struct{ File string }
	summary struct {
		File string
		Rows int
	}
)

func main() {
	ctx := context.Background()

	// The guide's `new WorkerEventBus('./event-worker.ts')`.
	bus, err := worker.NewBroker(worker.BrokerOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// event-worker.ts: what the worker does with the events posted to it,
	// emitting progress as it goes.
	must(worker.Handle(bus, "startProcessing", func(ctx context.Context, job fileJob) (struct{}, error) {
		rows := 0
		for percent := 0; percent <= 100; percent += 25 {
			time.Sleep(2 * time.Millisecond) // some work
			rows += 250
			if err := worker.Emit(ctx, bus, "progress", percent); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, worker.Emit(ctx, bus, "completed", summary{File: job.File, Rows: rows})
	}))
	must(worker.Handle(bus, "calculate", func(_ context.Context, numbers []int) (int, error) {
		if len(numbers) == 0 {
			return 0, errors.New("calculate: no numbers")
		}
		sum := 0
		for _, n := range numbers {
			sum += n
		}
		return sum, nil
	}))

	// Subscribe to events.
	offProgress := must(worker.On(bus, "progress", func(percent int) {
		fmt.Printf("Progress: %d%%\n", percent)
	}))
	completed := make(chan summary, 2)
	must(worker.On(bus, "completed", func(result summary) {
		fmt.Printf("Task completed: %+v\n", result)
		completed <- result
	}))
	must(worker.On(bus, worker.ErrorEvent, func(err error) {
		fmt.Println("worker reported:", err)
	}))

	// Send an event.
	if err := worker.Post(ctx, bus, "startProcessing", fileJob{File: "data.csv"}); err != nil {
		log.Fatal(err)
	}

	// Request-response over the same bus. It runs after startProcessing:
	// the worker runs one goroutine's messages in the order it sent them.
	result, err := worker.Request[[]int, int](ctx, bus, "calculate", []int{1, 2, 3, 4, 5})
	if err != nil {
		log.Fatal(err)
	}
	<-completed
	fmt.Println("calculate:", result)

	// Unsubscribe: the next run's progress is not printed.
	offProgress()
	if err := worker.Post(ctx, bus, "startProcessing", fileJob{File: "more.csv"}); err != nil {
		log.Fatal(err)
	}
	// A posted message whose handler fails: the failure arrives as an event.
	if err := worker.Post(ctx, bus, "calculate", []int(nil)); err != nil {
		log.Fatal(err)
	}

	if err := bus.Close(); err != nil { // runs what was posted, delivers its events
		log.Fatal(err)
	}
	st := bus.Stats()
	fmt.Printf("stats: messages=%d events delivered=%d\n", st.Handled+st.LaneRequests, st.Events)
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
