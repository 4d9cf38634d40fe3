package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
)

func brkLanes(b *Broker) int { return len(*b.lanes.Load()) }

func TestClientRequest(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	up, err := Handle(b, "upper", func(_ context.Context, s string) (string, error) {
		if s == "" {
			return "", errors.New("empty")
		}
		if s == "panic" {
			panic("boom")
		}
		return strings.ToUpper(s), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := up.Client()
	for i := range 200 {
		s := fmt.Sprint("s", i)
		if v, err := cl.Request(ctx, s); v != strings.ToUpper(s) || err != nil {
			t.Fatalf("%q -> %q, %v", s, v, err)
		}
	}
	if _, err := cl.Request(ctx, ""); err == nil || err.Error() != "empty" {
		t.Fatalf("handler error through a client: %v", err)
	}
	if _, err := cl.Request(ctx, "panic"); !errors.Is(err, sched.ErrPanic) {
		t.Fatalf("handler panic through a client: %v", err)
	}
	if v, err := cl.Request(ctx, "after"); v != "AFTER" || err != nil {
		t.Fatalf("after a panic: %q, %v", v, err)
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if _, err := cl.Request(nil, "x"); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("nil context: %v", err)
	}
	// The worker counts a request just after replying.
	eventually(t, func() bool { return b.Stats().LaneRequests == 203 })
	if st := b.Stats(); st.Accepted != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if brkLanes(b) != 1 {
		t.Fatalf("%d lanes, want 1", brkLanes(b))
	}
	cl.Close()
	eventually(t, func() bool { return brkLanes(b) == 0 })
	// A closed client opens a new lane when used again.
	if v, err := cl.Request(ctx, "again"); v != "AGAIN" || err != nil {
		t.Fatalf("after Close: %q, %v", v, err)
	}
	cl.Close()
}

// TestClientLaneCollected: a Client dropped without Close has its lane
// retired by the garbage collector.
func TestClientLaneCollected(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		cl := ep.Client()
		if _, err := cl.Request(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}()
	eventually(t, func() bool {
		runtime.GC()
		return brkLanes(b) == 0
	})
}

// TestClientSlowAndParked: a client waiting longer than its spin parks and
// is woken by the reply.
func TestClientSlowAndParked(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: -1})
	ep, err := Handle(b, "sleep", func(_ context.Context, d time.Duration) (int, error) {
		time.Sleep(d)
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := ep.Client()
	for range 20 {
		if v, err := cl.Request(context.Background(), 200*time.Microsecond); v != 1 || err != nil {
			t.Fatalf("%d, %v", v, err)
		}
	}
}

// TestStressClientsAndMailbox: clients and plain requests and posts at
// once; every reply is the caller's own, every message runs exactly once.
func TestStressClientsAndMailbox(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{MailboxSize: 8})
	counts := map[uint64]int{} // worker only
	ep, err := Handle(b, "echo", func(_ context.Context, v uint64) (uint64, error) {
		counts[v]++
		return v * 5, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	each := brkScaled(20000)
	var wg sync.WaitGroup
	for c := range 6 {
		wg.Go(func() {
			cl := ep.Client()
			defer cl.Close()
			for i := range each {
				v := uint64(c*each + i)
				var got uint64
				var err error
				switch {
				case c%3 == 0:
					got, err = cl.Request(context.Background(), v)
				case c%3 == 1:
					got, err = ep.Request(context.Background(), v)
				default:
					if err := ep.Post(context.Background(), v); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if err != nil || got != 5*v {
					t.Errorf("request %d: %d, %v", v, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(counts) != 6*each {
		t.Fatalf("%d distinct messages ran, want %d", len(counts), 6*each)
	}
	for v, n := range counts {
		if n != 1 {
			t.Fatalf("message %d ran %d times", v, n)
		}
	}
}

// TestClientShutdown: client requests racing with Close either run or
// fail with ErrClosed, never hang; afterwards they fail with ErrClosed.
func TestClientShutdown(t *testing.T) {
	for range brkScaled(50) {
		b, err := NewBroker(BrokerOptions{Timeout: -1})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := Handle(b, "inc", inc)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				cl := ep.Client()
				for i := uint64(0); ; i++ {
					v, err := cl.Request(context.Background(), i)
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil || v != i+1 {
						t.Errorf("%d: %d, %v", i, v, err)
						return
					}
				}
			})
		}
		time.Sleep(100 * time.Microsecond)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if _, err := ep.Client().Request(context.Background(), 1); !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	}
}

// TestClientShutdownDeadline: a client request queued behind a stuck
// handler fails with ErrClosed when Shutdown's deadline passes.
func TestClientShutdownDeadline(t *testing.T) {
	b, err := NewBroker(BrokerOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	started := make(chan struct{})
	ep, err := Handle(b, "work", func(_ context.Context, i int) (int, error) {
		if i == 0 {
			close(started)
			<-gate
		}
		return i, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Post(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	<-started
	done := make(chan error)
	go func() {
		_, err := ep.Client().Request(context.Background(), 1)
		done <- err
	}()
	eventually(t, func() bool { return brkLanes(b) == 1 })
	time.Sleep(time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	close(gate)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("queued client request: %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestClientWakesWorker: client requests that arrive after the worker has
// gone to sleep wake it (no lost wake-up), many times over.
func TestClientWakesWorker(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: -1})
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	cl := ep.Client()
	defer cl.Close()
	for i := range uint64(brkScaled(200)) {
		if i%10 == 0 {
			time.Sleep(200 * time.Microsecond) // long enough for the worker to park
		}
		if v, err := cl.Request(context.Background(), i); v != i+1 || err != nil {
			t.Fatalf("request %d: %d, %v", i, v, err)
		}
	}
}

// TestStressClientTimeouts: clients with random deadlines against a
// handler of random speed. Every reply a client gets is its own; every
// request given up on is dropped as late; lanes given up are dropped.
func TestStressClientTimeouts(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ep, err := Handle(b, "echo", func(_ context.Context, v uint64) (uint64, error) {
		if v%5 == 0 {
			time.Sleep(time.Duration(v%40) * time.Microsecond)
		}
		return v * 3, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const clients = 4
	each := brkScaled(5000)
	var gaveUp [clients]uint64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			cl := ep.Client()
			defer cl.Close()
			for i := range each {
				v := uint64(c*each+i) + 1
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if i%3 == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(i%25)*time.Microsecond)
				}
				got, err := cl.Request(ctx, v)
				cancel()
				switch {
				case err == nil && got != 3*v:
					t.Errorf("request %d got %d: not its own reply", v, got)
					return
				case errors.Is(err, context.DeadlineExceeded):
					gaveUp[c]++
				case err != nil:
					t.Errorf("request %d: %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := uint64(0)
	for _, n := range gaveUp {
		total += n
	}
	// Every given-up request is resolved by the worker eventually, and
	// every lane is dropped once retired and idle.
	eventually(t, func() bool { return b.Stats().Late == total && brkLanes(b) == 0 })
	if st := b.Stats(); st.Timeouts != total {
		t.Fatalf("gave up on %d; Timeouts %d", total, st.Timeouts)
	}
	t.Logf("%d of %d client requests gave up", total, clients*each)
}

// TestLaneOrderAfterPosts: a goroutine's posts (mailbox) and requests
// (lanes: a Client's and the endpoint's shared one) run in the order it
// sent them.
func TestLaneOrderAfterPosts(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	const senders = 3
	var runs [senders][]int // worker only
	ep, err := Handle(b, "mark", func(_ context.Context, m [2]int) (struct{}, error) {
		runs[m[0]] = append(runs[m[0]], m[1])
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	each := brkScaled(3000)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			cl := ep.Client()
			defer cl.Close()
			ctx := context.Background()
			for i := 0; i < each; i += 3 {
				if err := ep.Post(ctx, [2]int{s, i}); err != nil {
					t.Error(err)
					return
				}
				if _, err := cl.Request(ctx, [2]int{s, i + 1}); err != nil {
					t.Error(err)
					return
				}
				if err := ep.Post(ctx, [2]int{s, i + 2}); err != nil {
					t.Error(err)
					return
				}
				if _, err := ep.Request(ctx, [2]int{s, -1}); err != nil { // shared lane or mailbox
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for s, r := range runs {
		next := 0
		for _, v := range r {
			if v == -1 {
				continue
			}
			if v != next {
				t.Fatalf("sender %d: message %d ran when %d was due (a lane overtook the mailbox)", s, v, next)
			}
			next++
		}
		if next < each {
			t.Fatalf("sender %d: %d of %d ran", s, next, each)
		}
	}
}
