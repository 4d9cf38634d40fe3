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
// Ownership passes with seq (Vyukov's bounded MPMC scheme, with a single
// consumer): seq == pos means the slot is free for the producer that claims
// position pos; that producer writes the message and then publishes it
// with seq = pos+1 (a release store), which passes the slot to the worker;
// the worker reads the message, clears it and hands the slot back with
// seq = pos+capacity (a release store), for the producer one lap later.
type mboxSlot struct {
	seq atomic.Uint64
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
// sends, only the broker's worker receives. It is the ring of
// mboxSlot above plus the two wait lists.
type mailbox struct {
	slots []mboxSlot // fixed at creation; len is a power of two
	mask  uint64

	_ pad.Line
	// tail is pos<<1 | closed: the next position to claim, and whether the
	// mailbox is closed. Producers claim a position with a CAS that fails
	// once the closed bit is set, so no message can be accepted after
	// close returns: the closed bit and the claim are the same word.
	tail atomic.Uint64
	_    pad.Line
	// head is the next position the worker reads. Written only by the
	// worker (with release stores, so that Stats may read it); producers
	// never read it: they learn of free slots from the slots' seq.
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
	// sits on a cache line of its own.
	m.slots = make([]mboxSlot, n)
	m.mask = uint64(n - 1)
	for i := range m.slots {
		m.slots[i].seq.Store(uint64(i))
	}
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
		s := &m.slots[pos&m.mask]
		switch d := int64(s.seq.Load() - pos); {
		case d == 0:
			// Free for pos. The CAS takes pos (and fails if another
			// producer took it, or if the mailbox closed meanwhile).
			if m.tail.CompareAndSwap(t, t+2) {
				return s, pos, nil
			}
			spin.Spin()
		case d < 0:
			// The slot still holds the message one lap back: full.
			if err := m.waitRoom(ctx, timeout, t, s, pos); err != nil {
				return nil, 0, err
			}
		}
		// d > 0: another producer took pos since we read tail; reload.
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

// waitRoom waits until the slot at pos is free, the tail moved, or the
// mailbox closed: spin, yield, then park on room.
func (m *mailbox) waitRoom(ctx context.Context, timeout time.Duration, t uint64, s *mboxSlot, pos uint64) error {
	ready := func() bool { return s.seq.Load() == pos || m.tail.Load() != t }
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
	h := m.head.Load()
	s.job, s.ctx = nil, nil // drop the references for the garbage collector
	barrier.StoreRelease(&s.seq, h+uint64(len(m.slots)))
	barrier.StoreRelease(&m.head, h+1)
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
