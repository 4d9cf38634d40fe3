package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/shm"
)

// A task that ends with a context error (the common `return ctx.Err()`
// under Pool.Timeout) before submit looks at its future releases its
// admission exactly once.
func TestPoolReleasesAdmissionOnce(t *testing.T) {
	p, err := NewPool(func(ctx context.Context, x int) (int, error) {
		return 0, context.Canceled
	}, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 200000 {
		f, err := p.Submit(context.Background(), 1)
		if err == nil {
			f.Wait(context.Background())
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := p.admitted.Load(); n != 0 {
		t.Fatalf("admitted = %d after every task finished, want 0 (double release)", n)
	}
}

// Pool.Shutdown past its deadline: the dropped tasks' futures complete,
// their admission is returned, and a later Close returns.
func TestPoolShutdownDeadlineThenClose(t *testing.T) {
	started := make(chan struct{}, 1)
	p, err := NewPool(func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			started <- struct{}{}
			time.Sleep(200 * time.Millisecond)
		}
		return x, nil
	}, PoolOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Submit(context.Background(), 0)
	<-started
	execDone := make(chan error, 1)
	go func() { _, err := p.Execute(context.Background(), 1); execDone <- err }()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n, err := p.Shutdown(ctx)
	t.Logf("Shutdown = %d, %v", n, err)
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case err := <-execDone:
		t.Logf("Execute returned %v", err)
	case <-time.After(time.Second):
		t.Errorf("Execute(Background) of a task dropped by Shutdown still blocked 1s later")
	}
	select {
	case <-closed:
	case <-time.After(time.Second):
		t.Errorf("Close after a Shutdown that hit its deadline hangs (admitted = %d)", p.admitted.Load())
	}
}

// A submitter held by the memory gate gets ErrClosed once the system shuts
// down.
func TestSystemGateSeesShutdown(t *testing.T) {
	sys, err := NewSystem(func(ctx context.Context, x int) (int, error) { return x, nil },
		SystemOptions{Pool: PoolOptions{Workers: 1}, MemoryLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := sys.Execute(context.Background(), 1); done <- err }()
	time.Sleep(20 * time.Millisecond)
	sys.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Execute = %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Execute held by the memory gate still blocked 1s after Shutdown")
	}
	if _, err := sys.TrySubmit(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("TrySubmit after Shutdown = %v, want ErrClosed", err)
	}
}

// A CPU Broadcast whose ctx ends before a busy worker runs its call: the
// call does not run after Broadcast has returned.
func TestSystemBroadcastNoLateCall(t *testing.T) {
	sys, err := NewSystem(func(ctx context.Context, x int) (int, error) {
		time.Sleep(100 * time.Millisecond) // busy worker (not synchronised with the test)
		return x, nil
	}, SystemOptions{Pool: PoolOptions{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.Submit(context.Background(), 1)
	time.Sleep(10 * time.Millisecond)
	var ranAfter atomic.Bool
	var returned atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = sys.Broadcast(ctx, func(ctx context.Context, _ *NoState) error {
		if returned.Load() {
			ranAfter.Store(true)
		}
		return errors.New("late")
	})
	returned.Store(true)
	t.Logf("Broadcast = %v", err)
	time.Sleep(200 * time.Millisecond)
	if ranAfter.Load() {
		t.Errorf("Broadcast returned %v, yet its fn ran on the worker afterwards", err)
	}
}

type closeState1 struct {
	closed atomic.Bool
}

func (s *closeState1) Close() error { s.closed.Store(true); return nil }

// An IO Broadcast does not call fn on a state retired (closed) after it
// took its snapshot (a shared scheduler runs more tasks than the free list
// holds).
func TestSystemBroadcastSkipsRetiredStates(t *testing.T) {
	s, err := sched.New(sched.Options{Workers: 1, MaxBlocking: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 100
	var wg sync.WaitGroup
	wg.Add(n)
	gate := make(chan struct{})
	sys, err := NewStatefulSystem(func(int) *closeState1 { return new(closeState1) },
		func(ctx context.Context, st *closeState1, x int) (int, error) {
			wg.Done()
			<-gate
			return x, nil
		}, SystemOptions{Pool: PoolOptions{Kind: IO, Workers: 2, Scheduler: s}})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	for range n {
		if _, err := sys.Submit(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait() // n states exist and are held
	var onClosed atomic.Int64
	bdone := make(chan error)
	go func() {
		bdone <- sys.Broadcast(context.Background(), func(ctx context.Context, st *closeState1) error {
			if st.closed.Load() {
				onClosed.Add(1)
				return fmt.Errorf("state already closed")
			}
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	close(gate)
	<-bdone
	if k := onClosed.Load(); k > 0 {
		t.Fatalf("Broadcast called fn on %d retired (closed) states", k)
	}
}

// A TransferRequest that never enters the mailbox (ctx ends while it is
// full) releases the moved handle: the pool block comes back.
func TestTransferRequestNotQueuedReleases(t *testing.T) {
	a, err := shm.New(1<<20, shm.Options{})
	if err != nil {
		t.Skip(err)
	}
	defer a.Close()
	pool, err := a.NewPool(4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBroker(BrokerOptions{MailboxSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	block := make(chan struct{})
	if _, err := Handle(b, "hold", func(ctx context.Context, x int) (int, error) { <-block; return x, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(b, "buf", func(ctx context.Context, buf *shm.Buffer) (int, error) { buf.Release(); return 0, nil }); err != nil {
		t.Fatal(err)
	}
	// Fill the worker and the mailbox.
	go Request[int, int](context.Background(), b, "hold", 1)
	time.Sleep(10 * time.Millisecond)
	if err := Post(context.Background(), b, "hold", 2); err != nil {
		t.Fatal(err)
	}
	buf, err := pool.Get()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	acc := b.Stats().Accepted
	_, err = TransferRequest[int](ctx, b, "buf", buf)
	t.Logf("TransferRequest = %v (accepted %d -> %d)", err, acc, b.Stats().Accepted)
	close(block)
	time.Sleep(50 * time.Millisecond)
	if _, err := pool.Get(); err != nil {
		t.Fatalf("pool block lost: the refused transfer's handle was never released (%v)", err)
	}
}

// A handler that keeps the buffer and returns an error wrapping ErrClosed
// (say, from a downstream pool) keeps it: the caller does not release it.
func TestTransferRequestKeepsHandlersBuffer(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	var kept *shm.Buffer
	if _, err := Handle(b, "keep", func(ctx context.Context, buf *shm.Buffer) (int, error) {
		kept = buf
		return 0, fmt.Errorf("forward: %w", ErrClosed)
	}); err != nil {
		t.Fatal(err)
	}
	buf, err := a.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TransferRequest[int](context.Background(), b, "keep", buf)
	t.Logf("TransferRequest = %v", err)
	if kept.Detached() {
		t.Fatal("the handler received and kept the buffer, and TransferRequest released it")
	}
}

// TransferAll with a buffer of a closed arena second transfers none.
func TestTransferAllNoneOnClosedArena(t *testing.T) {
	a1, err := shm.New(1<<20, shm.Options{})
	if err != nil {
		t.Skip(err)
	}
	defer a1.Close()
	a2, _ := shm.New(1<<20, shm.Options{})
	b1, _ := a1.Alloc(64)
	b2, _ := a2.Alloc(64)
	a2.Close()
	out, err := TransferAll(b1, b2)
	if !errors.Is(err, shm.ErrClosed) || out != nil || b1.Detached() {
		t.Fatalf("TransferAll with a closed arena = %d handles, %v; b1 detached: %v — want ErrClosed and none moved", len(out), err, b1.Detached())
	}
	c, _ := a1.Alloc(64)
	if _, err := TransferAll(c, c); !errors.Is(err, ErrInvalidOptions) || c.Detached() {
		t.Fatalf("TransferAll(c, c) = %v, detached %v; want ErrInvalidOptions and c untouched", err, c.Detached())
	}
}

// The same, without any synchronisation of the test's own: under -race,
// nothing touches Broadcast's errors after it returned.
func TestSystemBroadcastErrorsRace(t *testing.T) {
	sys, err := NewSystem(func(ctx context.Context, x int) (int, error) {
		time.Sleep(100 * time.Millisecond)
		return x, nil
	}, SystemOptions{Pool: PoolOptions{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.Submit(context.Background(), 1)
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	sys.Broadcast(ctx, func(ctx context.Context, _ *NoState) error { return errors.New("late") })
	time.Sleep(200 * time.Millisecond)
}

type countState struct{ closed atomic.Bool }

func (s *countState) Close() error { s.closed.Store(true); return nil }

// With a shared scheduler, Shutdown waits for a Broadcast's calls, and
// every state made is closed.
func TestSystemBroadcastVsShutdownShared(t *testing.T) {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var made, closedN atomic.Int64
	var mu sync.Mutex
	var all []*countState
	sys, err := NewStatefulSystem(func(int) *countState {
		made.Add(1)
		st := new(countState)
		mu.Lock()
		all = append(all, st)
		mu.Unlock()
		return st
	}, func(ctx context.Context, st *countState, x int) (int, error) { return x, nil },
		SystemOptions{Pool: PoolOptions{Scheduler: s}})
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	bdone := make(chan struct{})
	go func() {
		<-start
		for range 50 {
			sys.Broadcast(context.Background(), func(ctx context.Context, st *countState) error {
				time.Sleep(time.Millisecond)
				return nil
			})
		}
		close(bdone)
	}()
	close(start)
	time.Sleep(3 * time.Millisecond)
	sys.Close()
	<-bdone
	mu.Lock()
	for _, st := range all {
		if st.closed.Load() {
			closedN.Add(1)
		}
	}
	mu.Unlock()
	if made.Load() != closedN.Load() {
		t.Fatalf("%d states made, %d closed: states made by Broadcast after Close leak", made.Load(), closedN.Load())
	}
}

func TestSystemPublishNameReusable(t *testing.T) {
	mk := func() error {
		sys, err := NewSystem(func(ctx context.Context, x int) (int, error) { return x, nil },
			SystemOptions{Pool: PoolOptions{Workers: 1}, Publish: "weft-test-republish"})
		if err == nil {
			sys.Close()
		}
		return err
	}
	if err := mk(); err != nil {
		t.Fatal(err)
	}
	if err := mk(); err != nil {
		t.Fatalf("a second System under the name of a shut-down one: %v", err)
	}
}

// System.Shutdown past its deadline: the pool's states are retired (an
// io.Closer closed) once the running task ends.
func TestSystemShutdownDeadlineRetiresStates(t *testing.T) {
	var st0 *countState
	started := make(chan struct{})
	sys, err := NewStatefulSystem(func(int) *countState { st0 = new(countState); return st0 },
		func(ctx context.Context, st *countState, x int) (int, error) {
			close(started)
			time.Sleep(100 * time.Millisecond)
			return x, nil
		}, SystemOptions{Pool: PoolOptions{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sys.Submit(context.Background(), 1)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	rep, err := sys.Shutdown(ctx)
	t.Logf("Shutdown = %+v, %v", rep, err)
	time.Sleep(300 * time.Millisecond)
	sys.Close()
	if !st0.closed.Load() {
		t.Fatal("the worker's state was never closed")
	}
}

// An IO task whose ctx is cancelled while it waits for a goroutine gives
// back its admission: no capacity leaks, Close returns.
func TestPoolIOCancelledInQueueReleases(t *testing.T) {
	gate := make(chan struct{})
	p, err := NewPool(func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			<-gate
		}
		return x, nil
	}, PoolOptions{Kind: IO, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Submit(context.Background(), 0)
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	f, err := p.Submit(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	close(gate)
	_, err = f.Wait(context.Background())
	t.Logf("queued task: %v", err)
	time.Sleep(20 * time.Millisecond)
	if n := p.admitted.Load(); n != 0 {
		t.Errorf("admitted = %d with nothing running or queued", n)
	}
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Close hangs")
	}
}
