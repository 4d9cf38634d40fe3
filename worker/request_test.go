package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
)

func TestRequestReply(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	up, err := Handle(b, "upper", func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil })
	if err != nil {
		t.Fatal(err)
	}
	type big struct{ A, B, C, D int64 } // too big to travel in the slot
	sum, err := Handle(b, "sum", func(_ context.Context, v big) (int64, error) { return v.A + v.B + v.C + v.D, nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(100) {
		if v, err := ep.Request(ctx, i); v != i+1 || err != nil {
			t.Fatalf("inc(%d) = %d, %v", i, v, err)
		}
		s := fmt.Sprint("x", i)
		if v, err := up.Request(ctx, s); v != strings.ToUpper(s) || err != nil {
			t.Fatalf("upper(%q) = %q, %v", s, v, err)
		}
		if v, err := sum.Request(ctx, big{int64(i), 1, 2, 3}); v != int64(i)+6 || err != nil {
			t.Fatalf("sum = %d, %v", v, err)
		}
	}
	if v, err := Request[string, string](ctx, b, "upper", "by name"); v != "BY NAME" || err != nil {
		t.Fatalf("Request by name = %q, %v", v, err)
	}
	if ep.Type() != "inc" {
		t.Fatalf("Type = %q", ep.Type())
	}
	// The worker counts a message handled just after replying. One caller
	// at a time: every request took the endpoint's shared lane.
	eventually(t, func() bool { return b.Stats().LaneRequests == 301 })
	if st := b.Stats(); st.Accepted != 0 || st.Failed != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestRequestHandlerErrorAndPanic(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	errOdd := errors.New("odd")
	ep, err := Handle(b, "even", func(_ context.Context, i int) (int, error) {
		switch {
		case i < 0:
			panic("negative")
		case i%2 == 1:
			return 0, errOdd
		}
		return i / 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ep.Request(ctx, 3); !errors.Is(err, errOdd) {
		t.Fatalf("handler error: %v", err)
	}
	_, err = ep.Request(ctx, -1)
	var pe *sched.PanicError
	if !errors.Is(err, sched.ErrPanic) || !errors.As(err, &pe) || pe.Value != "negative" {
		t.Fatalf("handler panic: %v", err)
	}
	// The worker survives its handler's panic.
	if v, err := ep.Request(ctx, 4); v != 2 || err != nil {
		t.Fatalf("after the panic: %d, %v", v, err)
	}
	if st := b.Stats(); st.Failed != 2 || st.Panics != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestRequestTimeouts: the default timeout gives ErrTimeout, a context
// deadline gives the context's error, and the handler's context is the
// caller's.
func TestRequestTimeouts(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: 20 * time.Millisecond})
	ep, err := Handle(b, "sleep", func(ctx context.Context, d time.Duration) (int, error) {
		select {
		case <-time.After(d):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ep.Request(context.Background(), 100*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("default timeout: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := ep.Request(ctx, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("context deadline: %v", err)
	}
	b.SetTimeout(-1) // none: the reply comes however long it takes
	if v, err := ep.Request(context.Background(), 40*time.Millisecond); v != 1 || err != nil {
		t.Fatalf("no default timeout: %d, %v", v, err)
	}
	if st := b.Stats(); st.Timeouts != 2 {
		t.Fatalf("Timeouts = %d, want 2", st.Timeouts)
	}
}

// TestRequestLateReplyDropped: a caller times out; its reply, which comes
// later, must not reach the next caller, who gets its own. The late reply
// is counted.
func TestRequestLateReplyDropped(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: 10 * time.Millisecond})
	gate := make(chan struct{})
	ep, err := Handle(b, "echo", func(_ context.Context, v uint64) (uint64, error) {
		if v == 1 {
			<-gate // the first request is slow
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ep.Request(ctx, 1); !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow request: %v, want ErrTimeout", err)
	}
	// The next caller sends while the late reply is still to come.
	got := make(chan uint64)
	go func() {
		v, err := ep.Request(ctx, 2)
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	time.Sleep(time.Millisecond)
	close(gate)
	if v := <-got; v != 2 {
		t.Fatalf("second caller got %d, want its own reply 2", v)
	}
	// The mailbox is FIFO: the late reply was resolved before reply 2.
	if st := b.Stats(); st.Late != 1 || st.Timeouts != 1 {
		t.Fatalf("Late = %d, Timeouts = %d; want 1 and 1", st.Late, st.Timeouts)
	}
	// The cell the worker recycled serves later callers correctly.
	b.SetTimeout(-1)
	for i := range uint64(100) {
		if v, err := ep.Request(ctx, 10+i); v != 10+i || err != nil {
			t.Fatalf("after a late reply: %d, %v", v, err)
		}
	}
}

// TestStressRequestTimeouts: many callers, random deadlines, a handler of
// random speed: every reply that arrives is the caller's own, and every
// request given up on is counted as late once the worker reaches it.
func TestStressRequestTimeouts(t *testing.T) {
	// A mailbox with room for every request: each give-up happens while
	// waiting for the reply, and so leaves a late reply.
	b := newTestBroker(t, BrokerOptions{MailboxSize: 1 << 16})
	ep, err := Handle(b, "echo", func(_ context.Context, v uint64) (uint64, error) {
		if v%7 == 0 {
			time.Sleep(time.Duration(v%50) * time.Microsecond)
		}
		return v * 3, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	callers, each := 8, brkScaled(4000)
	var gaveUp atomic.Uint64
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for i := range each {
				v := uint64(c*each+i) + 1
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if rng.IntN(4) == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(30))*time.Microsecond)
				}
				got, err := ep.Request(ctx, v)
				cancel()
				switch {
				case err == nil && got != 3*v:
					t.Errorf("request %d got %d: another caller's reply", v, got)
					return
				case errors.Is(err, context.DeadlineExceeded):
					gaveUp.Add(1)
				case err != nil:
					t.Errorf("request %d: %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// One more request flushes the mailbox (FIFO, one worker).
	if _, err := ep.Request(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Late != gaveUp.Load() || st.Timeouts != gaveUp.Load() {
		t.Fatalf("gave up on %d requests; stats say Late %d, Timeouts %d", gaveUp.Load(), st.Late, st.Timeouts)
	}
	eventually(t, func() bool { st := b.Stats(); return st.Handled+st.LaneRequests == uint64(callers*each+1) })
	// The endpoint's shared lane was given up and replaced many times:
	// the retired ones are dropped.
	eventually(t, func() bool { return brkLanes(b) <= 1 })
	t.Logf("%d of %d requests gave up", gaveUp.Load(), callers*each)
}

// TestRequestMailboxFull: senders wait for room while the mailbox is full,
// bounded by their context, and get through once the worker moves.
func TestRequestMailboxFull(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{MailboxSize: 2, Timeout: -1})
	gate := make(chan struct{})
	ep, err := Handle(b, "wait", func(_ context.Context, v int) (int, error) {
		<-gate
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 { // one running (its slot is held until it returns), one waiting: full
		if err := ep.Post(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if err := ep.Post(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post into a full mailbox: %v", err)
	}
	b.SetTimeout(5 * time.Millisecond)
	if err := ep.Post(ctx, 3); !errors.Is(err, ErrTimeout) {
		t.Fatalf("post into a full mailbox, default timeout: %v", err)
	}
	b.SetTimeout(-1)
	done := make(chan error)
	go func() {
		_, err := ep.Request(ctx, 4)
		done <- err
	}()
	time.Sleep(time.Millisecond)
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRequestNoAllocs proves the steady-state request allocates nothing.
func TestRequestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	b := newTestBroker(t, BrokerOptions{})
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var i uint64
	if n := testing.AllocsPerRun(10000, func() {
		i++
		if v, err := ep.Request(ctx, i); v != i+1 || err != nil {
			t.Fatal(v, err)
		}
	}); n != 0 {
		t.Fatalf("Endpoint.Request allocates %v per call", n)
	}
	if n := testing.AllocsPerRun(10000, func() {
		i++
		if v, err := Request[uint64, uint64](ctx, b, "inc", i); v != i+1 || err != nil {
			t.Fatal(v, err)
		}
	}); n != 0 {
		t.Fatalf("Request allocates %v per call", n)
	}
	cl := ep.Client()
	if n := testing.AllocsPerRun(10000, func() {
		i++
		if v, err := cl.Request(ctx, i); v != i+1 || err != nil {
			t.Fatal(v, err)
		}
	}); n != 0 {
		t.Fatalf("Client.Request allocates %v per call", n)
	}
	// A parked caller (a slow handler) allocates nothing either, once its
	// cell has a timer.
	slow, err := Handle(b, "slow", func(_ context.Context, d time.Duration) (int, error) {
		time.Sleep(d)
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := slow.Request(ctx, 100*time.Microsecond); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("a parked request allocates %v per call", n)
	}
}

// TestStressRequestConcurrent: callers on every endpoint at once, each
// reply checked, every request counted exactly once.
func TestStressRequestConcurrent(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{MailboxSize: 8})
	var seen [4]map[uint64]bool
	eps := make([]*Endpoint[uint64, uint64], len(seen))
	for k := range eps {
		seen[k] = map[uint64]bool{}
		var err error
		eps[k], err = Handle(b, fmt.Sprint("ep", k), func(_ context.Context, v uint64) (uint64, error) {
			if seen[k][v] { // worker only: no lock
				return 0, fmt.Errorf("%d seen twice", v)
			}
			seen[k][v] = true
			return v ^ uint64(k), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	each := brkScaled(20000)
	var wg sync.WaitGroup
	for c := range 6 {
		wg.Go(func() {
			for i := range each {
				k := (c + i) % len(eps)
				v := uint64(c*each + i)
				if got, err := eps[k].Request(context.Background(), v); err != nil || got != v^uint64(k) {
					t.Errorf("ep%d(%d) = %d, %v", k, v, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for k := range seen {
		total += len(seen[k])
	}
	if total != 6*each {
		t.Fatalf("handled %d distinct requests, want %d", total, 6*each)
	}
}

// TestClientGivesUpItsCell: a client whose request times out hands its
// cell to the worker and takes a fresh one; the late reply reaches no one.
func TestClientGivesUpItsCell(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: 10 * time.Millisecond})
	gate := make(chan struct{})
	ep, err := Handle(b, "echo", func(_ context.Context, v uint64) (uint64, error) {
		if v == 1 {
			<-gate
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl := ep.Client()
	if v, err := cl.Request(ctx, 7); v != 7 || err != nil {
		t.Fatalf("first request: %d, %v", v, err)
	}
	first := cl.c
	if _, err := cl.Request(ctx, 1); !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow request: %v", err)
	}
	if cl.c != nil {
		t.Fatal("the client kept a cell it gave to the worker")
	}
	b.SetTimeout(-1)
	close(gate)
	for i := range uint64(50) {
		if v, err := cl.Request(ctx, 100+i); v != 100+i || err != nil {
			t.Fatalf("after giving up: %d, %v", v, err)
		}
	}
	if cl.c == nil || b.Stats().Late != 1 {
		t.Fatalf("client cell %p (first %p), late %d", cl.c, first, b.Stats().Late)
	}
}
