package park

import "runtime"

const (
	// pollSteps: the first pollSteps calls to Snooze each wait one pause
	// instruction, so a waiter notices the awaited change within one pause
	// (10–40ns on current cores) for a few microseconds in all.
	pollSteps = 128
	// yieldEvery: every yieldEvery-th poll yields instead of pausing.
	yieldEvery = 16
	// yieldSteps: then this many calls give the processor away with
	// runtime.Gosched, which lets a preempted peer on the same P run.
	yieldSteps = 8
	// spinSteps: Spin doubles its burst of pauses this many times (up to
	// 32) before it starts yielding.
	spinSteps = 6
)

// Backoff paces a retry loop: spin, then yield, then tell the caller to park.
// The zero value is ready to use. A Backoff belongs to one goroutine.
type Backoff struct {
	step   int
	gather bool // the first Snooze waits gatherPauses pauses; see Pace
}

// Snooze waits a little before the caller's next retry. It reports false
// once spinning and yielding are exhausted: the caller should park.
func (b *Backoff) Snooze() bool {
	switch {
	case b.step == 0 && b.gather:
		for range gatherPauses {
			pause()
		}
	case b.step < pollSteps && b.step%yieldEvery != yieldEvery-1:
		pause()
	case b.step < pollSteps:
		// Let a goroutine waiting for this P run: the peer we wait for may
		// be queued behind us (GOMAXPROCS=1, or more runnable goroutines
		// than Ps). With nothing else runnable, Gosched returns at once.
		runtime.Gosched()
	case b.step < pollSteps+yieldSteps:
		runtime.Gosched()
	default:
		return false
	}
	b.step++
	return true
}

// Spin waits an exponentially growing burst of pauses (1, 2, 4, … 32), and
// after that yields the processor on every call; it never advises parking.
// It is for contention (a lost compare-and-swap) and for waits bounded by
// another goroutine's progress over a few instructions (a peer between
// claiming a slot and publishing it), where parking would need a wake-up
// nobody sends.
func (b *Backoff) Spin() {
	if b.step < spinSteps {
		for i := 0; i < 1<<b.step; i++ {
			pause()
		}
		b.step++
		return
	}
	runtime.Gosched()
}

// Reset starts the next wait from the spinning phase again.
func (b *Backoff) Reset() { b.step = 0 }

// Polls returns how many times Snooze has waited since the last Reset.
func (b *Backoff) Polls() int { return b.step }
