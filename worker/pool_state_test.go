package worker

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weftlabs/weft/sched"
)

// growingState grows by one unit per task and reports it; Close counts.
type growingState struct {
	size   int64
	closed *atomic.Int32
}

func (g *growingState) MemorySize() int64 { return g.size }
func (g *growingState) Close() error      { g.closed.Add(1); return nil }

func TestPoolStateLimit(t *testing.T) {
	for _, kind := range []Kind{CPU, IO} {
		var made, closed atomic.Int32
		p, err := NewStatefulPool(func(int) *growingState {
			made.Add(1)
			return &growingState{closed: &closed}
		}, func(_ context.Context, st *growingState, x int) (int64, error) {
			st.size++
			return st.size, nil
		}, PoolOptions{Kind: kind, Workers: 1, StateLimit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			v, err := p.Execute(context.Background(), i)
			if err != nil {
				t.Fatal(err)
			}
			if v > 11 {
				t.Fatalf("%v: a state grew to %d, past the limit of 10 (+1 for the task that crossed it)", kind, v)
			}
		}
		// 100 tasks on one worker, a state replaced when it reports 11.
		if got := p.Stats().StatesReplaced; got != 9 {
			t.Fatalf("%v: StatesReplaced = %d, want 9", kind, got)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if made.Load() != closed.Load() {
			t.Fatalf("%v: %d states made, %d closed (Close retires the live ones)", kind, made.Load(), closed.Load())
		}
	}
	if _, err := NewPool(func(_ context.Context, x int) (int, error) { return x, nil }, PoolOptions{StateLimit: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("StateLimit < 0: %v", err)
	}
}

func TestPoolHealth(t *testing.T) {
	m, err := NewHealthMonitor(HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, kind := range []Kind{CPU, IO} {
		p, err := NewPool(func(ctx context.Context, x int) (int, error) {
			if x < 0 {
				return 0, errOdd
			}
			if x == 0 {
				panic("zero")
			}
			return x, nil
		}, PoolOptions{Kind: kind, Workers: 2, Health: m, Name: "p-" + kind.String()})
		if err != nil {
			t.Fatal(err)
		}
		ins := []int{1, 2, -1, 3, 0, 4}
		for _, x := range ins {
			p.Execute(context.Background(), x)
		}
		if _, err := p.Map(context.Background(), []int{5, 6, 7, 8}, MapOptions{}); err != nil {
			t.Fatal(err)
		}
		names := 0
		for _, w := range m.Workers() {
			if strings.HasPrefix(w.Name, "p-"+kind.String()+"/"+kind.String()+"-") {
				names++
			}
		}
		if names == 0 {
			t.Fatalf("%v: no recorder named after the pool: %+v", kind, m.Workers())
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := m.Metrics()
	// Per pool: 6 executed (1 error, 1 panic) and 4 mapped.
	if got.TotalTasks != 20 || got.FailedTasks != 4 {
		t.Fatalf("monitor: %+v", got)
	}
	if got.ActiveWorkers != 0 {
		t.Fatalf("%d recorders still registered after the pools closed", got.ActiveWorkers)
	}
}

// TestPoolHealthNested runs tasks nested in another task of the same
// worker (a handler that submits to its own pool and waits): each is
// recorded once, and the outer task's in-flight mark is kept.
func TestPoolHealthNested(t *testing.T) {
	m, err := NewHealthMonitor(HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var p *Pool[int, int]
	p, err = NewPool(func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			return 0, nil
		}
		w, ok := CurrentWorker(ctx)
		if !ok {
			return 0, ErrNotOnWorker
		}
		f, err := p.Submit(ctx, x-1)
		if err != nil {
			return 0, err
		}
		v, err := sched.Await(w, f)
		return v + 1, err
	}, PoolOptions{Workers: 1, Health: m})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v, err := p.Execute(context.Background(), 5); v != 5 || err != nil {
		t.Fatalf("nested = %d, %v", v, err)
	}
	if got := m.Metrics(); got.TotalTasks != 6 || got.BusyWorkers != 0 {
		t.Fatalf("monitor after nested tasks: %+v", got)
	}
}

func TestPoolSchedulerThreadLocal(t *testing.T) {
	var p *Pool[int, int]
	var tl *ThreadLocal[int]
	p, err := NewPool(func(ctx context.Context, x int) (int, error) {
		c, err := tl.Get(ctx)
		if err != nil {
			return 0, err
		}
		*c += x
		return *c, nil
	}, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if tl, err = NewThreadLocal(p.Scheduler(), func() int { return 0 }); err != nil {
		t.Fatal(err)
	}
	ins := make([]int, 1000)
	for i := range ins {
		ins[i] = 1
	}
	if _, err := p.Map(context.Background(), ins, MapOptions{}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range tl.All() {
		total += *c
	}
	if total != 1000 {
		t.Fatalf("per-worker counts add up to %d, want 1000", total)
	}
}
