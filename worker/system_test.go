package worker

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestSystem[S, In, Out any](t *testing.T, mk func() (*System[S, In, Out], error)) *System[S, In, Out] {
	t.Helper()
	sys, err := mk()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	return sys
}

var errOdd = errors.New("odd input")

func TestSystemProcessBatch(t *testing.T) {
	sys := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(func(_ context.Context, x int) (int, error) {
			if x%100 == 7 {
				return 0, errOdd
			}
			return x * 2, nil
		}, SystemOptions{Pool: PoolOptions{Workers: 2}, HealthChecks: true})
	})
	ins := make([]int, 1000)
	for i := range ins {
		ins[i] = i
	}
	out, err := sys.ProcessBatch(context.Background(), ins)
	if !errors.Is(err, errOdd) {
		t.Fatalf("ProcessBatch err = %v, want the inputs' failures", err)
	}
	if n := strings.Count(err.Error(), "odd input"); n != 10 {
		t.Fatalf("%d failures reported, want 10: %v", n, err)
	}
	if !strings.Contains(err.Error(), "input 507:") {
		t.Fatalf("failure of input 507 not named: %v", err)
	}
	for i, v := range out {
		want := i * 2
		if i%100 == 7 {
			want = 0
		}
		if v != want {
			t.Fatalf("out[%d] = %d, want %d", i, v, want)
		}
	}
	m := sys.Metrics()
	if m.Pool.Completed != 990 || m.Pool.Failed != 10 {
		t.Fatalf("pool counts %+v", m.Pool)
	}
	if m.Health.TotalTasks != 1000 || m.Health.FailedTasks != 10 || m.Health.SuccessfulTasks != 990 {
		t.Fatalf("health counts %+v", m.Health)
	}
	if m.Health.ActiveWorkers != 2 || m.Health.HealthyWorkers != 2 {
		t.Fatalf("ActiveWorkers = %d, HealthyWorkers = %d, want every worker (2)", m.Health.ActiveWorkers, m.Health.HealthyWorkers)
	}
	if m.Uptime <= 0 {
		t.Fatalf("memory figures %+v", m)
	}
}

// counterState counts the broadcasts its worker received, and where.
type counterState struct {
	id      int
	got     int
	wrongOn int // broadcasts that ran on another worker than the state's
	inUse   atomic.Int32
}

func TestSystemBroadcastOncePerWorker(t *testing.T) {
	var (
		mu     sync.Mutex
		states []*counterState
	)
	sys := newTestSystem(t, func() (*System[counterState, int, int], error) {
		return NewStatefulSystem(func(id int) *counterState {
			st := &counterState{id: id}
			mu.Lock()
			states = append(states, st)
			mu.Unlock()
			return st
		}, func(_ context.Context, st *counterState, x int) (int, error) { return x, nil },
			SystemOptions{Pool: PoolOptions{Workers: 4}})
	})
	ctx := context.Background()
	// Keep the workers busy while broadcasting.
	done := make(chan struct{})
	var load sync.WaitGroup
	load.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := sys.Execute(ctx, 1); err != nil {
				t.Error(err)
				return
			}
		}
	})
	const rounds = 50
	for range rounds {
		if err := sys.Broadcast(ctx, func(ctx context.Context, st *counterState) error {
			if Thread(ctx).Worker != st.id {
				st.wrongOn++
			}
			st.got++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	load.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 4 {
		t.Fatalf("%d states, want one per worker (4)", len(states))
	}
	for _, st := range states {
		if st.got != rounds || st.wrongOn != 0 {
			t.Fatalf("worker %d: %d broadcasts (%d on another worker), want %d on its own", st.id, st.got, st.wrongOn, rounds)
		}
	}
	// Errors are joined, naming the worker.
	err := sys.Broadcast(ctx, func(ctx context.Context, st *counterState) error {
		if st.id == 2 {
			return errOdd
		}
		return nil
	})
	if !errors.Is(err, errOdd) || !strings.Contains(err.Error(), "worker 2") {
		t.Fatalf("Broadcast error = %v", err)
	}
}

func TestSystemBroadcastIO(t *testing.T) {
	var made atomic.Int32
	var mu sync.Mutex
	var states []*counterState
	sys := newTestSystem(t, func() (*System[counterState, int, int], error) {
		return NewStatefulSystem(func(id int) *counterState {
			made.Add(1)
			st := &counterState{id: id}
			mu.Lock()
			states = append(states, st)
			mu.Unlock()
			return st
		}, func(ctx context.Context, st *counterState, d int) (int, error) {
			if st.inUse.Add(1) != 1 {
				t.Errorf("state %d used by two tasks at once", st.id)
			}
			time.Sleep(time.Duration(d) * time.Microsecond)
			st.inUse.Add(-1)
			return d, nil
		}, SystemOptions{Pool: PoolOptions{Kind: IO, Workers: 8}})
	})
	ctx := context.Background()
	ins := make([]int, 64)
	for i := range ins {
		ins[i] = 200
	}
	// Broadcast while tasks run: each state is reached exactly once, and
	// never while a task holds it.
	var batch sync.WaitGroup
	batch.Go(func() {
		if _, err := sys.ProcessBatch(ctx, ins); err != nil {
			t.Error(err)
		}
	})
	time.Sleep(2 * time.Millisecond)
	err := sys.Broadcast(ctx, func(ctx context.Context, st *counterState) error {
		if st.inUse.Add(1) != 1 {
			t.Errorf("state %d broadcast to while a task held it", st.id)
		}
		if Thread(ctx).Kind != IO || IsMainThread(ctx) {
			t.Errorf("broadcast ran outside an IO worker: %v", Thread(ctx))
		}
		st.got++
		st.inUse.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	batch.Wait()
	mu.Lock()
	defer mu.Unlock()
	reached := 0
	for _, st := range states {
		if st.got > 1 {
			t.Fatalf("state %d received the broadcast %d times", st.id, st.got)
		}
		reached += st.got
	}
	if reached == 0 {
		t.Fatal("the broadcast reached no state")
	}
	t.Logf("%d states made, %d reached (those made before the broadcast)", made.Load(), reached)
}

func TestSystemShutdownWithWorkInFlight(t *testing.T) {
	release := make(chan struct{})
	sys, err := NewSystem(func(ctx context.Context, x int) (int, error) {
		<-release
		return x, nil
	}, SystemOptions{Pool: PoolOptions{Kind: IO, Workers: 2, QueueSize: 16}})
	if err != nil {
		t.Fatal(err)
	}
	var closed atomic.Int32
	if err := AddResource(sys.Resources(), "db", 1, func(int) error { closed.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var futures sync.WaitGroup
	for i := range 10 {
		f, err := sys.Submit(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		futures.Go(func() { f.Wait(ctx) })
	}
	eventually(t, func() bool { return sys.Metrics().Pool.ActiveTasks == 2 })
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	rep, err := sys.Shutdown(sctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown err = %v, want the deadline", err)
	}
	if rep.Unfinished != 10 {
		t.Fatalf("Unfinished = %d, want 10 (2 running, 8 queued)", rep.Unfinished)
	}
	if closed.Load() != 1 || rep.Resources != nil {
		t.Fatalf("resources: closed %d times, err %v", closed.Load(), rep.Resources)
	}
	if _, err := sys.Execute(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Execute after Shutdown: %v", err)
	}
	if err := sys.Broadcast(ctx, func(context.Context, *NoState) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Broadcast after Shutdown: %v", err)
	}
	rep2, err2 := sys.Shutdown(ctx)
	if rep2 != rep || err2 != err {
		t.Fatalf("second Shutdown = %+v, %v; want the first's", rep2, err2)
	}
	close(release) // the running tasks end; their goroutines exit
	futures.Wait()
}

func TestSystemGracefulShutdown(t *testing.T) {
	var ran atomic.Int32
	sys, err := NewSystem(func(ctx context.Context, x int) (int, error) {
		time.Sleep(100 * time.Microsecond)
		ran.Add(1)
		return x, nil
	}, SystemOptions{Pool: PoolOptions{Kind: IO, Workers: 4}, HealthChecks: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 100 {
		if _, err := sys.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := sys.Shutdown(ctx)
	if err != nil || rep.Unfinished != 0 || ran.Load() != 100 {
		t.Fatalf("Shutdown = %+v, %v; %d ran", rep, err, ran.Load())
	}
	if got := sys.Health().Metrics().TotalTasks; got != 100 {
		t.Fatalf("health recorded %d tasks", got)
	}
}

func TestSystemTimeout(t *testing.T) {
	sys := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(func(ctx context.Context, x int) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		}, SystemOptions{Pool: PoolOptions{Kind: IO, Timeout: 5 * time.Millisecond}})
	})
	if _, err := sys.Execute(context.Background(), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Execute = %v, want the default timeout's deadline", err)
	}
}

func TestSystemMemoryLimit(t *testing.T) {
	sys := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(func(_ context.Context, x int) (int, error) { return x, nil },
			SystemOptions{Pool: PoolOptions{Workers: 1}, MemoryLimit: 1}) // always over
	})
	ctx := context.Background()
	if _, err := sys.TrySubmit(ctx, 1); !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("TrySubmit over the limit: %v, want ErrMemoryLimit", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := sys.Execute(tctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Execute over the limit: %v, want to wait until the deadline", err)
	}
	if _, err := sys.ProcessBatch(tctx, []int{1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ProcessBatch over the limit: %v", err)
	}
	if m := sys.Metrics(); m.Throttled < 3 || m.MemoryLimit != 1 || m.Pool.Completed != 0 {
		t.Fatalf("metrics over the limit: %+v", m)
	}

	roomy := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(func(_ context.Context, x int) (int, error) { return x, nil },
			SystemOptions{Pool: PoolOptions{Workers: 1}, MemoryLimit: 1 << 40})
	})
	if v, err := roomy.Execute(ctx, 3); v != 3 || err != nil {
		t.Fatalf("under the limit: %d, %v", v, err)
	}
}

func TestSystemPublish(t *testing.T) {
	name := fmt.Sprintf("weft-test-system-%d", time.Now().UnixNano())
	sys, err := NewSystem(func(_ context.Context, x int) (int, error) { return x, nil },
		SystemOptions{Pool: PoolOptions{Workers: 1}, HealthChecks: true, Publish: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Execute(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	page := expvar.Get(name).String()
	if !strings.Contains(page, `"Completed":1`) || !strings.Contains(page, `"totalTasks":1`) {
		t.Fatalf("expvar page: %s", page)
	}
	if _, err := NewSystem(func(_ context.Context, x int) (int, error) { return x, nil },
		SystemOptions{Publish: name}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second system on the same expvar name: %v", err)
	}
	if err := sys.Close(); err != nil {
		t.Fatal(err)
	}
	if page := expvar.Get(name).String(); page != "null" {
		t.Fatalf("expvar page after Close: %s", page)
	}
}

func TestSystemUnhealthyWorkers(t *testing.T) {
	var flagged atomic.Int32
	sys := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(func(_ context.Context, x int) (int, error) { return 0, errOdd },
			SystemOptions{Pool: PoolOptions{Workers: 1}, HealthChecks: true,
				Health: HealthOptions{CheckInterval: time.Millisecond, OnUnhealthy: func(WorkerHealth) { flagged.Add(1) }}})
	})
	for range 20 {
		if _, err := sys.Execute(context.Background(), 1); !errors.Is(err, errOdd) {
			t.Fatal(err)
		}
	}
	m := sys.Metrics().Health
	if m.FailingWorkers != 1 || m.HealthyWorkers != 0 {
		t.Fatalf("health after 20 failures: %+v", m)
	}
	eventually(t, func() bool { return flagged.Load() == 1 })
}

func TestSystemBadInput(t *testing.T) {
	h := func(_ context.Context, x int) (int, error) { return x, nil }
	if _, err := NewSystem[int, int](nil, SystemOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil handler: %v", err)
	}
	if _, err := NewStatefulSystem[int, int, int](nil, func(context.Context, *int, int) (int, error) { return 0, nil }, SystemOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil state constructor: %v", err)
	}
	m, err := NewHealthMonitor(HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for name, opt := range map[string]SystemOptions{
		"Pool.Health":     {Pool: PoolOptions{Health: m}},
		"MemoryLimit<0":   {MemoryLimit: -1},
		"Workers<0":       {Pool: PoolOptions{Workers: -1}},
		"bad health opts": {HealthChecks: true, Health: HealthOptions{FailureRate: 2}},
	} {
		if sys, err := NewSystem(h, opt); err == nil {
			sys.Close()
			t.Errorf("%s: NewSystem succeeded", name)
		} else if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	sys := newTestSystem(t, func() (*System[NoState, int, int], error) {
		return NewSystem(h, SystemOptions{Pool: PoolOptions{Workers: 1}})
	})
	if err := sys.Broadcast(context.Background(), nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Broadcast(nil): %v", err)
	}
}
