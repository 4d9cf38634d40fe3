package sched

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestShutdownUnderLoad gives Shutdown a deadline that cannot be met:
// every accepted task either runs or is reported as not run, none is
// lost, none runs twice, and no worker is left behind (TestMain's leak
// check).
func TestShutdownUnderLoad(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		s, err := New(Options{Workers: workers, QueueSize: 1 << 14})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		const tasks = 1 << 13
		runs := make([]atomic.Int32, tasks*2)
		var accepted atomic.Int64
		for i := range tasks {
			id := i
			err := s.Submit(ctx, func(w *Worker) {
				runs[id].Add(1)
				// Half the tasks spawn one more from inside.
				if id%2 == 0 {
					Go(ctx, w, func(*Worker) (int, error) { runs[tasks+id].Add(1); return 0, nil })
					accepted.Add(1)
				}
				time.Sleep(50 * time.Microsecond)
			})
			if err != nil {
				t.Fatal(err)
			}
			accepted.Add(1)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		notRun, err := s.Shutdown(sctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("workers=%d: Shutdown err = %v, want the deadline", workers, err)
		}
		var ran int64
		for id := range runs {
			switch n := runs[id].Load(); n {
			case 0:
			case 1:
				ran++
			default:
				t.Fatalf("task %d ran %d times", id, n)
			}
		}
		if ran+int64(notRun) != accepted.Load() {
			t.Fatalf("workers=%d: %d ran + %d not run != %d accepted", workers, ran, notRun, accepted.Load())
		}
		if notRun == 0 {
			t.Fatalf("workers=%d: every task ran within 5ms; the test did not exercise the deadline", workers)
		}
		if got := s.Stats().NotRun; got != uint64(notRun) {
			t.Fatalf("Stats.NotRun = %d, Shutdown reported %d", got, notRun)
		}
		if err := s.Submit(ctx, func(*Worker) {}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Submit after Shutdown: %v", err)
		}
	}
}

func TestShutdownInTime(t *testing.T) {
	s, err := New(Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int64
	for range 10000 {
		if err := s.Submit(context.Background(), func(*Worker) { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	notRun, err := s.Shutdown(context.Background())
	if err != nil || notRun != 0 || ran.Load() != 10000 {
		t.Fatalf("Shutdown = %d, %v; %d ran", notRun, err, ran.Load())
	}
	if _, err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	s, err := New(Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	nop := func(*Worker) {}
	checks := map[string]error{
		"Submit":         s.Submit(ctx, nop),
		"TrySubmit":      s.TrySubmit(nop),
		"Broadcast":      s.Broadcast(ctx, nop),
		"SubmitBlocking": s.SubmitBlocking(ctx, func(context.Context) {}),
	}
	_, checks["Go"] = Go(ctx, s, func(*Worker) (int, error) { return 0, nil }).Wait(ctx)
	_, checks["GoBlocking"] = GoBlocking(ctx, s, func(context.Context) (int, error) { return 0, nil }).Wait(ctx)
	checks["ParallelFor"] = ParallelFor(ctx, s, 0, 10, 1, func(*Worker, int, int) {})
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestNilFunc(t *testing.T) {
	s := newTest(t, Options{Workers: 1})
	ctx := context.Background()
	checks := map[string]error{
		"Submit":         s.Submit(ctx, nil),
		"TrySubmit":      s.TrySubmit(nil),
		"Broadcast":      s.Broadcast(ctx, nil),
		"SubmitBlocking": s.SubmitBlocking(ctx, nil),
	}
	_, checks["Go"] = Go[int](ctx, s, nil).Wait(ctx)
	_, checks["GoBlocking"] = GoBlocking[int](ctx, s, nil).Wait(ctx)
	for name, err := range checks {
		if !errors.Is(err, ErrNilFunc) {
			t.Errorf("%s(nil): %v, want ErrNilFunc", name, err)
		}
	}
}

// TestQueueFull fills the submission queue behind a worker that is kept
// busy: TrySubmit reports ErrQueueFull, Submit waits and gives up with its
// context's error, and everything accepted still runs once it is freed.
func TestQueueFull(t *testing.T) {
	s := newTest(t, Options{Workers: 1, QueueSize: 8})
	ctx := context.Background()
	hold, started := make(chan struct{}), make(chan struct{})
	if err := s.Submit(ctx, func(*Worker) { close(started); <-hold }); err != nil {
		t.Fatal(err)
	}
	<-started
	var ran atomic.Int32
	accepted := int32(0)
	for {
		err := s.TrySubmit(func(*Worker) { ran.Add(1) })
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if accepted++; accepted > 8 {
			t.Fatalf("TrySubmit accepted %d tasks into a queue of 8", accepted)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.Submit(tctx, func(*Worker) {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit to a full queue: %v, want the context's deadline", err)
	}
	if st := s.Stats(); st.Queued != int(accepted) || st.Busy != 1 {
		t.Fatalf("Stats with a full queue: %+v (accepted %d)", st, accepted)
	}
	close(hold)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != accepted {
		t.Fatalf("%d of %d accepted tasks ran", ran.Load(), accepted)
	}
}

func TestFutureWaitContext(t *testing.T) {
	s := newTest(t, Options{Workers: 1})
	hold := make(chan struct{})
	defer close(hold)
	f := Go(context.Background(), s, func(*Worker) (int, error) { <-hold; return 1, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v, want the deadline", err)
	}
	if f.Done() {
		t.Fatal("Done before the task returned")
	}
}

func TestParallelForContext(t *testing.T) {
	s := newTest(t, Options{Workers: 2})
	ctx, cancel := context.WithCancel(context.Background())
	var chunks atomic.Int64
	err := ParallelFor(ctx, s, 0, 1<<20, 1, func(_ *Worker, lo, hi int) {
		if chunks.Add(1) == 100 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ParallelFor: %v, want context.Canceled", err)
	}
	if n := chunks.Load(); n >= 1<<20 {
		t.Fatalf("all %d chunks ran after cancellation", n)
	}
}

func TestInvalidOptions(t *testing.T) {
	bad := map[string]Options{
		"Workers<0":          {Workers: -1},
		"QueueSize<0":        {QueueSize: -1},
		"QueueSize huge":     {QueueSize: 1 << 40},
		"LocalQueueSize=3":   {LocalQueueSize: 3},
		"LocalQueueSize=1":   {LocalQueueSize: 1},
		"LocalQueueSize<0":   {LocalQueueSize: -4},
		"StuckAfter<0":       {StuckAfter: -time.Second},
		"MaxBlocking<0":      {MaxBlocking: -1},
		"BlockingIdle<0":     {BlockingIdle: -time.Second},
		"CPUs without Pin":   {CPUs: []int{0}},
		"CPUs count":         {Pin: true, Workers: 2, CPUs: []int{0}},
		"CPU does not exist": {Pin: true, CPUs: []int{1 << 20}},
	}
	for name, opt := range bad {
		s, err := New(opt)
		if err == nil {
			s.Close()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
}

// TestShutdownCompletesDroppedFutures: a future whose task Shutdown's
// deadline drops completes with ErrClosed (its OnDone hooks run), so that
// nobody waits for it forever.
func TestShutdownCompletesDroppedFutures(t *testing.T) {
	s, err := New(Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	Go(context.Background(), s, func(*Worker) (int, error) {
		close(started)
		<-release // holds the only worker past the deadline
		return 0, nil
	})
	<-started
	var hooks atomic.Int32
	queued := make([]*Future[int], 10)
	for i := range queued {
		queued[i] = Go(context.Background(), s, func(*Worker) (int, error) { return 1, nil })
		queued[i].OnDone(func() { hooks.Add(1) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	notRun, err := s.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || notRun != 10 {
		t.Fatalf("Shutdown = %d, %v; want 10 not run and the deadline", notRun, err)
	}
	for i, f := range queued {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := f.Wait(wctx)
		wcancel()
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("dropped future %d: Wait = %v, want ErrClosed", i, err)
		}
	}
	if hooks.Load() != 10 {
		t.Fatalf("%d OnDone hooks ran for 10 dropped futures", hooks.Load())
	}
	close(release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownFailsBlockedSubmitters: a submitter waiting for room in a
// full queue when Shutdown gives up gets ErrClosed, not a place in a queue
// nobody will ever read again.
func TestShutdownFailsBlockedSubmitters(t *testing.T) {
	s, err := New(Options{Workers: 1, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	if err := s.Submit(context.Background(), func(*Worker) { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	for s.TrySubmit(func(*Worker) {}) == nil {
	}
	blocked := make(chan error, 2)
	go func() { blocked <- s.Submit(context.Background(), func(*Worker) {}) }()
	go func() {
		_, err := Go(context.Background(), s, func(*Worker) (int, error) { return 0, nil }).Wait(context.Background())
		blocked <- err
	}()
	time.Sleep(5 * time.Millisecond) // let them block on the full queue
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 2 {
		if err := <-blocked; !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked submitter: %v, want ErrClosed", err)
		}
	}
	close(release)
	s.Close()
}

func TestOnDone(t *testing.T) {
	s := newTest(t, Options{Workers: 2})
	ctx := context.Background()
	// Registered before and after completion; each runs exactly once, in
	// registration order for those registered before.
	hold := make(chan struct{})
	f := Go(ctx, s, func(*Worker) (int, error) { <-hold; return 7, nil })
	var order []int
	var mu sync.Mutex
	for i := range 3 {
		f.OnDone(func() { mu.Lock(); order = append(order, i); mu.Unlock() })
	}
	close(hold)
	if v, err := f.Wait(ctx); v != 7 || err != nil {
		t.Fatal(v, err)
	}
	waitFor(t, "hooks", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 3 })
	ran := false
	f.OnDone(func() { ran = true }) // already done: runs here
	if !ran {
		t.Fatal("OnDone on a finished future did not run at once")
	}
	mu.Lock()
	if order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("hooks ran in order %v", order)
	}
	mu.Unlock()
	// Racing registrations and completions: every hook exactly once.
	n := scaled(20000)
	var calls atomic.Int64
	for range n {
		f := Go(ctx, s, func(*Worker) (int, error) { return 0, nil })
		f.OnDone(func() { calls.Add(1) })
	}
	waitFor(t, "racing hooks", func() bool { return calls.Load() == int64(n) })
	// A refused task's hook runs too.
	refused := Go[int](ctx, s, nil)
	var r atomic.Bool
	refused.OnDone(func() { r.Store(true) })
	if !r.Load() {
		t.Fatal("OnDone of a refused task did not run")
	}
}
