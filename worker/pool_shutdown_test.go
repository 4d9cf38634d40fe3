package worker

import (
	"context"
	"testing"
	"time"
)

// The IO twin of TestPoolShutdownDeadlineThenClose: a task queued for the
// blocking pool when Shutdown's deadline passes completes (ErrClosed)
// promptly, even while every blocking goroutine is busy.
func TestPoolIOShutdownDeadlineCompletesQueued(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	p, err := NewPool(func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			started <- struct{}{}
			<-gate // ignores ctx: a call that does not return
		}
		return x, nil
	}, PoolOptions{Kind: IO, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(gate); p.Close() }()
	p.Submit(context.Background(), 0)
	<-started
	execDone := make(chan error, 1)
	go func() { _, err := p.Execute(context.Background(), 1); execDone <- err }()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n, err := p.Shutdown(ctx)
	t.Logf("Shutdown = %d, %v", n, err)
	select {
	case err := <-execDone:
		t.Logf("Execute returned %v", err)
	case <-time.After(time.Second):
		t.Fatal("Execute(Background) of an IO task queued at Shutdown's deadline still blocked 1s later")
	}
}
