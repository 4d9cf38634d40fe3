package worker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// brkScaled sizes a stress test down for -short and the race detector,
// never to zero.
func brkScaled(n int) int {
	if raceEnabled {
		n /= 10
	}
	if testing.Short() {
		n /= 10
	}
	return max(n, 1)
}

func newTestBroker(t *testing.T, opt BrokerOptions) *Broker {
	t.Helper()
	b, err := NewBroker(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func inc(_ context.Context, x uint64) (uint64, error) { return x + 1, nil }

func TestBrokerOptionsInvalid(t *testing.T) {
	for _, opt := range []BrokerOptions{{MailboxSize: -1}, {EventBuffer: -1}, {MailboxSize: 1 << 31}} {
		if _, err := NewBroker(opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewBroker(%+v) = %v, want ErrInvalidOptions", opt, err)
		}
	}
}

func TestBrokerTimeoutSetting(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	if got := b.Timeout(); got != DefaultTimeout {
		t.Fatalf("zero Timeout gives %v, want %v", got, DefaultTimeout)
	}
	b.SetTimeout(time.Second)
	if got := b.Timeout(); got != time.Second {
		t.Fatalf("after SetTimeout(1s): %v", got)
	}
	b.SetTimeout(-1)
	if got := b.Timeout(); got >= 0 {
		t.Fatalf("after SetTimeout(-1): %v, want negative (none)", got)
	}
}

func TestBrokerRegistrationErrors(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	if _, err := Handle[int, int](b, "nil", nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil handler: %v", err)
	}
	if _, err := HandleStream[int, int](b, "nil", nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil stream handler: %v", err)
	}
	if _, err := Handle(b, "", inc); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty message type: %v", err)
	}
	if _, err := Handle(b, "inc", inc); err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(b, "inc", inc); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("duplicate message type: %v", err)
	}
	if _, err := HandleStream(b, "inc", func(context.Context, int, func(int) error) error { return nil }); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("duplicate message type (stream): %v", err)
	}
}

func TestBrokerLookupErrors(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	if _, err := Handle(b, "inc", inc); err != nil {
		t.Fatal(err)
	}
	if _, err := HandleStream(b, "count", func(_ context.Context, n int, emit func(int) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := Request[uint64, uint64](ctx, b, "nope", 1); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if err := Post(ctx, b, "nope", uint64(1)); !errors.Is(err, ErrUnknownType) {
		t.Errorf("post, unknown type: %v", err)
	}
	for _, err := range Stream[int, int](ctx, b, "nope", 1, 10) {
		if !errors.Is(err, ErrUnknownType) {
			t.Errorf("stream, unknown type: %v", err)
		}
	}
	if _, err := Request[string, uint64](ctx, b, "inc", "x"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("wrong input type: %v", err)
	}
	if _, err := Request[uint64, string](ctx, b, "inc", 1); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("wrong output type: %v", err)
	}
	if err := Post(ctx, b, "inc", "x"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("post, wrong input type: %v", err)
	}
	if _, err := Request[int, int](ctx, b, "count", 1); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("request to a stream: %v", err)
	}
	for _, err := range Stream[uint64, uint64](ctx, b, "inc", 1, 10) {
		if !errors.Is(err, ErrTypeMismatch) {
			t.Errorf("stream from a request handler: %v", err)
		}
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if _, err := Request[uint64, uint64](nil, b, "inc", 1); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil context: %v", err)
	}
}

func TestBrokerUseAfterClose(t *testing.T) {
	b, err := NewBroker(BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := HandleStream(b, "count", func(_ context.Context, n int, emit func(int) error) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := ep.Request(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Endpoint.Request: %v", err)
	}
	if _, err := Request[uint64, uint64](ctx, b, "inc", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Request: %v", err)
	}
	if err := ep.Post(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Post: %v", err)
	}
	for _, err := range sp.Stream(ctx, 1, 4) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Stream: %v", err)
		}
	}
	if _, err := Handle(b, "other", inc); !errors.Is(err, ErrClosed) {
		t.Errorf("Handle: %v", err)
	}
	if _, err := On(b, "progress", func(int) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("On: %v", err)
	}
	if err := Emit(ctx, b, "progress", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Emit: %v", err)
	}
	bt := NewBatch(b)
	AddRequest[uint64, uint64](bt, "inc", 1)
	if err := bt.Do(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Batch.Do: %v", err)
	}
}

// TestBrokerCloseRunsAccepted: Close lets the worker run what the mailbox
// accepted before it, and the events those handlers emit are delivered.
func TestBrokerCloseRunsAccepted(t *testing.T) {
	b, err := NewBroker(BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	ran := 0
	ep, err := Handle(b, "work", func(ctx context.Context, i int) (int, error) {
		if i == 0 {
			<-release
		}
		ran++ // worker only
		return i, Emit(ctx, b, "done", i)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	if _, err := On(b, "done", func(i int) { got = append(got, i) }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 50
	for i := range n {
		if err := ep.Post(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error)
	go func() { closed <- b.Close() }()
	time.Sleep(10 * time.Millisecond) // let Close begin while messages wait
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if ran != n || len(got) != n {
		t.Fatalf("Close ran %d handlers and delivered %d events, want %d", ran, len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("events out of order: %v", got)
		}
	}
}

// TestBrokerShutdownDeadline: when Shutdown's deadline passes, the
// messages not yet started fail with ErrClosed without running.
func TestBrokerShutdownDeadline(t *testing.T) {
	b, err := NewBroker(BrokerOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	ep, err := Handle(b, "work", func(ctx context.Context, i int) (int, error) {
		if i == 0 {
			close(started)
			<-release
		}
		return i, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The first message holds the worker; the others wait, in the mailbox
	// or (one of them) in the endpoint's shared lane.
	if err := ep.Post(ctx, 0); err != nil {
		t.Fatal(err)
	}
	<-started
	const n = 5
	errs := make(chan error, n-1)
	for i := 1; i < n; i++ {
		go func() {
			_, err := ep.Request(ctx, i)
			errs <- err
		}()
	}
	eventually(t, func() bool { return int(b.Stats().Accepted)+b.lanesQueued() == n })
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	unfinished, err := b.Shutdown(sctx)
	if !errors.Is(err, context.DeadlineExceeded) || unfinished != n {
		t.Fatalf("Shutdown = %d, %v; want %d, deadline exceeded", unfinished, err, n)
	}
	close(release)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range n - 1 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("a request queued at the deadline: %v, want ErrClosed", err)
		}
	}
	if st := b.Stats(); st.NotRun != n-1 || st.Queued != 0 {
		t.Fatalf("stats after forced shutdown: %+v", st)
	}
}

func TestBrokerPinned(t *testing.T) {
	b, err := NewBroker(BrokerOptions{Pin: true})
	if err != nil {
		t.Skipf("pinning unavailable: %v", err)
	}
	defer b.Close()
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ep.Request(context.Background(), 1); v != 2 || err != nil {
		t.Fatalf("pinned request = %d, %v", v, err)
	}
}
