package worker

import (
	"context"
	"errors"
	"testing"
	"time"
)

type r2State struct{ n int }

// An IO Broadcast whose call waits for a state a running task holds
// returns when its ctx ends, without waiting for the task.
func TestSystemIOBroadcastReturnsAtCtxEnd(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	sys, err := NewStatefulSystem(func(int) *r2State { return new(r2State) },
		func(ctx context.Context, st *r2State, x int) (int, error) {
			started <- struct{}{}
			<-gate
			return x, nil
		}, SystemOptions{Pool: PoolOptions{Kind: IO, Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	defer close(gate)
	if _, err := sys.Submit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	<-started // state 0 exists and is held by the task
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- sys.Broadcast(ctx, func(ctx context.Context, st *r2State) error { st.n++; return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Broadcast = %v, want the deadline", err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Fatal("Broadcast still blocked 480ms after its ctx ended: its started call waits for the state a task holds")
	}
}
