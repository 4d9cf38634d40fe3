package park

import "sync/atomic"

// gatherPauses is how long the first poll of a gathering wait lasts, in
// pause instructions (a few hundred nanoseconds on current cores).
const gatherPauses = 8

// Pace is one side of a queue's memory of its recent waits, which chooses
// how the next wait starts. The zero value starts in latency mode.
//
// A waiter that polls tightly notices an item within one pause, which is
// what a request/response exchange wants. But when the other side streams,
// a tightly polling waiter takes each item the moment it lands, and so
// works on the very cache line the other side is writing: every item then
// costs a line transfer each way. Waiting a little longer before the first
// look lets items accumulate, and the two sides drift a few lines apart.
//
// Pace tells the two cases apart from what the last wait saw:
//
//   - in latency mode, a wait that ended within two polls means the other
//     side is streaming: switch to gathering;
//   - in gathering mode, a wait after which fewer than two items (or free
//     slots) were ready means there was nothing to gather: switch back.
//
// The mode is a hint: a stale or racy value costs only speed. It is
// written only when it changes, so consumers sharing one Pace do not
// contend on it.
type Pace struct {
	gather atomic.Bool
}

// Start prepares b for the next wait of this side.
func (p *Pace) Start(b *Backoff) {
	*b = Backoff{gather: p.gather.Load()}
}

// Record notes how the wait paced by b ended: ready is how many items (or
// free slots) were available when it succeeded, counting the one taken.
func (p *Pace) Record(b *Backoff, ready int) {
	var next bool
	if b.gather {
		next = ready >= 2
	} else {
		next = b.step <= 2
	}
	if next != b.gather {
		p.gather.Store(next)
	}
}
