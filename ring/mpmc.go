package ring

import (
	"context"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
)

// MPMC is a bounded multi-producer multi-consumer FIFO queue: Dmitry
// Vyukov's bounded queue, in which every slot carries a sequence number
// that says whose turn it is.
//
// Any number of goroutines may push and pop concurrently. Items pushed by
// one goroutine are popped in the order it pushed them; a push linearizes
// when it claims its position (the compare-and-swap on tail), a pop when it
// claims its position on head.
//
// A producer claims a position and then writes the slot; a consumer that
// reaches a claimed slot before the write lands waits for it rather than
// report the queue empty (which would not be true) or skip the slot (which
// would reorder). The wait spans a few instructions of the producer, unless
// the producer's thread is descheduled in between; then the consumer
// yields. The same holds for a producer reaching a slot whose consumer is
// still reading it. No operation parks except the blocking ones, and they
// park only on a full (Push) or empty (Pop) queue.
type MPMC[T any] struct {
	_ pad.Line

	// head is the next position to pop. Consumers claim a position with a
	// compare-and-swap from p to p+1 once its slot says it holds p's item.
	head atomic.Uint64
	_    [pad.Size - 8]byte

	// tail is the next position to push, with closedBit set once Close has
	// run. Producers claim a position with a compare-and-swap from p to p+1
	// once its slot says it is free for p; the CAS fails after Close.
	tail atomic.Uint64
	_    [pad.Size - 8]byte

	// Read-mostly.
	slots  []slot[T]   // read-only after NewMPMC
	mask   uint64      // read-only after NewMPMC
	closed atomic.Bool // set by Close after closedBit; a hint for spinning waiters
	_      [pad.Size - 36]byte

	consumers side // wait for "not empty"
	_         pad.Line
	producers side // wait for "not full"
	_         pad.Line
}

// slot is one cell of an MPMC ring. For the position p that maps to it,
// seq == p means the slot is free for p's producer; seq == p+1 means it
// holds p's item; after p's consumer is done, seq == p+cap, which means
// free for the producer of p+cap, one lap later. seq only grows.
type slot[T any] struct {
	// seq is stored by the producer after writing val (publishing val to
	// the consumer) and by the consumer after reading val (handing the
	// slot to the next lap's producer). Each side loads it before touching
	// val, so val is never accessed by two goroutines at once.
	seq atomic.Uint64
	val T
}

// NewMPMC returns an empty queue holding up to capacity items, rounded up
// to a power of two of at least 2 (the sequence scheme needs two slots). It
// fails with ErrCapacity when capacity is below 1 or above MaxCapacity.
func NewMPMC[T any](capacity int) (*MPMC[T], error) {
	n, err := roundCapacity(capacity, 2)
	if err != nil {
		return nil, err
	}
	q := &MPMC[T]{slots: make([]slot[T], n), mask: uint64(n - 1)}
	for i := range q.slots {
		q.slots[i].seq.Store(uint64(i))
	}
	return q, nil
}

// Cap returns the number of items the queue can hold.
func (q *MPMC[T]) Cap() int { return len(q.slots) }

// Len returns the number of items in the queue, counting those whose push
// or pop is in progress. Under concurrent use it is a snapshot that may be
// stale by the time it is used.
func (q *MPMC[T]) Len() int { return length(q.head.Load(), q.tail.Load(), len(q.slots)) }

// Closed reports whether Close has been called.
func (q *MPMC[T]) Closed() bool { return q.tail.Load()&closedBit != 0 }

// Close closes the queue: pushes fail with ErrClosed from now on, and pops
// return the items already in the queue and then ErrClosed. Goroutines
// blocked in Push or Pop are woken. Close is idempotent; a push that races
// with it either lands before it (and will be popped) or fails with
// ErrClosed.
func (q *MPMC[T]) Close() {
	if q.tail.Or(closedBit)&closedBit == 0 {
		q.closed.Store(true)
		q.consumers.waiters.NotifyAll()
		q.producers.waiters.NotifyAll()
	}
}

// TryPush appends v without parking. It returns ErrFull when every slot is
// taken and ErrClosed when the queue is closed.
func (q *MPMC[T]) TryPush(v T) error {
	var b park.Backoff
	pos := q.tail.Load()
	for {
		if pos&closedBit != 0 {
			return ErrClosed
		}
		s := &q.slots[pos&q.mask]
		seq := s.seq.Load()
		switch {
		case seq == pos:
			if q.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				barrier.StoreRelease(&s.seq, pos+1) // publish val to the consumer of pos
				if q.consumers.waiters.Waiting() {
					q.consumers.waiters.Notify(1)
				}
				return nil
			}
		case int64(seq-pos) < 0:
			// The slot still belongs to position pos-cap. If that item has
			// not been claimed by a consumer, the queue is full (this is the
			// linearization point of ErrFull: tail-head == cap at this load).
			// Otherwise its consumer is reading it, or pos is stale.
			if int64(pos-q.head.Load()) >= int64(len(q.slots)) {
				return ErrFull
			}
			if q.tail.Load() == pos {
				b.Spin()
			}
		}
		// Another producer took pos, or we waited: start from the current tail.
		pos = q.tail.Load()
	}
}

// TryPop removes and returns the oldest item without parking. It returns
// ErrEmpty when the queue is empty, and ErrClosed when it is closed and
// empty.
func (q *MPMC[T]) TryPop() (T, error) {
	var b park.Backoff
	pos := q.head.Load()
	for {
		s := &q.slots[pos&q.mask]
		seq := s.seq.Load()
		switch {
		case seq == pos+1:
			if q.head.CompareAndSwap(pos, pos+1) {
				v := s.val
				var zero T
				s.val = zero
				barrier.StoreRelease(&s.seq, pos+q.mask+1) // hand the slot to the producer of pos+cap
				if q.producers.waiters.Waiting() {
					q.producers.waiters.Notify(1)
				}
				return v, nil
			}
		case int64(seq-(pos+1)) < 0:
			// Nothing published at pos yet. If no producer has claimed pos,
			// the queue is empty (tail == head at this load: the
			// linearization point of ErrEmpty). Otherwise a producer is
			// writing the slot, or pos is stale.
			t := q.tail.Load()
			if t&^closedBit == pos {
				var zero T
				if t&closedBit != 0 {
					return zero, ErrClosed
				}
				return zero, ErrEmpty
			}
			if q.head.Load() == pos {
				b.Spin()
			}
		}
		pos = q.head.Load()
	}
}

// TryPushBatch appends a prefix of vs without parking, claiming all its
// positions with one compare-and-swap, and returns its length. It returns
// ErrFull when no item fits and ErrClosed (with n == 0) when the queue is
// closed.
func (q *MPMC[T]) TryPushBatch(vs []T) (int, error) {
	if len(vs) == 0 {
		if q.Closed() {
			return 0, ErrClosed
		}
		return 0, nil
	}
	for {
		pos := q.tail.Load()
		if pos&closedBit != 0 {
			return 0, ErrClosed
		}
		// Count the run of slots free for pos, pos+1, …; a slot that is
		// free for its position stays free until a producer claims it, so
		// one CAS claims the whole run.
		n := uint64(0)
		for n < uint64(len(vs)) && q.slots[(pos+n)&q.mask].seq.Load() == pos+n {
			n++
		}
		if n == 0 {
			if err := q.TryPush(vs[0]); err != nil {
				return 0, err
			}
			return 1, nil
		}
		if !q.tail.CompareAndSwap(pos, pos+n) {
			continue
		}
		for k := range n {
			s := &q.slots[(pos+k)&q.mask]
			s.val = vs[k]
			barrier.StoreRelease(&s.seq, pos+k+1)
		}
		if q.consumers.waiters.Waiting() {
			q.consumers.waiters.Notify(int(n))
		}
		return int(n), nil
	}
}

// TryPopBatch moves up to len(dst) of the oldest items into dst without
// parking, claiming them with one compare-and-swap, and returns how many.
// It returns ErrEmpty when the queue is empty, and ErrClosed when it is
// closed and empty.
func (q *MPMC[T]) TryPopBatch(dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var zero T
	for {
		pos := q.head.Load()
		// Count the run of published items at pos, pos+1, …; only a
		// consumer that claims them can change those slots.
		n := uint64(0)
		for n < uint64(len(dst)) && q.slots[(pos+n)&q.mask].seq.Load() == pos+n+1 {
			n++
		}
		if n == 0 {
			v, err := q.TryPop()
			if err != nil {
				return 0, err
			}
			dst[0] = v
			return 1, nil
		}
		if !q.head.CompareAndSwap(pos, pos+n) {
			continue
		}
		for k := range n {
			s := &q.slots[(pos+k)&q.mask]
			dst[k] = s.val
			s.val = zero
			barrier.StoreRelease(&s.seq, pos+k+q.mask+1)
		}
		if q.producers.waiters.Waiting() {
			q.producers.waiters.Notify(int(n))
		}
		return int(n), nil
	}
}

// Push appends v, waiting while the queue is full: it spins briefly, then
// yields, then parks until a consumer frees a slot, the queue is closed
// (ErrClosed) or ctx is done (ctx.Err()).
func (q *MPMC[T]) Push(ctx context.Context, v T) error {
	mustContext(ctx)
	if err := q.TryPush(v); err != ErrFull {
		return err
	}
	return pushSlow(ctx, q, &q.producers, v)
}

// Pop removes and returns the oldest item, waiting while the queue is
// empty: it spins briefly, then yields, then parks until an item arrives,
// the queue is closed and drained (ErrClosed) or ctx is done (ctx.Err()).
func (q *MPMC[T]) Pop(ctx context.Context) (T, error) {
	mustContext(ctx)
	if v, err := q.TryPop(); err != ErrEmpty {
		return v, err
	}
	return popSlow(ctx, q, &q.consumers)
}

// PushBatch appends all of vs, waiting for room as Push does. Items from
// one call keep their order, but items of concurrent producers may be
// interleaved between the runs it claims. It returns how many items were
// pushed, which is len(vs) unless err is ErrClosed or the context's error.
func (q *MPMC[T]) PushBatch(ctx context.Context, vs []T) (int, error) {
	mustContext(ctx)
	return pushBatch(ctx, q, &q.producers, vs)
}

// PopBatch waits as Pop does until at least one item is available, then
// moves up to len(dst) items into dst and returns how many. With an empty
// dst it returns 0, nil at once.
func (q *MPMC[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	mustContext(ctx)
	if n, err := q.TryPopBatch(dst); err != ErrEmpty {
		return n, err
	}
	return popBatchSlow(ctx, q, &q.consumers, dst)
}

// mayPush reports whether the slot at tail is free for it, or the queue is
// closed: one load of tail and one of the slot, which a consumer is about to
// write or has just written anyway.
func (q *MPMC[T]) mayPush() bool {
	t := q.tail.Load()
	return t&closedBit != 0 || q.slots[t&q.mask].seq.Load() == t
}

// mayPop reports whether the slot at head holds its item, or the queue is
// closed, without loading tail: a consumer spinning on the slot shares its
// cache line with the producer that will fill it, and nothing else.
func (q *MPMC[T]) mayPop() bool {
	h := q.head.Load()
	return q.slots[h&q.mask].seq.Load() == h+1 || q.closed.Load()
}
