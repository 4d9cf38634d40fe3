// Command broker shows the guide's section 3 request-response patterns in
// weft: a long-lived worker with handlers registered by message type, a
// single request, a batch of named requests, a stream read in chunks of
// 1000, and the default timeout (setTimeout) with its late reply dropped.
//
//	go run ./examples/broker
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/weftlabs/weft/worker"
)

type (
	fileJob      struct{ File string }
	fileResult   struct{ Rows, Columns int }
	userQuery    struct{ UserID int }
	userStats    struct{ UserID, Visits int }
	orderQuery   struct{ Limit int }
	datasetQuery struct{ Dataset string }
	logLine      struct {
		Seq  int
		Text string
	}
)

func main() {
	ctx := context.Background()

	// The guide's `new Worker('./worker.ts')` + `new WorkerMessageBroker(worker)`:
	// one long-lived worker with a mailbox, pinned to a core where allowed.
	broker, err := worker.NewBroker(worker.BrokerOptions{Pin: true})
	if err != nil {
		fmt.Println("cannot pin here, running unpinned:", err)
		if broker, err = worker.NewBroker(worker.BrokerOptions{}); err != nil {
			log.Fatal(err)
		}
	}

	// The worker script's `switch (type)`: one typed handler per message type.
	must(worker.Handle(broker, "processData", func(_ context.Context, job fileJob) (fileResult, error) {
		csv := "id,name,score\n1,ada,90\n2,alan,85\n3,grace,95\n"
		lines := strings.Split(strings.TrimSpace(csv), "\n")
		return fileResult{Rows: len(lines) - 1, Columns: len(strings.Split(lines[0], ","))}, nil
	}))
	must(worker.Handle(broker, "userStats", func(_ context.Context, q userQuery) (userStats, error) {
		return userStats{UserID: q.UserID, Visits: 42}, nil
	}))
	must(worker.Handle(broker, "orders", func(_ context.Context, q orderQuery) ([]string, error) {
		var out []string
		for i := range q.Limit {
			out = append(out, fmt.Sprintf("order-%d", i+1))
		}
		return out, nil
	}))
	must(worker.Handle(broker, "recommendations", func(_ context.Context, category string) ([]string, error) {
		return nil, fmt.Errorf("no recommendations for %q yet", category)
	}))
	must(worker.HandleStream(broker, "fetchLargeDataset", func(ctx context.Context, q datasetQuery, emit func(logLine) error) error {
		for i := range 4500 {
			if err := emit(logLine{Seq: i, Text: q.Dataset}); err != nil {
				return err // the caller stopped
			}
		}
		return nil
	}))
	must(worker.Handle(broker, "slow", func(ctx context.Context, d time.Duration) (string, error) {
		time.Sleep(d)
		return "finally", nil
	}))

	// Single request
	result, err := worker.Request[fileJob, fileResult](ctx, broker, "processData", fileJob{File: "data.csv"})
	fmt.Printf("processData: %+v, err = %v\n", result, err)

	// Batch requests: results by name, a failure reported for its own name.
	batch := worker.NewBatch(broker)
	stats := worker.AddRequest[userQuery, userStats](batch, "userStats", userQuery{UserID: 123})
	orders := worker.AddRequest[orderQuery, []string](batch, "orders", orderQuery{Limit: 3})
	recs := worker.AddRequest[string, []string](batch, "recommendations", "books")
	if err := batch.Do(ctx); err != nil {
		fmt.Println("batch:", err)
	}
	s, _ := stats.Result()
	o, _ := orders.Result()
	_, rerr := recs.Result()
	fmt.Printf("batch: userStats = %+v; orders = %v; recommendations failed: %v\n", s, o, rerr)

	// Streaming, in chunks of 1000.
	total := 0
	for chunk, err := range worker.Stream[datasetQuery, logLine](ctx, broker, "fetchLargeDataset", datasetQuery{Dataset: "logs"}, 1000) {
		if err != nil {
			log.Fatal(err)
		}
		total += len(chunk)
		fmt.Printf("Received %d items (last seq %d)\n", len(chunk), chunk[len(chunk)-1].Seq)
	}
	fmt.Println("stream: total", total)

	// setTimeout: a request slower than the default timeout fails with
	// ErrTimeout; its reply, when it comes, is dropped and counted.
	broker.SetTimeout(20 * time.Millisecond)
	_, err = worker.Request[time.Duration, string](ctx, broker, "slow", 100*time.Millisecond)
	fmt.Println("slow request timed out:", errors.Is(err, worker.ErrTimeout))

	// Per-call deadlines come from the context.
	broker.SetTimeout(0) // back to the default (30s)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	_, err = worker.Request[time.Duration, string](dctx, broker, "slow", 50*time.Millisecond)
	cancel()
	fmt.Println("deadline exceeded:", errors.Is(err, context.DeadlineExceeded))

	// A typed endpoint skips the lookup by name; a Client (one goroutine's
	// own lane to the worker) is the fast path for a loop.
	ep := must(worker.Handle(broker, "double", func(_ context.Context, x uint64) (uint64, error) { return 2 * x, nil }))
	client := ep.Client()
	const n = 100_000
	start := time.Now()
	var sum uint64
	for i := range uint64(n) {
		v, err := client.Request(ctx, i)
		if err != nil {
			log.Fatal(err)
		}
		sum += v
	}
	elapsed := time.Since(start)
	fmt.Printf("%d requests through a client in %v (%v per round trip), sum %d\n", n, elapsed.Round(time.Millisecond), elapsed/n, sum)
	client.Close()

	if err := broker.Close(); err != nil { // the guide's terminate
		log.Fatal(err)
	}
	st := broker.Stats()
	fmt.Printf("stats: mailbox messages=%d lane requests=%d failed=%d timeouts=%d late=%d\n", st.Handled, st.LaneRequests, st.Failed, st.Timeouts, st.Late)
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
