package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
)

func upper(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

func TestPoolExecuteAndMap(t *testing.T) {
	for _, kind := range []Kind{CPU, IO} {
		t.Run(kind.String(), func(t *testing.T) {
			p, err := NewPool(upper, PoolOptions{Kind: kind, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			if got, err := p.Execute(ctx, "hello"); got != "HELLO" || err != nil {
				t.Fatalf("Execute = %q, %v", got, err)
			}
			n := 5000
			if raceEnabled {
				n = 500
			}
			in := make([]string, n)
			for i := range in {
				in[i] = fmt.Sprintf("task-%d", i)
			}
			out, err := p.Map(ctx, in, MapOptions{Concurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if out[i] != strings.ToUpper(in[i]) {
					t.Fatalf("out[%d] = %q", i, out[i])
				}
			}
			st := p.Stats()
			if st.Completed != uint64(n+1) || st.Failed != 0 || st.TotalWorkers != 2 {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

func TestPoolMapErrors(t *testing.T) {
	p, err := NewPool(func(_ context.Context, i int) (int, error) {
		if i%10 == 3 {
			return 0, fmt.Errorf("bad %d", i)
		}
		return i * 2, nil
	}, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	in := make([]int, 100)
	for i := range in {
		in[i] = i
	}
	out, err := p.Map(ctx, in, MapOptions{CollectErrors: true})
	if err == nil || strings.Count(err.Error(), "bad") != 10 {
		t.Fatalf("collected errors: %v", err)
	}
	for i, v := range out {
		if i%10 != 3 && v != 2*i {
			t.Fatalf("out[%d] = %d", i, v)
		}
	}
	_, err = p.Map(ctx, in, MapOptions{Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "input 3: bad 3") {
		t.Fatalf("fail fast: %v", err)
	}
	if _, err := p.Map(ctx, in, MapOptions{Concurrency: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("negative concurrency: %v", err)
	}
	if out, err := p.Map(ctx, nil, MapOptions{}); err != nil || len(out) != 0 {
		t.Fatalf("empty map: %v, %v", out, err)
	}
}

func TestPoolPanicReplacesWorker(t *testing.T) {
	p, err := NewPool(func(_ context.Context, s string) (string, error) {
		if s == "panic" {
			panic("handler blew up")
		}
		return s, nil
	}, PoolOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	if _, err := p.Execute(ctx, "panic"); !errors.Is(err, sched.ErrPanic) {
		t.Fatalf("panic: %v", err)
	}
	if got, err := p.Execute(ctx, "after"); got != "after" || err != nil {
		t.Fatalf("after the panic: %q, %v", got, err)
	}
	if st := p.Stats(); st.Panics != 1 || st.Failed != 1 || st.Sched.Replaced != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestPoolQueueFullAndTimeout(t *testing.T) {
	release := make(chan struct{})
	p, err := NewPool(func(ctx context.Context, d time.Duration) (int, error) {
		if d < 0 {
			<-release
			return 0, nil
		}
		select {
		case <-time.After(d):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}, PoolOptions{Kind: IO, Workers: 1, QueueSize: 1, Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	f1, err := p.Submit(ctx, -1) // occupies the only worker
	if err != nil {
		t.Fatal(err)
	}
	f2, err := p.TrySubmit(ctx, -1) // the queue's one place
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.TrySubmit(ctx, 0); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("full: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := p.Execute(short, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for room: %v", err)
	}
	close(release)
	f1.Wait(ctx)
	f2.Wait(ctx)
	// The default timeout ends a slow task's context.
	if _, err := p.Execute(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("default timeout: %v", err)
	}
}

type counter struct {
	id, n int
}

func TestStatefulPool(t *testing.T) {
	var made atomic.Int32
	p, err := NewStatefulPool(func(id int) *counter {
		made.Add(1)
		return &counter{id: id}
	}, func(_ context.Context, c *counter, _ int) (int, error) {
		c.n++ // no lock: the state is this worker's own
		return c.id, nil
	}, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := make([]int, 2000)
	if _, err := p.Map(ctx, in, MapOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if m := made.Load(); m < 1 || m > 2 {
		t.Fatalf("%d states made for 2 workers", m)
	}
}

func TestPoolBadInputAndClose(t *testing.T) {
	if _, err := NewPool[int, int](nil, PoolOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil handler: %v", err)
	}
	if _, err := NewStatefulPool[int, int, int](nil, nil, PoolOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil state: %v", err)
	}
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	for _, opt := range []PoolOptions{{Workers: -1}, {QueueSize: -1}, {Timeout: -1}, {Kind: 7}} {
		if _, err := NewPool(id, opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", opt, err)
		}
	}
	p, err := NewPool(id, PoolOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := p.Execute(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestPoolSharedScheduler(t *testing.T) {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cpu, err := NewPool(upper, PoolOptions{Scheduler: s})
	if err != nil {
		t.Fatal(err)
	}
	io, err := NewPool(upper, PoolOptions{Scheduler: s, Kind: IO, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []*Pool[string, string]{cpu, io} {
		if got, err := p.Execute(ctx, "x"); got != "X" || err != nil {
			t.Fatalf("%q, %v", got, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The shared scheduler is still open.
	if err := s.Submit(ctx, func(*sched.Worker) {}); err != nil {
		t.Fatalf("shared scheduler closed by a pool: %v", err)
	}
	if _, err := NewPool(upper, PoolOptions{Scheduler: s, Workers: 3}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Workers with a shared CPU scheduler: %v", err)
	}
}

func ExamplePool() {
	pool, err := NewPool(func(_ context.Context, xs []int) (int, error) {
		sum := 0
		for _, x := range xs {
			sum += x
		}
		return sum, nil
	}, PoolOptions{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	ctx := context.Background()
	one, _ := pool.Execute(ctx, []int{1, 2, 3})
	all, _ := pool.Map(ctx, [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, MapOptions{})
	fmt.Println(one, all)
	// Output: 6 [6 15 24]
}
