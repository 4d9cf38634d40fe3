package worker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/affinity"
	"github.com/weftlabs/weft/sched"
)

func threadTestSched(t *testing.T, opt sched.Options) *sched.Scheduler {
	t.Helper()
	s, err := sched.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestThreadOutsideWorkers(t *testing.T) {
	ctx := context.Background()
	ti := Thread(ctx)
	if ti.InWorker || ti.Worker != -1 || ti.CPU != -1 || ti.Pinned || ti.GOMAXPROCS < 1 || !IsMainThread(ctx) {
		t.Fatalf("outside: %+v", ti)
	}
	if _, ok := CurrentWorker(ctx); ok {
		t.Fatal("CurrentWorker outside a worker")
	}
	if ti.String() != "main (not a worker)" {
		t.Fatalf("String = %q", ti)
	}
}

type threadTestKey struct{}

func TestThreadInPools(t *testing.T) {
	info := func(ctx context.Context, _ int) (ThreadInfo, error) {
		if ctx.Value(threadTestKey{}) != nil && ctx.Value(threadTestKey{}) != "v" {
			return ThreadInfo{}, errors.New("caller's value lost")
		}
		return Thread(ctx), nil
	}
	cpu, err := NewPool(info, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	valued := context.WithValue(context.Background(), threadTestKey{}, "v")
	for _, ctx := range []context.Context{context.Background(), valued} {
		ti, err := cpu.Execute(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !ti.InWorker || ti.Kind != CPU || ti.Worker < 0 || ti.Worker >= 2 || ti.Pinned {
			t.Fatalf("cpu pool task: %+v", ti)
		}
	}
	seen := map[int]bool{}
	out, err := cpu.Map(context.Background(), make([]int, 200), MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range out {
		if !ti.InWorker || ti.Worker < 0 {
			t.Fatalf("map task: %+v", ti)
		}
		seen[ti.Worker] = true
	}
	if len(seen) == 0 || len(seen) > 2 {
		t.Fatalf("map ran on workers %v", seen)
	}

	io, err := NewPool(info, PoolOptions{Kind: IO, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer io.Close()
	ti, err := io.Execute(valued, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !ti.InWorker || ti.Kind != IO || ti.Worker != -1 || ti.String() != "io worker" {
		t.Fatalf("io pool task: %+v", ti)
	}
}

func TestThreadPinned(t *testing.T) {
	allowed, err := affinity.Allowed()
	if err != nil {
		t.Skip(err)
	}
	cpu := -1
	for c := range allowed.All() {
		cpu = c
		break
	}
	s, err := sched.New(sched.Options{Workers: 1, Pin: true, CPUs: []int{cpu}})
	if errors.Is(err, affinity.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPool(func(ctx context.Context, _ int) (ThreadInfo, error) { return Thread(ctx), nil }, PoolOptions{Scheduler: s})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ti, err := p.Execute(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !ti.Pinned || ti.CPU != cpu || ti.Worker != 0 {
		t.Fatalf("pinned task: %+v", ti)
	}
}

// TestThreadContextAllocs: a CPU pool's task with a Background context
// gets its worker's context without an allocation.
func TestThreadContextAllocs(t *testing.T) {
	s := threadTestSched(t, sched.Options{Workers: 1})
	var tcs threadContexts
	tcs.init(nil, CPU, s)
	w, err := sched.Go(context.Background(), s, func(w *sched.Worker) (*sched.Worker, error) {
		tcs.context(context.Background(), w) // the worker fills its slot
		return w, nil
	}).Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got context.Context
	if a := testing.AllocsPerRun(1000, func() { got = tcs.context(context.Background(), w) }); a != 0 {
		t.Fatalf("context allocates %v", a)
	}
	if cw, ok := CurrentWorker(got); !ok || cw != w {
		t.Fatal("context lost its worker")
	}
}

func TestRunInWorker(t *testing.T) {
	ctx := context.Background()
	// A temporary worker.
	v, err := RunInWorker(ctx, nil, func(ctx context.Context) (int, error) {
		if IsMainThread(ctx) || Thread(ctx).Worker != 0 {
			return 0, errors.New("not on a worker")
		}
		return 6 * 7, nil
	})
	if v != 42 || err != nil {
		t.Fatalf("RunInWorker(nil) = %d, %v", v, err)
	}
	// A worker of a scheduler.
	s := threadTestSched(t, sched.Options{Workers: 2})
	w, err := RunInWorker(ctx, s, func(ctx context.Context) (*sched.Worker, error) {
		w, _ := CurrentWorker(ctx)
		return w, nil
	})
	if err != nil || w == nil || w.Scheduler() != s {
		t.Fatalf("RunInWorker(s) = %v, %v", w, err)
	}
	boom := errors.New("boom")
	if _, err := RunInWorker(ctx, s, func(context.Context) (int, error) { return 0, boom }); err != boom {
		t.Fatalf("error = %v", err)
	}
	if _, err := RunInWorker(ctx, nil, func(context.Context) (int, error) { panic("oops") }); !errors.Is(err, sched.ErrPanic) {
		t.Fatalf("panic = %v", err)
	}
	if _, err := RunInWorker[int](ctx, s, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("nil fn = %v", err)
	}
	// A temporary worker's call returns when fn does, after ctx ends.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if _, err := RunInWorker(cctx, nil, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled = %v", err)
	}
	closed := threadTestSched(t, sched.Options{Workers: 1})
	closed.Close()
	if _, err := RunInWorker(ctx, closed, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed scheduler = %v", err)
	}
}

func TestThreadLocal(t *testing.T) {
	s := threadTestSched(t, sched.Options{Workers: 2})
	counts, err := NewThreadLocal(s, func() int { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(func(ctx context.Context, _ int) (int, error) {
		c, err := counts.Get(ctx)
		if err != nil {
			return 0, err
		}
		*c++ // this worker's own: no lock
		return *c, nil
	}, PoolOptions{Scheduler: s})
	if err != nil {
		t.Fatal(err)
	}
	n := 2000
	if raceEnabled {
		n = 300
	}
	if _, err := p.Map(context.Background(), make([]int, n), MapOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	total := 0
	for _, c := range counts.All() {
		total += *c
	}
	if total != n {
		t.Fatalf("per-worker counts sum to %d, want %d", total, n)
	}
	if _, err := counts.Get(context.Background()); !errors.Is(err, ErrNotOnWorker) {
		t.Fatalf("Get outside a worker = %v", err)
	}
	other := threadTestSched(t, sched.Options{Workers: 1})
	if _, err := RunInWorker(context.Background(), other, func(ctx context.Context) (*int, error) {
		return counts.Get(ctx)
	}); !errors.Is(err, ErrNotOnWorker) {
		t.Fatalf("Get on another scheduler's worker = %v", err)
	}
	if _, err := NewThreadLocal[int](nil, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("nil scheduler = %v", err)
	}
	var ran atomic.Bool
	if _, err := RunInWorker(context.Background(), s, func(ctx context.Context) (int, error) {
		w, _ := CurrentWorker(ctx)
		ran.Store(counts.Of(w) != nil)
		return 0, nil
	}); err != nil || !ran.Load() {
		t.Fatalf("Of: %v", err)
	}
}

func TestMeasure(t *testing.T) {
	m := Measure(context.Background(), "sleep", func() { time.Sleep(time.Millisecond) })
	if m.Name != "sleep" || m.Elapsed < 900*time.Microsecond || m.Thread.InWorker || m.Overhead < 0 {
		t.Fatalf("Measure = %+v", m)
	}
	m, err := RunInWorker(context.Background(), nil, func(ctx context.Context) (Measurement, error) {
		v, m := MeasureValue(ctx, "sum", func() int { return 1 + 2 })
		if v != 3 {
			return m, errors.New("MeasureValue lost the value")
		}
		return m, nil
	})
	if err != nil || m.Name != "sum" || !m.Thread.InWorker || m.Elapsed < 0 || m.String() == "" {
		t.Fatalf("MeasureValue in a worker = %+v, %v", m, err)
	}
}
