package worker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// TestEventsInOrder: progress events a handler emits while it works reach
// every listener, in order, and before the events of later messages.
func TestEventsInOrder(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{EventBuffer: 4}) // small: emitters wait for the listeners
	ctx := context.Background()
	ep, err := Handle(b, "work", func(ctx context.Context, job int) (int, error) {
		for p := range 10 {
			if err := Emit(ctx, b, "progress", job*10+p); err != nil {
				return 0, err
			}
		}
		return job, Emit(ctx, b, "completed", job)
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var first, second, log []int
	done := make(chan struct{})
	if _, err := On(b, "progress", func(p int) { first = append(first, p) }); err != nil {
		t.Fatal(err)
	}
	if _, err := On(b, "progress", func(p int) {
		second = append(second, p)
		mu.Lock()
		log = append(log, p)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	jobs := brkScaled(200)
	if _, err := On(b, "completed", func(j int) {
		mu.Lock()
		log = append(log, -1-j)
		mu.Unlock()
		if j == jobs-1 {
			close(done)
		}
	}); err != nil {
		t.Fatal(err)
	}
	for j := range jobs {
		if err := ep.Post(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(first) != jobs*10 || !slices.Equal(first, second) {
		t.Fatalf("listeners saw %d and %d progress events, want %d each, the same", len(first), len(second), jobs*10)
	}
	// The exact interleaving: job j's ten progress events, then its completion.
	i := 0
	for j := range jobs {
		for p := range 10 {
			if log[i] != j*10+p {
				t.Fatalf("event %d is %d, want progress %d", i, log[i], j*10+p)
			}
			i++
		}
		if log[i] != -1-j {
			t.Fatalf("event %d is %d, want completion of job %d", i, log[i], j)
		}
		i++
	}
	if st := b.Stats(); st.Events < uint64(jobs*11-1) {
		t.Fatalf("Events = %d", st.Events)
	}
}

func TestEventsOff(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	var a, c []string
	offA, err := On(b, "e", func(s string) { a = append(a, s) })
	if err != nil {
		t.Fatal(err)
	}
	synced := make(chan struct{})
	if _, err := On(b, "sync", func(struct{}) { synced <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	offC, err := On(b, "e", func(s string) { c = append(c, s) })
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		if err := Emit(ctx, b, "sync", struct{}{}); err != nil {
			t.Fatal(err)
		}
		<-synced
	}
	if err := Emit(ctx, b, "e", "one"); err != nil {
		t.Fatal(err)
	}
	flush()
	offA()
	offA() // idempotent
	if err := Emit(ctx, b, "e", "two"); err != nil {
		t.Fatal(err)
	}
	flush()
	offC()
	if err := Emit(ctx, b, "e", "three"); err != nil { // nobody listens: dropped
		t.Fatal(err)
	}
	flush()
	if !slices.Equal(a, []string{"one"}) || !slices.Equal(c, []string{"one", "two"}) {
		t.Fatalf("after off: a = %v, c = %v", a, c)
	}
}

func TestEventsErrors(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	if _, err := On[int](b, "e", nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil listener: %v", err)
	}
	if _, err := On(b, "", func(int) {}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty event: %v", err)
	}
	if _, err := On(b, "e", func(int) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := On(b, "e", func(string) {}); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("listener of another type: %v", err)
	}
	if err := Emit(ctx, b, "e", "x"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("emit of another type: %v", err)
	}
	if _, err := On(b, ErrorEvent, func(string) {}); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("ErrorEvent carries errors: %v", err)
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := Emit(nil, b, "e", 1); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil context: %v", err)
	}
}

// TestEventsPostFailureAndListenerPanic: a posted handler's failure
// reaches the ErrorEvent listeners; a panicking listener is counted and
// the others still run.
func TestEventsPostFailureAndListenerPanic(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	errBad := errors.New("bad input")
	ep, err := Handle(b, "check", func(_ context.Context, v int) (struct{}, error) {
		if v < 0 {
			return struct{}{}, errBad
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := On(b, ErrorEvent, func(error) { panic("listener bug") }); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	if _, err := On(b, ErrorEvent, func(err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := Post(ctx, b, "check", 1); err != nil {
		t.Fatal(err)
	}
	if err := ep.Post(ctx, -1); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, errBad) {
		t.Fatalf("ErrorEvent delivered %v", err)
	}
	eventually(t, func() bool { return b.Stats().ListenerPanics == 1 })
	if st := b.Stats(); st.Failed != 1 || st.Late != 0 {
		t.Fatalf("stats: %+v (a post is not a late reply)", st)
	}
}

// TestEventsRequestOverBus is the guide's eventBus.request: request and
// events on one broker, with progress seen before the reply is used.
func TestEventsRequestOverBus(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	ctx := context.Background()
	if _, err := Handle(b, "calculate", func(ctx context.Context, nums []int) (int, error) {
		s := 0
		for i, n := range nums {
			s += n
			if err := Emit(ctx, b, "progress", 100*(i+1)/len(nums)); err != nil {
				return 0, err
			}
		}
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	last := make(chan int, 16)
	if _, err := On(b, "progress", func(p int) { last <- p }); err != nil {
		t.Fatal(err)
	}
	sum, err := Request[[]int, int](ctx, b, "calculate", []int{1, 2, 3, 4, 5})
	if err != nil || sum != 15 {
		t.Fatalf("calculate = %d, %v", sum, err)
	}
	for _, want := range []int{20, 40, 60, 80, 100} {
		if p := <-last; p != want {
			t.Fatalf("progress %d, want %d", p, want)
		}
	}
}
