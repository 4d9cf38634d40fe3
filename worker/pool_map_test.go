package worker

import (
	"context"
	"errors"
	"testing"
)

// Map on a closed pool fails with ErrClosed.
func TestPoolMapOnClosedPool(t *testing.T) {
	p, err := NewPool(func(ctx context.Context, x int) (int, error) { return x, nil }, PoolOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	_, err = p.Map(context.Background(), []int{1, 2, 3}, MapOptions{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Map on a closed pool = %v, want ErrClosed", err)
	}
}
