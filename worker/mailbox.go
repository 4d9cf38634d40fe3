package worker

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
)

// mboxSlot is one message of a Broker's mailbox. The sequence word and the
// whole message share one 64-byte cache line, so the worker learns that a
// message has arrived and reads it with a single line transfer (a ring
// whose index and slot live on different lines pays two dependent misses
// per hop; see docs/perf.md).
//
// Ownership: a producer owns the slot of the position it claimed (see
// mailbox.claim) until it publishes the message with seq = pos+1 (a
// release store), which passes the slot to the worker; the worker owns it
// until it advances head past pos (a release store), which passes it to
// the producer of position pos+capacity. A producer never reads a slot
// before writing it — it learns that the slot is free from head — so its
// writes go to the store buffer and it does not wait for the line to
// come over from the worker's core.
type mboxSlot struct {
	seq atomic.Uint64 // pos+1 once the message for pos is published
	// gen is the message's correlation id in its reply cell (the
	// generation the caller waits for), with mboxPosted set for a message
	// nobody waits for.
	gen uint64
	job brkJob          // what the worker runs; nil when free
	ctx context.Context // the caller's context, handed to the handler
	// arg holds the request's input when it is small and pointer-free
	// (see brkInlineable), so the worker need not touch the caller's cell
	// before replying. The garbage collector sees arg as scalars, which is
	// why only pointer-free inputs may be stored here.
	arg [2]uint64
}

// mboxPosted marks a message in mboxSlot.gen as posted (fire and forget).
const mboxPosted = 1 << 63

// mboxInlineSize is how many bytes of input mboxSlot.arg holds.
const mboxInlineSize = int(unsafe.Sizeof([2]uint64{}))

// mailbox is a bounded lock-free MPSC queue of messages: any goroutine
// sends, only the broker's worker receives. It is the ring of mboxSlot
// above, the two indexes, and the two wait lists.
type mailbox struct {
	slots []mboxSlot // fixed at creation; len is a power of two
	mask  uint64
	size  uint64

	_ pad.Line
	// tail is pos<<1 | closed: the next position to claim, and whether the
	// mailbox is closed. Producers claim a position with a CAS that fails
	// once the closed bit is set, so no message can be accepted after
	// close returns: the closed bit and the claim are the same word.
	tail atomic.Uint64
	// headSeen is a producers' copy of head, on the producers' line
	// (rigtorp's cached index): while pos < headSeen+size the slot of pos
	// is known to be free without reading the worker's line. It only
	// ever holds values loaded from head, so it never runs ahead of it; a
	// stale, smaller value costs a reload, never a wrong answer.
	headSeen atomic.Uint64
	_        pad.Line
	// head is the next position the worker reads. Written only by the
	// worker, with release stores after it has cleared the slot: a
	// producer that loads head >= pos-size+1 may write the slot of pos.
	head atomic.Uint64
	_    pad.Line
	// idle holds the worker while it sleeps; producers notify it after
	// publishing. Its counter is read by every producer and written only
	// when the worker parks, so it stays in the producers' caches.
	idle park.Waiters
	_    pad.Line
	// room holds producers waiting for a free slot; the worker notifies
	// it after freeing one.
	room park.Waiters
	_    pad.Line
}

func (m *mailbox) init(size int) {
	n := 1
	for n < size {
		n <<= 1
	}
	// A power-of-two number of 64-byte slots is a power-of-two allocation,
	// which Go's allocator aligns to its size (up to a page): every slot
	// sits on a cache line of its own. seq starts at 0, which is no
	// position's pos+1.
	m.slots = make([]mboxSlot, n)
	m.mask = uint64(n - 1)
	m.size = uint64(n)
}

// claim reserves the next position for a message, waiting while the
// mailbox is full for as long as ctx and timeout allow (timeout <= 0: no
// limit but ctx). The caller fills the returned slot and calls publish.
func (m *mailbox) claim(ctx context.Context, timeout time.Duration) (*mboxSlot, uint64, error) {
	var spin park.Backoff
	for {
		t := m.tail.Load()
		if t&1 != 0 {
			return nil, 0, ErrClosed
		}
		pos := t >> 1
		if pos-m.headSeen.Load() >= m.size {
			// Full as far as this producer knows: look at the real head.
			h := m.head.Load()
			m.headSeen.Store(h)
			if pos-h >= m.size {
				if err := m.waitRoom(ctx, timeout, t, pos); err != nil {
					return nil, 0, err
				}
				continue
			}
		}
		// Take pos; fails if another producer took it, or if the mailbox
		// closed meanwhile.
		if m.tail.CompareAndSwap(t, t+2) {
			return &m.slots[pos&m.mask], pos, nil
		}
		spin.Spin()
	}
}

// publish passes a filled slot to the worker and wakes it if it sleeps.
func (m *mailbox) publish(s *mboxSlot, pos uint64) {
	// Release: the message written before it is visible to the worker
	// once it sees seq == pos+1.
	barrier.StoreRelease(&s.seq, pos+1)
	// Dekker with the worker's park (mailbox.sleep): it announces itself
	// in idle, then rechecks the slot. Waiting is one load of a line the
	// worker writes only when it parks.
	if m.idle.Waiting() {
		m.idle.Notify(1)
	}
}

// waitRoom waits until the slot of pos is free, the tail moved, or the
// mailbox closed: spin, yield, then park on room.
func (m *mailbox) waitRoom(ctx context.Context, timeout time.Duration, t, pos uint64) error {
	ready := func() bool { return pos-m.head.Load() < m.size || m.tail.Load() != t }
	var b park.Backoff
	for b.Snooze() {
		if ready() {
			return nil
		}
	}
	if timeout > 0 {
		// The slow path of a full mailbox: a context for the deadline is
		// affordable here.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, ErrTimeout)
		defer cancel()
	}
	for !ready() {
		w := m.room.Prepare()
		if ready() {
			m.room.Cancel(w)
			return nil
		}
		if err := m.room.Park(ctx, w); err != nil {
			if c := context.Cause(ctx); c == ErrTimeout {
				return fmt.Errorf("waiting for room in the mailbox: %w", ErrTimeout)
			}
			return err
		}
	}
	return nil
}

// peek returns the slot at the head when it holds a published message, or
// nil. Worker only.
func (m *mailbox) peek() *mboxSlot {
	h := m.head.Load()
	s := &m.slots[h&m.mask]
	// Acquire: pairs with publish's release store.
	if s.seq.Load() == h+1 {
		return s
	}
	return nil
}

// release clears the head slot the worker has handled and hands it back
// to producers. Worker only.
func (m *mailbox) release(s *mboxSlot) {
	s.job, s.ctx = nil, nil // drop the references for the garbage collector
	// Release: the clearing above happens before the next lap's producer
	// writes the slot.
	barrier.StoreRelease(&m.head, m.head.Load()+1)
	if m.room.Waiting() {
		m.room.Notify(1)
	}
}

// close sets the closed bit: from now on claims fail with ErrClosed. It
// returns the final tail position: every position below it has been or
// will be published.
func (m *mailbox) close() uint64 {
	return m.tail.Or(1) >> 1
}

// accepted is the number of positions claimed so far.
func (m *mailbox) accepted() uint64 { return m.tail.Load() >> 1 }
