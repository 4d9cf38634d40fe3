package park

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/internal/barrier"
)

// hangTimeout bounds every wait that only a bug could make endless.
const hangTimeout = 30 * time.Second

// notified reports whether t holds an undelivered wake-up.
func notified(t *Waiter) bool { return len(t.wake) == 1 }

// waitLen waits until w has n registered goroutines.
func waitLen(t *testing.T, w *Waiters, n int) {
	t.Helper()
	deadline := time.Now().Add(hangTimeout)
	for w.Len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("Len() = %d, waited for %d", w.Len(), n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func TestNotifyNobodyIsNoop(t *testing.T) {
	var w Waiters
	w.Notify(1)
	w.Notify(100)
	w.NotifyAll()
	if w.Len() != 0 || w.Waiting() {
		t.Fatalf("Len, Waiting = %d, %v on an empty list", w.Len(), w.Waiting())
	}
	// No wake-up was saved for a later waiter.
	tk := w.Prepare()
	if notified(tk) {
		t.Fatal("a waiter registered after Notify found a wake-up")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Park(ctx, tk); !errors.Is(err, context.Canceled) {
		t.Fatalf("Park = %v, want context.Canceled", err)
	}
	if w.Len() != 0 {
		t.Fatalf("Len() = %d after Park returned", w.Len())
	}
}

func TestPrepareCancel(t *testing.T) {
	var w Waiters
	ts := []*Waiter{w.Prepare(), w.Prepare(), w.Prepare()}
	if w.Len() != 3 || !w.Waiting() {
		t.Fatalf("Len, Waiting = %d, %v, want 3, true", w.Len(), w.Waiting())
	}
	// Withdraw from the middle, the head and the tail.
	for i, j := range []int{1, 0, 2} {
		w.Cancel(ts[j])
		if want := 2 - i; w.Len() != want {
			t.Fatalf("Len() = %d after %d cancels, want %d", w.Len(), i+1, want)
		}
	}
	if w.Waiting() {
		t.Fatal("Waiting() after every waiter cancelled")
	}
	// The list is intact: new waiters are notified oldest first.
	a, b := w.Prepare(), w.Prepare()
	w.Notify(1)
	if !notified(a) || notified(b) {
		t.Fatalf("after Notify(1): first notified %v, second %v", notified(a), notified(b))
	}
	if err := w.Park(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	w.Cancel(b)
	if w.Len() != 0 {
		t.Fatalf("Len() = %d", w.Len())
	}
}

func TestParkWokenByNotify(t *testing.T) {
	var w Waiters
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()

	// Notified before it parks: the wake-up waits in the buffer.
	tk := w.Prepare()
	w.Notify(1)
	if err := w.Park(ctx, tk); err != nil {
		t.Fatalf("Park after Notify: %v", err)
	}

	// Notified while it sleeps.
	tk = w.Prepare()
	done := make(chan error, 1)
	go func() { done <- w.Park(ctx, tk) }()
	time.Sleep(time.Millisecond) // most likely asleep by now; correct either way
	w.Notify(1)
	if err := <-done; err != nil {
		t.Fatalf("Park: %v", err)
	}
	if w.Len() != 0 {
		t.Fatalf("Len() = %d", w.Len())
	}
}

func TestParkContextEnds(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		var w Waiters
		if err := w.Park(c.ctx, w.Prepare()); !errors.Is(err, c.want) {
			t.Errorf("Park = %v, want %v", err, c.want)
		}
		if w.Len() != 0 {
			t.Errorf("Len() = %d after Park returned %v", w.Len(), c.want)
		}
		// The list is usable afterwards.
		tk := w.Prepare()
		w.Notify(1)
		if err := w.Park(context.Background(), tk); err != nil {
			t.Errorf("Park after an earlier %v: %v", c.want, err)
		}
	}
}

func TestNotifyAllWakesAll(t *testing.T) {
	var w Waiters
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() { errs <- w.Park(ctx, w.Prepare()) }()
	}
	waitLen(t, &w, n)
	w.NotifyAll()
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Park: %v", err)
		}
	}
	if w.Len() != 0 {
		t.Fatalf("Len() = %d", w.Len())
	}
}

func TestNotifyKOldestFirst(t *testing.T) {
	var w Waiters
	ts := make([]*Waiter, 10)
	for i := range ts {
		ts[i] = w.Prepare()
	}
	check := func(step string, wantNotified int) {
		t.Helper()
		for i, tk := range ts {
			if got := notified(tk); got != (i < wantNotified) {
				t.Fatalf("%s: waiter %d notified = %v", step, i, got)
			}
		}
		if want := len(ts) - wantNotified; w.Len() != want {
			t.Fatalf("%s: Len() = %d, want %d", step, w.Len(), want)
		}
	}
	w.Notify(3)
	check("Notify(3)", 3)
	w.Notify(0)
	w.Notify(-1)
	check("Notify(0), Notify(-1)", 3)
	w.Notify(2)
	check("Notify(2)", 5)
	w.Notify(100)
	check("Notify(100)", 10)
	for _, tk := range ts {
		if err := w.Park(context.Background(), tk); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPassOn covers the rule that a notified waiter which leaves without
// acting on its wake-up passes it on to the next waiter.
func TestPassOn(t *testing.T) {
	t.Run("Cancel", func(t *testing.T) {
		var w Waiters
		a, b, c := w.Prepare(), w.Prepare(), w.Prepare()
		w.Notify(1)
		w.Cancel(a) // a was notified: b gets the wake-up
		if !notified(b) || notified(c) || w.Len() != 1 {
			t.Fatalf("after cancelling the notified waiter: b %v, c %v, Len %d", notified(b), notified(c), w.Len())
		}
		w.Cancel(b) // and on to c
		if !notified(c) || w.Len() != 0 {
			t.Fatalf("after cancelling b: c %v, Len %d", notified(c), w.Len())
		}
		if err := w.Park(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CancelNobodyLeft", func(t *testing.T) {
		var w Waiters
		a := w.Prepare()
		w.Notify(1)
		w.Cancel(a)
		if w.Len() != 0 || w.Waiting() {
			t.Fatalf("Len() = %d", w.Len())
		}
		// The wake-up is not kept for a later waiter.
		b := w.Prepare()
		if notified(b) {
			t.Fatal("a later waiter found the passed-on wake-up")
		}
		w.Cancel(b)
	})
	t.Run("ParkCancelled", func(t *testing.T) {
		// Park with both a wake-up and an ended context may return either;
		// the wake-up goes to b exactly when Park reports the context.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		outcomes := map[bool]int{}
		for range 200 {
			var w Waiters
			a, b := w.Prepare(), w.Prepare()
			w.Notify(1)
			err := w.Park(ctx, a)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if notified(b) != (err != nil) {
				t.Fatalf("Park = %v, yet b notified = %v", err, notified(b))
			}
			outcomes[err == nil]++
			if notified(b) {
				w.Park(ctx, b)
			} else {
				w.Cancel(b)
			}
			if w.Len() != 0 {
				t.Fatalf("Len() = %d", w.Len())
			}
		}
		t.Logf("woken %d times, cancelled %d times", outcomes[true], outcomes[false])
	})
}

// publishers are the two ways a notifier publishes the state a waiter
// rechecks: a sequentially consistent store, and the release store of
// package barrier that the queues use (a plain store on linux/amd64, which
// relies on the heavy barrier in Prepare).
var publishers = []struct {
	name  string
	store func(p *atomic.Uint64, v uint64)
}{
	{"atomic", func(p *atomic.Uint64, v uint64) { p.Store(v) }},
	{"release", barrier.StoreRelease},
}

// TestStressDekker runs the no-lost-wake-up protocol many times in a row
// between two goroutines that take turns: each publishes a new turn number
// and notifies, then waits for the other's reply by announcing itself,
// rechecking and parking. A lost wake-up leaves both asleep; the context
// deadline turns that into a failure.
func TestStressDekker(t *testing.T) {
	for _, pub := range publishers {
		t.Run(pub.name, func(t *testing.T) {
			dekker(t, pub.store, uint64(scaled(100_000)))
		})
	}
}

func dekker(t *testing.T, store func(*atomic.Uint64, uint64), rounds uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*hangTimeout)
	defer cancel()
	var pingW, pongW Waiters
	var ping, pong atomic.Uint64
	var parks atomic.Int64

	// await waits until v reaches want, with the protocol.
	await := func(w *Waiters, v *atomic.Uint64, want uint64) error {
		for v.Load() < want {
			tk := w.Prepare()
			if v.Load() >= want {
				w.Cancel(tk)
				return nil
			}
			parks.Add(1)
			if err := w.Park(ctx, tk); err != nil {
				return fmt.Errorf("waiting for turn %d (at %d): %w", want, v.Load(), err)
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := uint64(1); i <= rounds; i++ {
			if err := await(&pingW, &ping, i); err != nil {
				t.Error(err)
				cancel()
				return
			}
			store(&pong, i)
			pongW.Notify(1)
		}
	})
	for i := uint64(1); i <= rounds; i++ {
		store(&ping, i)
		pingW.Notify(1)
		if err := await(&pongW, &pong, i); err != nil {
			t.Error(err)
			cancel()
			break
		}
	}
	wg.Wait()
	t.Logf("%d rounds, %d parks", rounds, parks.Load())
}

// TestStressDekkerMany has several waiters wait for a shared generation
// number that one notifier advances, waking them with Notify(k) or
// NotifyAll; each waiter must see every generation.
func TestStressDekkerMany(t *testing.T) {
	const waiters = 4
	rounds := scaled(25_000)
	ctx, cancel := context.WithTimeout(context.Background(), 4*hangTimeout)
	defer cancel()
	var w, ackW Waiters
	var gen atomic.Uint64
	var acks atomic.Int64
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			for i := uint64(1); i <= uint64(rounds); i++ {
				for gen.Load() < i {
					tk := w.Prepare()
					if gen.Load() >= i {
						w.Cancel(tk)
						break
					}
					if err := w.Park(ctx, tk); err != nil {
						t.Errorf("waiting for generation %d: %v", i, err)
						cancel()
						return
					}
				}
				acks.Add(1)
				ackW.Notify(1)
			}
		})
	}
	for i := uint64(1); i <= uint64(rounds) && ctx.Err() == nil; i++ {
		barrier.StoreRelease(&gen, i)
		if i%2 == 0 {
			w.NotifyAll()
		} else {
			w.Notify(waiters)
		}
		// Wait for every waiter to acknowledge generation i.
		for acks.Load() < int64(i)*waiters {
			tk := ackW.Prepare()
			if acks.Load() >= int64(i)*waiters {
				ackW.Cancel(tk)
				break
			}
			if err := ackW.Park(ctx, tk); err != nil {
				t.Errorf("waiting for acknowledgements of generation %d: %v", i, err)
				break
			}
		}
	}
	wg.Wait()
}

// TestStressCancelRacesNotify parks two waiters, then cancels the first
// while notifying one. Whichever way the race goes, exactly one of them
// wakes up with the notification.
func TestStressCancelRacesNotify(t *testing.T) {
	rounds := scaled(20_000)
	for round := range rounds {
		var w Waiters
		ctxA, cancelA := context.WithCancel(context.Background())
		ctxB, cancelB := context.WithTimeout(context.Background(), hangTimeout)
		a := w.Prepare()
		doneA := make(chan error, 1)
		go func() { doneA <- w.Park(ctxA, a) }()
		b := w.Prepare()
		doneB := make(chan error, 1)
		go func() { doneB <- w.Park(ctxB, b) }()
		switch round % 3 {
		case 0:
			cancelA()
			w.Notify(1)
		case 1:
			w.Notify(1)
			cancelA()
		default:
			go cancelA()
			w.Notify(1)
		}
		errA := <-doneA
		switch {
		case errA == nil:
			// a took the wake-up: b must still be waiting.
			waitLen(t, &w, 1)
			cancelB()
			if errB := <-doneB; !errors.Is(errB, context.Canceled) {
				t.Fatalf("round %d: b = %v after a took the only wake-up", round, errB)
			}
		case errors.Is(errA, context.Canceled):
			if errB := <-doneB; errB != nil {
				t.Fatalf("round %d: b = %v: the wake-up was lost with the cancelled waiter", round, errB)
			}
			cancelB()
		default:
			t.Fatalf("round %d: a = %v", round, errA)
		}
		if w.Len() != 0 {
			t.Fatalf("round %d: Len() = %d", round, w.Len())
		}
	}
}
