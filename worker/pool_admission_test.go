package worker

import (
	"context"
	"errors"
	"testing"
)

// When Wait has returned for the only task in flight, its admission is
// back: a pool of 1 worker and 1 queue place accepts two TrySubmits.
func TestPoolAdmissionBackWhenWaitReturns(t *testing.T) {
	p, err := NewPool(func(ctx context.Context, x int) (int, error) { return x, nil },
		PoolOptions{Workers: 1, QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for i := range brkScaled(50000) {
		f, err := p.TrySubmit(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		f.Wait(ctx)
		// Nothing of ours is in flight now.
		f2, err2 := p.TrySubmit(ctx, i)
		f3, err3 := p.TrySubmit(ctx, i)
		if errors.Is(err2, ErrQueueFull) || errors.Is(err3, ErrQueueFull) {
			t.Fatalf("iteration %d: TrySubmit after Wait returned: %v / %v (admitted still held by a finished task)", i, err2, err3)
		}
		f2.Wait(ctx)
		f3.Wait(ctx)
	}
}
