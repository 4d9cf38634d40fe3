package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// recState is a worker state that counts its closes and reports a size.
type recState struct {
	id       int
	size     int64
	closed   atomic.Int32
	closeErr error
}

func (s *recState) Close() error {
	if s.closed.Add(1) != 1 {
		panic("state closed twice")
	}
	return s.closeErr
}

func (s *recState) MemorySize() int64 { return s.size }

// recMaker makes recStates and remembers them.
type recMaker struct {
	mu   sync.Mutex
	made []*recState
	fail error
}

func (m *recMaker) make(_ context.Context, id int) (*recState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	s := &recState{id: id}
	m.made = append(m.made, s)
	return s, nil
}

func (m *recMaker) closed() (n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.made {
		n += int(s.closed.Load())
	}
	return n
}

func recTestRecycler(t *testing.T, opt RecyclerOptions) (*Recycler[*recState], *recMaker) {
	t.Helper()
	mk := new(recMaker)
	r, err := NewRecycler(mk.make, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, mk
}

func recMustAcquire[S any](t *testing.T, r *Recycler[S]) *RecycledWorker[S] {
	t.Helper()
	w, err := r.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func recMustRelease[S any](t *testing.T, r *Recycler[S], w *RecycledWorker[S]) {
	t.Helper()
	if err := r.Release(w); err != nil {
		t.Fatal(err)
	}
}

func TestRecyclerReuse(t *testing.T) {
	r, mk := recTestRecycler(t, RecyclerOptions{MaxWorkers: 2})
	w := recMustAcquire(t, r)
	st := w.State()
	recMustRelease(t, r, w)
	w2 := recMustAcquire(t, r)
	if w2.State() != st || w2.Serial() != 1 || w2.Tasks() != 1 || w2.ID() != 0 {
		t.Fatalf("second acquisition: serial %d, tasks %d, id %d, same state %v", w2.Serial(), w2.Tasks(), w2.ID(), w2.State() == st)
	}
	w3 := recMustAcquire(t, r) // the first is on loan: a new one
	if w3.Serial() != 2 || w3.ID() != 1 {
		t.Fatalf("third: serial %d, id %d", w3.Serial(), w3.ID())
	}
	s := r.Stats()
	if s.Workers != 2 || s.InUse != 2 || s.Idle != 0 || s.Created != 2 || s.Acquires != 3 || s.MaxWorkers != 2 {
		t.Fatalf("stats: %+v", s)
	}
	recMustRelease(t, r, w2)
	recMustRelease(t, r, w3)
	if s := r.Stats(); s.Idle != 2 || s.InUse != 0 || s.Retired != 0 {
		t.Fatalf("stats after release: %+v", s)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := mk.closed(); n != 2 {
		t.Fatalf("%d states closed, want 2", n)
	}
	if s := r.Stats(); s.Workers != 0 || s.RetiredClosed != 2 {
		t.Fatalf("stats after Close: %+v", s)
	}
}

func TestRecyclerMaxWorkersWaits(t *testing.T) {
	r, _ := recTestRecycler(t, RecyclerOptions{MaxWorkers: 1})
	w := recMustAcquire(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with all on loan = %v", err)
	}
	got := make(chan *RecycledWorker[*recState])
	go func() {
		w, err := r.Acquire(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- w
	}()
	for r.waiters.Len() == 0 {
		runtime.Gosched()
	}
	recMustRelease(t, r, w)
	w2 := <-got
	if w2 != w {
		t.Fatal("the waiter did not get the released worker")
	}
	recMustRelease(t, r, w2)
	// The first Acquire waited; the second may have seen the release in
	// its recheck, before sleeping, and not counted as a wait.
	if s := r.Stats(); s.Waits < 1 || s.Waits > 2 || s.Created != 1 || s.Acquires != 2 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestRecyclerMaxTasks(t *testing.T) {
	r, mk := recTestRecycler(t, RecyclerOptions{MaxTasks: 3})
	first := recMustAcquire(t, r)
	st := first.State()
	recMustRelease(t, r, first)
	for range 2 {
		recMustRelease(t, r, recMustAcquire(t, r))
	}
	if st.closed.Load() != 1 || mk.closed() != 1 {
		t.Fatal("worker not retired after 3 tasks")
	}
	w := recMustAcquire(t, r)
	if w.Serial() != 2 || w.Tasks() != 0 {
		t.Fatalf("successor: serial %d, tasks %d", w.Serial(), w.Tasks())
	}
	recMustRelease(t, r, w)
	if s := r.Stats(); s.RetiredTasks != 1 || s.Retired != 1 || s.Workers != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestRecyclerMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, mk := recTestRecycler(t, RecyclerOptions{MaxAge: 10 * time.Second, CheckInterval: time.Hour})
		w := recMustAcquire(t, r)
		time.Sleep(6 * time.Second)
		recMustRelease(t, r, w) // 6s old: kept
		w = recMustAcquire(t, r)
		if w.Serial() != 1 || w.Age() != 6*time.Second {
			t.Fatalf("serial %d, age %v", w.Serial(), w.Age())
		}
		time.Sleep(5 * time.Second)
		recMustRelease(t, r, w) // 11s old: retired at release
		if mk.closed() != 1 {
			t.Fatal("old worker not retired at release")
		}
		// Idle past its age: retired by Acquire, which makes a new one.
		recMustRelease(t, r, recMustAcquire(t, r))
		time.Sleep(10 * time.Second)
		if w := recMustAcquire(t, r); w.Serial() != 3 {
			t.Fatalf("acquired serial %d, want a new worker", w.Serial())
		} else {
			recMustRelease(t, r, w)
		}
		if s := r.Stats(); s.RetiredAge != 2 || mk.closed() != 2 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestRecyclerMaxIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, mk := recTestRecycler(t, RecyclerOptions{MaxWorkers: 3, MaxIdle: time.Second})
		a, b := recMustAcquire(t, r), recMustAcquire(t, r)
		recMustRelease(t, r, a)
		time.Sleep(600 * time.Millisecond)
		recMustRelease(t, r, b)
		time.Sleep(600 * time.Millisecond) // a idle 1.2s, b 0.6s
		synctest.Wait()
		if s := r.Stats(); s.RetiredIdle != 1 || s.Workers != 1 || a.State().closed.Load() != 1 || b.State().closed.Load() != 0 {
			t.Fatalf("after 1.2s: %+v", s)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if s := r.Stats(); s.RetiredIdle != 2 || s.Workers != 0 || mk.closed() != 2 {
			t.Fatalf("after 2.2s: %+v", s)
		}
	})
}

func TestRecyclerStateLimit(t *testing.T) {
	r, _ := recTestRecycler(t, RecyclerOptions{StateLimit: 100})
	for i := 1; ; i++ {
		w := recMustAcquire(t, r)
		if w.Serial() != 1 {
			if i != 4 {
				t.Fatalf("retired before task %d, want after the task that grew past 100", i)
			}
			break
		}
		w.State().size += 40 // 40, 80, 120
		recMustRelease(t, r, w)
		if got, want := r.Stats().StateBytes, w.State().size; w.State().closed.Load() == 0 && got != want {
			t.Fatalf("StateBytes = %d, want %d", got, want)
		}
	}
	if s := r.Stats(); s.RetiredStateSize != 1 || s.StateBytes != 0 {
		t.Fatalf("stats: %+v", s)
	}

	// A state that does not report its size cannot be limited.
	type plain struct{}
	r2, err := NewRecycler(func(context.Context, int) (plain, error) { return plain{}, nil }, RecyclerOptions{StateLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Acquire(context.Background()); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Acquire of an unmeasurable state = %v", err)
	}
	if s := r2.Stats(); s.Workers != 0 {
		t.Fatalf("failed make left %d workers", s.Workers)
	}
}

func recGCCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestRecyclerHeapLimit(t *testing.T) {
	r, _ := recTestRecycler(t, RecyclerOptions{MaxWorkers: 4, HeapLimit: 1, CheckInterval: time.Hour})
	r.heap.every = 0 // sample at every release
	ws := []*RecycledWorker[*recState]{recMustAcquire(t, r), recMustAcquire(t, r), recMustAcquire(t, r), recMustAcquire(t, r)}
	runtime.GC()
	c0 := recGCCycles()
	for _, w := range ws {
		recMustRelease(t, r, w)
	}
	// The heap (well over 1 byte) asks for one retirement per GC cycle.
	got := r.Stats().RetiredHeap
	if c := recGCCycles(); got < 1 || got > c-c0+1 {
		t.Fatalf("%d retired for the heap over %d GC cycles", got, c-c0)
	}
	runtime.GC()
	r.check()
	if s := r.Stats(); s.RetiredHeap <= got || s.HeapLiveBytes == 0 || s.HeapLimitBytes != 1 {
		t.Fatalf("the check after a GC did not retire an idle worker: %+v", s)
	}
}

func TestRecyclerHeapLimitFraction(t *testing.T) {
	runtime.GC()
	live := int64(recGCLive())
	old := debug.SetMemoryLimit(4 * live)
	defer debug.SetMemoryLimit(old)
	r, _ := recTestRecycler(t, RecyclerOptions{HeapLimitFraction: 0.1, CheckInterval: time.Hour})
	r.heap.every = 0
	w := recMustAcquire(t, r)
	runtime.GC()
	recMustRelease(t, r, w) // live > 0.4 × live
	s := r.Stats()
	if s.SoftMemoryLimit != 4*live || s.HeapLimitBytes != uint64(float64(4*live)*0.1) || s.RetiredHeap != 1 {
		t.Fatalf("stats: %+v (live %d)", s, live)
	}
}

func recGCLive() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestRecyclerRetireAndBadRelease(t *testing.T) {
	r, mk := recTestRecycler(t, RecyclerOptions{})
	other, _ := recTestRecycler(t, RecyclerOptions{})
	w := recMustAcquire(t, r)
	if err := r.Retire(w); err != nil {
		t.Fatal(err)
	}
	if mk.closed() != 1 || r.Stats().RetiredAsked != 1 {
		t.Fatal("Retire did not retire")
	}
	foreign := recMustAcquire(t, r)
	for name, err := range map[string]error{
		"release after retire": r.Release(w),
		"retire twice":         r.Retire(w),
		"nil":                  r.Release(nil),
		"another's worker":     other.Release(foreign),
	} {
		if !errors.Is(err, ErrNotAcquired) {
			t.Errorf("%s: %v", name, err)
		}
	}
	recMustRelease(t, r, foreign)
	w = recMustAcquire(t, r)
	recMustRelease(t, r, w)
	if err := r.Release(w); !errors.Is(err, ErrNotAcquired) {
		t.Fatalf("double release = %v", err)
	}
}

func TestRecyclerDo(t *testing.T) {
	r, mk := recTestRecycler(t, RecyclerOptions{})
	boom := errors.New("boom")
	if err := r.Do(context.Background(), func(context.Context, *recState) error { return boom }); err != boom {
		t.Fatalf("Do = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Do swallowed the panic")
			}
		}()
		r.Do(context.Background(), func(context.Context, *recState) error { panic("x") })
	}()
	if s := r.Stats(); s.RetiredAsked != 1 || s.Idle != 0 || mk.closed() != 1 {
		t.Fatalf("after a panic in Do: %+v", s)
	}
}

func TestRecyclerMakeError(t *testing.T) {
	r, mk := recTestRecycler(t, RecyclerOptions{MaxWorkers: 1})
	boom := errors.New("no connection")
	mk.fail = boom
	if _, err := r.Acquire(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Acquire = %v", err)
	}
	mk.fail = nil
	w := recMustAcquire(t, r) // the failed make gave its room back
	recMustRelease(t, r, w)
	if s := r.Stats(); s.MakeErrors != 1 || s.Created != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestRecyclerClose(t *testing.T) {
	// Close retires the idle workers, joining their Close errors.
	r, mk := recTestRecycler(t, RecyclerOptions{MaxWorkers: 2})
	a, b := recMustAcquire(t, r), recMustAcquire(t, r)
	a.State().closeErr = errors.New("close failed")
	recMustRelease(t, r, a)
	err := r.Close()
	if err == nil || !errors.Is(err, a.State().closeErr) {
		t.Fatalf("Close = %v", err)
	}
	if mk.closed() != 1 {
		t.Fatal("idle state not closed")
	}
	if _, err := r.Acquire(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after Close = %v", err)
	}
	recMustRelease(t, r, b) // on loan at Close: retired on release
	if s := r.Stats(); mk.closed() != 2 || s.Workers != 0 || s.CloseErrors != 1 || s.RetiredClosed != 2 {
		t.Fatalf("after the release: %+v", s)
	}
	if err2 := r.Close(); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second Close = %v", err2)
	}

	// Close wakes an Acquire waiting for a worker.
	r2, _ := recTestRecycler(t, RecyclerOptions{MaxWorkers: 1})
	w := recMustAcquire(t, r2)
	waiter := make(chan error)
	go func() {
		_, err := r2.Acquire(context.Background())
		waiter <- err
	}()
	for r2.waiters.Len() == 0 {
		runtime.Gosched()
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waiter; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting Acquire after Close = %v", err)
	}
	recMustRelease(t, r2, w)
}

func TestRecyclerBadOptions(t *testing.T) {
	mk := new(recMaker)
	if _, err := NewRecycler[*recState](nil, RecyclerOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil constructor: %v", err)
	}
	for _, opt := range []RecyclerOptions{
		{MaxWorkers: -1}, {MaxTasks: -1}, {MaxAge: -1}, {MaxIdle: -1}, {HeapLimit: -1},
		{HeapLimitFraction: -0.5}, {HeapLimitFraction: 1.5}, {StateLimit: -1}, {CheckInterval: -1},
	} {
		if _, err := NewRecycler(mk.make, opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewRecycler(%+v) = %v", opt, err)
		}
	}
}

func TestRecyclerAllocs(t *testing.T) {
	r, _ := recTestRecycler(t, RecyclerOptions{MaxWorkers: 2, MaxTasks: 1 << 40, MaxIdle: time.Hour, HeapLimit: 1 << 50, StateLimit: 1 << 40})
	recMustRelease(t, r, recMustAcquire(t, r))
	ctx := context.Background()
	if a := testing.AllocsPerRun(1000, func() {
		w, _ := r.Acquire(ctx)
		r.Release(w)
	}); a != 0 {
		t.Fatalf("Acquire+Release allocates %v", a)
	}
}

// TestStressRecycler has goroutines acquire and release workers that wear
// out fast; no more than MaxWorkers states are ever in use, no state is
// used by two goroutines at once, every task is counted, and every state
// made is closed by the end.
func TestStressRecycler(t *testing.T) {
	const maxWorkers = 3
	r, mk := recTestRecycler(t, RecyclerOptions{MaxWorkers: maxWorkers, MaxTasks: 7, MaxIdle: time.Millisecond})
	goroutines, n := 8, 5000
	if raceEnabled || testing.Short() {
		n = 500
	}
	var inUse, peak, tasks atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				err := r.Do(context.Background(), func(_ context.Context, s *recState) error {
					if k := inUse.Add(1); k > peak.Load() {
						peak.Store(k)
					}
					if s.size != 0 {
						t.Errorf("state %d in use twice", s.id)
					}
					s.size = 1
					if s.closed.Load() != 0 {
						t.Errorf("state %d used after close", s.id)
					}
					if (g+i)%3 == 0 {
						runtime.Gosched()
					}
					s.size = 0
					inUse.Add(-1)
					tasks.Add(1)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	s := r.Stats()
	if tasks.Load() != int64(goroutines*n) || peak.Load() > maxWorkers || s.Acquires != uint64(goroutines*n) {
		t.Fatalf("tasks %d, peak %d, stats %+v", tasks.Load(), peak.Load(), s)
	}
	mk.mu.Lock()
	made := len(mk.made)
	mk.mu.Unlock()
	if uint64(made) != s.Created || mk.closed() != made || s.Retired != s.Created || s.Workers != 0 {
		t.Fatalf("made %d, closed %d, stats %+v", made, mk.closed(), s)
	}
	t.Logf("%s", fmt.Sprintf("%d workers made for %d tasks", made, tasks.Load()))
}

// TestRecyclerCloseWhileMaking: a worker whose state is being made when
// Close runs is retired, not lent out.
func TestRecyclerCloseWhileMaking(t *testing.T) {
	entered, proceed := make(chan struct{}), make(chan struct{})
	r, err := NewRecycler(func(context.Context, int) (*recState, error) {
		close(entered)
		<-proceed
		return &recState{}, nil
	}, RecyclerOptions{MaxWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() {
		_, err := r.Acquire(context.Background())
		got <- err
	}()
	<-entered
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	close(proceed)
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire racing Close = %v", err)
	}
	if s := r.Stats(); s.Workers != 0 || s.RetiredClosed != 1 {
		t.Fatalf("stats: %+v", s)
	}
}
