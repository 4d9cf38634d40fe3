package ring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// blockingOps are the four blocking methods, each run on a queue prepared
// so that the call must wait: full for pushes, empty for pops.
var blockingOps = []struct {
	name     string
	producer bool
	run      func(ctx context.Context, q queue) (int, error)
}{
	{"Push", true, func(ctx context.Context, q queue) (int, error) { return 0, q.Push(ctx, 99) }},
	{"PushBatch", true, func(ctx context.Context, q queue) (int, error) { return q.PushBatch(ctx, []uint64{98, 99}) }},
	{"Pop", false, func(ctx context.Context, q queue) (int, error) { _, err := q.Pop(ctx); return 0, err }},
	{"PopBatch", false, func(ctx context.Context, q queue) (int, error) { return q.PopBatch(ctx, make([]uint64, 4)) }},
}

// blockingQueue returns a queue on which a push (producer) or a pop must wait.
func blockingQueue(t *testing.T, k kind, producer bool) queue {
	q := k.new(t, 4)
	if producer {
		for i := range q.Cap() {
			if err := q.TryPush(uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return q
}

// checkUntouched verifies that a cancelled call left q as blockingQueue
// made it, with nobody registered to wait.
func checkUntouched(t *testing.T, q queue, producer bool) {
	t.Helper()
	waitParked(t, q, 0, 0)
	want := 0
	if producer {
		want = q.Cap()
	}
	if n := q.Len(); n != want {
		t.Fatalf("Len() = %d after the cancelled call, want %d", n, want)
	}
	for i := range want {
		if v, err := q.TryPop(); v != uint64(i) || err != nil {
			t.Fatalf("TryPop() = %d, %v, want %d, nil", v, err, i)
		}
	}
}

func TestCancelUnblocksParked(t *testing.T) {
	for _, k := range kinds {
		for _, op := range blockingOps {
			t.Run(k.name+"/"+op.name, func(t *testing.T) {
				q := blockingQueue(t, k, op.producer)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					n, err := op.run(ctx, q)
					if n != 0 {
						err = fmt.Errorf("n = %d, want 0 (err %v)", n, err)
					}
					done <- err
				}()
				if op.producer {
					waitParked(t, q, 0, 1)
				} else {
					waitParked(t, q, 1, 0)
				}
				cancel()
				select {
				case err := <-done:
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("%s: %v, want context.Canceled", op.name, err)
					}
				case <-time.After(hangTimeout):
					t.Fatalf("%s not woken by cancellation", op.name)
				}
				checkUntouched(t, q, op.producer)
			})
		}
	}
}

func TestDeadlineUnblocksParked(t *testing.T) {
	for _, k := range kinds {
		for _, op := range blockingOps {
			t.Run(k.name+"/"+op.name, func(t *testing.T) {
				q := blockingQueue(t, k, op.producer)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				defer cancel()
				n, err := op.run(ctx, q)
				if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s = %d, %v, want 0, context.DeadlineExceeded", op.name, n, err)
				}
				checkUntouched(t, q, op.producer)
			})
		}
	}
}

func TestCancelledBeforeCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, k := range kinds {
		for _, op := range blockingOps {
			t.Run(k.name+"/"+op.name, func(t *testing.T) {
				q := blockingQueue(t, k, op.producer)
				if n, err := op.run(ctx, q); n != 0 || !errors.Is(err, context.Canceled) {
					t.Fatalf("%s = %d, %v, want 0, context.Canceled", op.name, n, err)
				}
				checkUntouched(t, q, op.producer)
			})
		}
	}
}

// TestCancelPushBatchPartial cancels a PushBatch that has pushed part of its
// batch: it reports the pushed prefix, which stays in the queue.
func TestCancelPushBatchPartial(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := k.new(t, 4)
			q.TryPush(0)
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := q.PushBatch(ctx, []uint64{1, 2, 3, 4, 5})
				done <- result{n, err}
			}()
			waitParked(t, q, 0, 1)
			cancel()
			if r := <-done; r.n != 3 || !errors.Is(r.err, context.Canceled) {
				t.Fatalf("PushBatch = %d, %v, want 3, context.Canceled", r.n, r.err)
			}
			dst := make([]uint64, 8)
			n, err := q.TryPopBatch(dst)
			if err != nil || !slices.Equal(dst[:n], []uint64{0, 1, 2, 3}) {
				t.Fatalf("queue holds %v (%v), want [0 1 2 3]", dst[:n], err)
			}
		})
	}
}

// TestStressCancelKeepsWakeup parks two goroutines on an MPMC queue and
// cancels the older one while the other side makes room for exactly one of
// them. The notification may reach the cancelled waiter; it must then pass
// it on, so that exactly one of the two completes.
func TestStressCancelKeepsWakeup(t *testing.T) {
	ops := []struct {
		name     string
		producer bool
		run      func(ctx context.Context, q queue) (int, error)
	}{
		{"Push", true, func(ctx context.Context, q queue) (int, error) { return count(q.Push(ctx, 99)) }},
		{"PushBatch", true, func(ctx context.Context, q queue) (int, error) { return q.PushBatch(ctx, []uint64{99}) }},
		{"Pop", false, func(ctx context.Context, q queue) (int, error) { _, err := q.Pop(ctx); return count(err) }},
		{"PopBatch", false, func(ctx context.Context, q queue) (int, error) { return q.PopBatch(ctx, make([]uint64, 4)) }},
	}
	rounds := scaled(2000)
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for round := range rounds {
				cancelKeepsWakeup(t, round%3, op.producer, op.run)
				if t.Failed() {
					t.Fatalf("round %d failed", round)
				}
			}
		})
	}
}

// count turns a single-item result into a batch-style count.
func count(err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return 1, nil
}

func cancelKeepsWakeup(t *testing.T, order int, producer bool, run func(context.Context, queue) (int, error)) {
	q, _ := NewMPMC[uint64](2)
	if producer {
		q.TryPush(0)
		q.TryPush(1)
	}
	parked := func(n int) {
		if producer {
			waitParked(t, q, 0, n)
		} else {
			waitParked(t, q, n, 0)
		}
	}
	type result struct {
		n   int
		err error
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel2()
	done1, done2 := make(chan result, 1), make(chan result, 1)
	go func() { n, err := run(ctx1, q); done1 <- result{n, err} }()
	parked(1)
	go func() { n, err := run(ctx2, q); done2 <- result{n, err} }()
	parked(2)

	// Cancel the older waiter and make one unit of room, in either order or
	// concurrently. Cancelling first makes it likely that the notification
	// reaches the older waiter after its context ended, as it withdraws.
	room := func() {
		if producer {
			if _, err := q.TryPop(); err != nil {
				t.Error(err)
			}
		} else if err := q.TryPush(7); err != nil {
			t.Error(err)
		}
	}
	switch order {
	case 0:
		cancel1()
		room()
	case 1:
		room()
		cancel1()
	default:
		go cancel1()
		room()
	}

	r1 := <-done1
	switch {
	case r1.err == nil && r1.n == 1:
		// The older waiter took the room; the other must still wait.
		parked(1)
		q.Close()
		if r2 := <-done2; r2.n != 0 || r2.err != ErrClosed {
			t.Fatalf("second waiter = %d, %v after Close, want ErrClosed", r2.n, r2.err)
		}
	case errors.Is(r1.err, context.Canceled) && r1.n == 0:
		// The room is the second waiter's.
		if r2 := <-done2; r2.err != nil || r2.n != 1 {
			t.Fatalf("second waiter = %d, %v: the wake-up was lost with the cancelled waiter", r2.n, r2.err)
		}
		q.Close()
	default:
		t.Fatalf("cancelled waiter = %d, %v", r1.n, r1.err)
	}
	parked(0)
}

// nilCtx is passed where a test needs a nil context.
var nilCtx context.Context

// panics reports whether f panics, recovering the panic.
func panics(f func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	f()
	return false
}

// TestNilContextPanics checks the package documentation's promise that a
// nil context passed to a blocking method panics, both when the call would
// wait and when it could complete at once.
func TestNilContextPanics(t *testing.T) {
	for _, k := range kinds {
		for _, op := range blockingOps {
			for _, wait := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/wait=%v", k.name, op.name, wait), func(t *testing.T) {
					q := blockingQueue(t, k, op.producer)
					if !wait {
						if op.producer {
							q.TryPop()
							q.TryPop()
						} else {
							q.TryPush(1)
						}
					}
					if !panics(func() { op.run(nilCtx, q) }) {
						t.Errorf("%s(nil, ...) did not panic", op.name)
					}
				})
			}
		}
	}
}

// TestNilContextPanicKeepsQueueUsable recovers the panic of a blocking call
// made with a nil context where it must wait, and then checks that the queue
// still works: no waiter is left registered, and a goroutine parked
// afterwards is woken when the other side makes room.
func TestNilContextPanicKeepsQueueUsable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type pending struct {
		name string
		q    queue
		done chan error
	}
	var all []pending
	for _, k := range kinds {
		for _, op := range blockingOps {
			name := k.name + "/" + op.name
			q := blockingQueue(t, k, op.producer)
			if !panics(func() { op.run(nilCtx, q) }) {
				t.Errorf("%s: call with nil context on a queue where it must wait did not panic", name)
				continue
			}
			c, p := waiters(q)
			if c != 0 || p != 0 {
				t.Errorf("%s: after the recovered panic, %d consumers and %d producers are registered, want none", name, c, p)
			}
			done := make(chan error, 1)
			go func() { _, err := op.run(ctx, q); done <- err }()
			if op.producer {
				waitParked(t, q, c, p+1)
				q.TryPop() // room for Push, and for PushBatch's first item
				q.TryPop() // and its second
			} else {
				waitParked(t, q, c+1, p)
				q.TryPush(7)
			}
			all = append(all, pending{name, q, done})
		}
	}
	for _, p := range all {
		if err := <-p.done; err != nil {
			t.Errorf("%s: call parked after the recovered panic was not woken: %v (Len %d)", p.name, err, p.q.Len())
		}
	}
}
