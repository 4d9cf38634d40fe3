package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weftlabs/weft/worker"
)

// A broker is a long-lived worker; handlers are registered by message
// type and called by name or through their typed endpoint.
func ExampleBroker() {
	ctx := context.Background()
	b, err := worker.NewBroker(worker.BrokerOptions{})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	upper, _ := worker.Handle(b, "upper", func(_ context.Context, s string) (string, error) {
		return strings.ToUpper(s), nil
	})
	v, err := worker.Request[string, string](ctx, b, "upper", "by name")
	fmt.Println(v, err)
	v, err = upper.Request(ctx, "through the endpoint")
	fmt.Println(v, err)
	_, err = worker.Request[string, string](ctx, b, "lower", "x")
	fmt.Println(errors.Is(err, worker.ErrUnknownType))
	// Output:
	// BY NAME <nil>
	// THROUGH THE ENDPOINT <nil>
	// true
}

// The default timeout bounds every wait for a reply; a context deadline
// applies when earlier.
func ExampleBroker_SetTimeout() {
	b, _ := worker.NewBroker(worker.BrokerOptions{})
	defer b.Close()
	slow, _ := worker.Handle(b, "slow", func(ctx context.Context, d time.Duration) (int, error) {
		time.Sleep(d)
		return 1, nil
	})
	b.SetTimeout(10 * time.Millisecond)
	_, err := slow.Request(context.Background(), 50*time.Millisecond)
	fmt.Println(errors.Is(err, worker.ErrTimeout))
	// Output: true
}

// A batch sends named requests together; a failure is reported for its
// own name.
func ExampleNewBatch() {
	ctx := context.Background()
	b, _ := worker.NewBroker(worker.BrokerOptions{})
	defer b.Close()
	worker.Handle(b, "square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	worker.Handle(b, "fail", func(_ context.Context, x int) (int, error) { return 0, errors.New("no") })

	bt := worker.NewBatch(b)
	sq := worker.AddRequest[int, int](bt, "square", 12)
	worker.AddRequest[int, int](bt, "fail", 1)
	err := bt.Do(ctx)
	v, _ := sq.Result()
	fmt.Println(v, bt.Err("fail"))
	fmt.Println(err)
	// Output:
	// 144 no
	// worker: batch: 1 of 2 requests failed; fail: no
}

// A stream handler emits items; the caller ranges over chunks.
func ExampleStream() {
	ctx := context.Background()
	b, _ := worker.NewBroker(worker.BrokerOptions{})
	defer b.Close()
	worker.HandleStream(b, "count", func(ctx context.Context, n int, emit func(int) error) error {
		for i := range n {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	})
	for chunk, err := range worker.Stream[int, int](ctx, b, "count", 10, 4) {
		fmt.Println(chunk, err)
	}
	// Output:
	// [0 1 2 3] <nil>
	// [4 5 6 7] <nil>
	// [8 9] <nil>
}

// Listeners receive, in order, the events a handler emits while it works.
func ExampleOn() {
	ctx := context.Background()
	b, _ := worker.NewBroker(worker.BrokerOptions{})
	worker.Handle(b, "job", func(ctx context.Context, steps int) (struct{}, error) {
		for i := 1; i <= steps; i++ {
			worker.Emit(ctx, b, "progress", 100*i/steps)
		}
		return struct{}{}, nil
	})
	off, _ := worker.On(b, "progress", func(p int) { fmt.Printf("%d%% ", p) })
	worker.Post(ctx, b, "job", 4)
	b.Close() // runs the posted job and delivers its events
	off()
	fmt.Println()
	// Output: 25% 50% 75% 100%
}

// A Client is one goroutine's own lane to the worker: the fast path for a
// loop of requests.
func ExampleEndpoint_Client() {
	b, _ := worker.NewBroker(worker.BrokerOptions{})
	defer b.Close()
	square, _ := worker.Handle(b, "square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	cl := square.Client()
	defer cl.Close()
	sum := 0
	for i := range 1000 {
		v, err := cl.Request(context.Background(), i)
		if err != nil {
			panic(err)
		}
		sum += v
	}
	fmt.Println(sum)
	// Output: 332833500
}
