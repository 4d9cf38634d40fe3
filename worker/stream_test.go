package worker

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// strmCounter emits 0, 1, …, n-1.
func strmCounter(_ context.Context, n int, emit func(int) error) error {
	for i := range n {
		if err := emit(i); err != nil {
			return err
		}
	}
	return nil
}

func TestStreamChunks(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ep, err := HandleStream(b, "count", strmCounter)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ n, chunk int }{{0, 3}, {1, 3}, {9, 3}, {10, 3}, {2500, 1000}, {7, 1}} {
		var got []int
		var sizes []int
		for chunk, err := range ep.Stream(ctx, tc.n, tc.chunk) {
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(chunk))
			got = append(got, chunk...)
		}
		if len(got) != tc.n {
			t.Fatalf("n=%d chunk=%d: got %d items", tc.n, tc.chunk, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n=%d chunk=%d: item %d is %d", tc.n, tc.chunk, i, v)
			}
		}
		for i, s := range sizes {
			if s > tc.chunk || s == 0 || (i < len(sizes)-1 && s != tc.chunk) {
				t.Fatalf("n=%d chunk=%d: chunk sizes %v", tc.n, tc.chunk, sizes)
			}
		}
	}
	// By name; and the sequence can be ranged again.
	seq := Stream[int, int](ctx, b, "count", 5, 2)
	for range 2 {
		var got []int
		for chunk, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, chunk...)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("by name: %v", got)
		}
	}
}

func TestStreamBadChunk(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ep, err := HandleStream(b, "count", strmCounter)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{0, -1} {
		n := 0
		for _, err := range ep.Stream(context.Background(), 10, chunk) {
			n++
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
		}
		if n != 1 {
			t.Fatalf("chunk %d: %d results, want one error", chunk, n)
		}
	}
}

// TestStreamBackpressure: a slow consumer holds the handler back; the
// handler is never more than strmBuffers chunks ahead of what the caller
// has finished with.
func TestStreamBackpressure(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	var emitted atomic.Int64
	const chunk = 16
	ep, err := HandleStream(b, "flood", func(_ context.Context, n int, emit func(int) error) error {
		for i := range n {
			emitted.Add(1)
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 50 * chunk
	consumed := 0
	maxAhead := int64(0)
	for c, err := range ep.Stream(context.Background(), n, chunk) {
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond) // a slow consumer: the handler catches up and waits
		ahead := emitted.Load() - int64(consumed)
		maxAhead = max(maxAhead, ahead)
		// +1: the item the handler is trying to emit while it waits.
		if ahead > strmBuffers*chunk+1 {
			t.Fatalf("handler emitted %d items with only %d consumed: more than %d chunks ahead", emitted.Load(), consumed, strmBuffers)
		}
		consumed += len(c)
	}
	if consumed != n {
		t.Fatalf("consumed %d of %d", consumed, n)
	}
	t.Logf("the handler was at most %d items ahead (bound %d)", maxAhead, strmBuffers*chunk+1)
}

// TestStreamBreakCancelsHandler: breaking out of the loop ends the
// handler's context and makes emit fail; the worker then serves others.
func TestStreamBreakCancelsHandler(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: -1})
	stopped := make(chan error, 1)
	var emits atomic.Int64
	ep, err := HandleStream(b, "forever", func(ctx context.Context, _ struct{}, emit func(int) error) error {
		for i := 0; ; i++ {
			emits.Add(1)
			if err := emit(i); err != nil {
				stopped <- errors.Join(err, context.Cause(ctx))
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for _, err := range ep.Stream(context.Background(), struct{}{}, 8) {
		if err != nil {
			t.Fatal(err)
		}
		if chunks++; chunks == 3 {
			break
		}
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("emit after break returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was not stopped by the break")
	}
	if n := emits.Load(); n > int64(chunks+strmBuffers)*8+1 {
		t.Fatalf("handler emitted %d items for %d chunks taken", n, chunks)
	}
	// The worker is free again.
	inc, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := inc.Request(context.Background(), 1); v != 2 || err != nil {
		t.Fatalf("after the stream: %d, %v", v, err)
	}
}

func TestStreamErrors(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: 20 * time.Millisecond})
	errBoom := errors.New("boom")
	ep, err := HandleStream(b, "fail", func(_ context.Context, n int, emit func(int) error) error {
		for i := range n {
			if err := emit(i); err != nil {
				return err
			}
		}
		if n < 0 {
			panic("negative")
		}
		return errBoom
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The items before the error arrive, then the error.
	var got []int
	var last error
	for c, err := range ep.Stream(ctx, 5, 2) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, c...)
	}
	if !errors.Is(last, errBoom) || !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("got %v then %v; want [0 1 2 3] then boom (the last partial chunk is dropped on error)", got, last)
	}
	for _, err := range ep.Stream(ctx, -1, 2) {
		if err == nil || b.Stats().Panics != 1 {
			t.Fatalf("a panicking stream handler: %v, stats %+v", err, b.Stats())
		}
	}
	// A handler slower than the default timeout between chunks.
	slow, err := HandleStream(b, "slow", func(ctx context.Context, _ int, emit func(int) error) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range slow.Stream(ctx, 0, 2) {
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("slow stream: %v", err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	for _, err := range slow.Stream(cctx, 0, 2) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow stream, context deadline: %v", err)
		}
	}
}
