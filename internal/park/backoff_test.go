package park

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// snoozes counts the calls to Snooze that return true before the first
// false, failing the test if there is no end in sight.
func snoozes(t *testing.T, b *Backoff) int {
	t.Helper()
	for n := 0; n < 1_000_000; n++ {
		if !b.Snooze() {
			return n
		}
	}
	t.Fatal("Snooze never advised parking")
	return 0
}

func TestSnoozeEndsAndReset(t *testing.T) {
	var b Backoff // the zero value is ready
	n := snoozes(t, &b)
	if n == 0 {
		t.Fatal("the first Snooze advised parking")
	}
	for range 10 {
		if b.Snooze() {
			t.Fatal("Snooze returned true again after returning false")
		}
	}
	b.Reset()
	if m := snoozes(t, &b); m != n {
		t.Fatalf("after Reset, Snooze returned true %d times, want %d as at first", m, n)
	}
	b.Reset()
	for range n / 2 {
		b.Snooze()
	}
	b.Reset()
	if m := snoozes(t, &b); m != n {
		t.Fatalf("Reset mid-way: Snooze returned true %d times, want %d", m, n)
	}
}

// TestSnoozeYields checks that the wait gives the processor away before it
// advises parking: with a single P, a goroutine that became runnable
// before the wait gets to run during it.
func TestSnoozeYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ran atomic.Bool
	done := make(chan struct{})
	go func() {
		ran.Store(true)
		close(done)
	}()
	var b Backoff
	for b.Snooze() {
	}
	if !ran.Load() {
		t.Fatal("another runnable goroutine did not run during the whole Snooze sequence")
	}
	<-done
}

// TestSpinYields checks that Spin, which never advises parking, gives the
// processor away once its bursts of pauses are spent, so that a peer it
// waits for on the same P can make progress.
func TestSpinYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ran atomic.Bool
	done := make(chan struct{})
	go func() {
		ran.Store(true)
		close(done)
	}()
	var b Backoff
	for range 1000 {
		if ran.Load() {
			break
		}
		b.Spin()
	}
	if !ran.Load() {
		t.Fatal("a peer on the same P did not run during 1000 calls to Spin")
	}
	<-done
	// Spin does not use up the Snooze sequence beyond its own bursts.
	b.Reset()
	if snoozes(t, &b) == 0 {
		t.Fatal("Snooze advised parking at once after Reset")
	}
}

func TestPaceSwitchesModes(t *testing.T) {
	var p Pace
	var b Backoff
	p.Start(&b)
	if b.gather {
		t.Fatal("zero Pace starts in gathering mode")
	}
	b.Snooze()
	p.Record(&b, 1) // a wait that ended at the first poll: the other side streams
	p.Start(&b)
	if !b.gather {
		t.Fatal("a short wait in latency mode did not switch to gathering")
	}
	b.Snooze()
	p.Record(&b, 5) // plenty gathered: stay
	p.Start(&b)
	if !b.gather {
		t.Fatal("a fruitful gathering wait switched back to latency mode")
	}
	b.Snooze()
	p.Record(&b, 1) // nothing to gather: a request/response exchange
	p.Start(&b)
	if b.gather {
		t.Fatal("a gathering wait that found a single item did not switch back")
	}
	for range 10 {
		b.Snooze()
	}
	p.Record(&b, 1) // a long wait in latency mode: stay
	p.Start(&b)
	if b.gather || b.Polls() != 0 {
		t.Fatalf("long latency-mode wait: gather %v, polls %d after Start", b.gather, b.Polls())
	}
}
