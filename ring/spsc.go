package ring

import (
	"context"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
)

// SPSC is a bounded single-producer single-consumer FIFO queue.
//
// At most one goroutine may push and at most one may pop at a time (they
// may be different goroutines, and may change over time if the hand-over is
// synchronised). Close, Closed, Len and Cap may be called from any goroutine.
//
// Each side keeps a private copy of the other side's index and reads the
// shared one only when its copy says the queue is full (producer) or empty
// (consumer), so in steady state each side touches only its own cache line
// and the slots. An index is published with a release store (see
// internal/barrier), not a locked instruction, so neither side stalls on the
// other's cache line; the batch forms publish many items with one store.
type SPSC[T any] struct {
	_ pad.Line

	// The consumer's line.
	//
	// head is the position of the next item to pop. Only the consumer
	// writes it; its release store hands the popped slots back to the
	// producer. The producer loads it when cachedHead says the queue is full.
	head atomic.Uint64
	// cachedTail is the consumer's last view of tail. Consumer only.
	cachedTail uint64
	// drained is set by the consumer when it has concluded that the queue
	// is closed and empty; it never pops again. Consumer only.
	drained bool
	_       [pad.Size - 17]byte

	// The producer's line.
	//
	// tail is the position the next push fills. Only the producer writes
	// it; its release store publishes the slots before it to the consumer.
	// The consumer loads it when cachedTail says the queue is empty.
	tail atomic.Uint64
	// cachedHead is the producer's last view of head. Producer only.
	cachedHead uint64
	_          [pad.Size - 16]byte

	// Read-mostly: written only by Close, by a push that races with Close,
	// and by the consumer's final conclusion.
	state atomic.Uint32 // one of the state… constants
	buf   []T           // read-only after NewSPSC
	mask  uint64        // read-only after NewSPSC
	_     [pad.Size - 40]byte

	// Parked goroutines. Written only by goroutines about to sleep; each
	// side reads the other side's count after every operation.
	consumers side // wait for "not empty"
	_         pad.Line
	producers side // wait for "not full"
	_         pad.Line
}

// The life of an SPSC queue, in SPSC.state. Close moves open → closing →
// sealed; the consumer moves sealed (or late) → drained when it finds the
// queue empty; a push that published while Close was running moves closing
// or sealed → late (it is delivered), or finds drained and takes its items
// back (it fails).
//
// Why the middle states: the producer publishes with a release store and
// then loads state. Close stores closing and then runs a heavy barrier, so
// once state is sealed every push that loaded open after publishing is
// visible in tail (its store preceded a load that came before the barrier).
// A push that loaded anything else settles its fate with a compare-and-swap
// on state, which the consumer's conclusion (sealed or late → drained,
// after reading tail) also goes through. Exactly one of them wins; no push
// that returned nil is ever left behind, and none that failed is delivered.
const (
	stateOpen    uint32 = iota // pushes are accepted
	stateClosing               // Close has begun; the consumer may not conclude yet
	stateSealed                // Close's barrier is done; the consumer may conclude
	stateLate                  // a push raced with Close and was admitted
	stateDrained               // the consumer concluded: closed and empty, for good
)

// NewSPSC returns an empty queue holding up to capacity items, rounded up
// to a power of two. It fails with ErrCapacity when capacity is below 1 or
// above MaxCapacity.
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	n, err := roundCapacity(capacity, 1)
	if err != nil {
		return nil, err
	}
	return &SPSC[T]{buf: make([]T, n), mask: uint64(n - 1)}, nil
}

// Cap returns the number of items the queue can hold.
func (q *SPSC[T]) Cap() int { return len(q.buf) }

// Len returns the number of items in the queue. Under concurrent use it is
// a snapshot that may be stale by the time it is used.
func (q *SPSC[T]) Len() int { return length(q.head.Load(), q.tail.Load(), len(q.buf)) }

// Closed reports whether Close has been called.
func (q *SPSC[T]) Closed() bool { return q.state.Load() != stateOpen }

// Close closes the queue: pushes fail with ErrClosed from now on, and pops
// return the items already in the queue and then ErrClosed. Goroutines
// blocked in Push or Pop are woken. Close is idempotent and may be called
// from any goroutine; a push that races with it either lands before it (and
// will be popped) or fails with ErrClosed.
func (q *SPSC[T]) Close() {
	if !q.state.CompareAndSwap(stateOpen, stateClosing) {
		return
	}
	barrier.Heavy()
	// Fails only if a racing push has already moved closing → late, which
	// lets the consumer conclude just as sealed does.
	q.state.CompareAndSwap(stateClosing, stateSealed)
	q.consumers.waiters.NotifyAll()
	q.producers.waiters.NotifyAll()
}

// TryPush appends v without blocking. It returns ErrFull when there is no
// free slot and ErrClosed when the queue is closed.
func (q *SPSC[T]) TryPush(v T) error {
	if q.state.Load() != stateOpen {
		return ErrClosed
	}
	t := q.tail.Load()
	if t-q.cachedHead == uint64(len(q.buf)) {
		// Full as far as we know: look at the consumer's line. Loading head
		// also orders the consumer's reads of the freed slot before our write.
		q.cachedHead = q.head.Load()
		if t-q.cachedHead == uint64(len(q.buf)) {
			return ErrFull
		}
	}
	q.buf[t&q.mask] = v
	// Publish: a consumer that loads tail == t+1 also sees the slot.
	barrier.StoreRelease(&q.tail, t+1)
	if q.state.Load() != stateOpen {
		return q.settleLate(t, 1)
	}
	if q.consumers.waiters.Waiting() {
		q.consumers.waiters.Notify(1)
	}
	return nil
}

// settleLate decides the fate of n items published at t after Close began.
func (q *SPSC[T]) settleLate(t, n uint64) error {
	for {
		switch s := q.state.Load(); s {
		case stateClosing, stateSealed:
			if q.state.CompareAndSwap(s, stateLate) {
				q.consumers.waiters.NotifyAll()
				return nil
			}
		case stateDrained:
			// The consumer has concluded and will not pop again. It
			// concluded on a tail it read either before our store (head
			// is t: the items were never delivered, take them back) or
			// after it (it popped all n first: head is t+n, delivered).
			if q.head.Load() != t {
				return nil
			}
			clearRange(q.buf, t&q.mask, int(n))
			q.tail.Store(t)
			return ErrClosed
		default:
			panic("ring: SPSC pushed from two goroutines at once")
		}
	}
}

// TryPop removes and returns the oldest item without blocking. It returns
// ErrEmpty when the queue is empty, and ErrClosed when it is closed and
// empty.
func (q *SPSC[T]) TryPop() (T, error) {
	var zero T
	h := q.head.Load()
	if h == q.cachedTail {
		if _, err := q.refill(h); err != nil {
			return zero, err
		}
	}
	i := h & q.mask
	v := q.buf[i]
	q.buf[i] = zero // drop the reference so the GC can free what it points to
	// Hand the slot back: the producer that loads head == h+1 may reuse it.
	barrier.StoreRelease(&q.head, h+1)
	if q.producers.waiters.Waiting() {
		q.producers.waiters.Notify(1)
	}
	return v, nil
}

// refill reloads tail because cachedTail shows too few items at head h, and
// returns how many there are: at least one, or an error.
func (q *SPSC[T]) refill(h uint64) (uint64, error) {
	if q.drained {
		return 0, ErrClosed
	}
	q.cachedTail = q.tail.Load()
	if n := q.cachedTail - h; n > 0 {
		return n, nil
	}
	var b park.Backoff
	for {
		s := q.state.Load()
		if s == stateOpen {
			return 0, ErrEmpty
		}
		if s == stateClosing {
			// Close has begun and will seal within a system call: wait for
			// it rather than report empty a queue that is already closed.
			b.Spin()
			continue
		}
		// Sealed or late: every push admitted from now on is visible in
		// tail (see the state constants), so empty now means empty forever
		// unless a racing push is being settled; the CAS decides.
		q.cachedTail = q.tail.Load()
		if n := q.cachedTail - h; n > 0 {
			return n, nil
		}
		if q.state.CompareAndSwap(s, stateDrained) {
			q.drained = true
			return 0, ErrClosed
		}
	}
}

// TryPushBatch appends a prefix of vs, as long as fits, without blocking,
// and returns its length. The items become visible to the consumer at once,
// with a single publication. It returns ErrFull when no item fits, and
// ErrClosed (with n == 0) when the queue is closed.
func (q *SPSC[T]) TryPushBatch(vs []T) (int, error) {
	if q.state.Load() != stateOpen {
		return 0, ErrClosed
	}
	if len(vs) == 0 {
		return 0, nil
	}
	t := q.tail.Load()
	size := uint64(len(q.buf))
	if size-(t-q.cachedHead) < uint64(len(vs)) {
		q.cachedHead = q.head.Load()
	}
	n := min(uint64(len(vs)), size-(t-q.cachedHead))
	if n == 0 {
		return 0, ErrFull
	}
	i := t & q.mask
	c := copy(q.buf[i:], vs[:n])
	copy(q.buf, vs[c:n])
	barrier.StoreRelease(&q.tail, t+n)
	if q.state.Load() != stateOpen {
		if err := q.settleLate(t, n); err != nil {
			return 0, err
		}
		return int(n), nil
	}
	if q.consumers.waiters.Waiting() {
		q.consumers.waiters.Notify(int(n))
	}
	return int(n), nil
}

// TryPopBatch moves up to len(dst) of the oldest items into dst without
// blocking and returns how many it moved, handing all their slots back to
// the producer with a single store. It returns ErrEmpty when the queue is
// empty, and ErrClosed when it is closed and empty.
func (q *SPSC[T]) TryPopBatch(dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	h := q.head.Load()
	n := q.cachedTail - h
	if n < uint64(len(dst)) {
		var err error
		if n, err = q.refill(h); err != nil {
			return 0, err
		}
	}
	n = min(n, uint64(len(dst)))
	i := h & q.mask
	c := copy(dst[:n], q.buf[i:])
	copy(dst[c:n], q.buf)
	clearRange(q.buf, i, int(n))
	barrier.StoreRelease(&q.head, h+n)
	if q.producers.waiters.Waiting() {
		q.producers.waiters.Notify(int(n))
	}
	return int(n), nil
}

// Push appends v, waiting while the queue is full: it spins briefly, then
// yields, then parks until the consumer frees a slot, the queue is closed
// (ErrClosed) or ctx is done (ctx.Err()).
func (q *SPSC[T]) Push(ctx context.Context, v T) error {
	mustContext(ctx)
	if err := q.TryPush(v); err != ErrFull {
		return err
	}
	return pushSlow(ctx, q, &q.producers, v)
}

// Pop removes and returns the oldest item, waiting while the queue is
// empty: it spins briefly, then yields, then parks until an item arrives,
// the queue is closed and drained (ErrClosed) or ctx is done (ctx.Err()).
func (q *SPSC[T]) Pop(ctx context.Context) (T, error) {
	mustContext(ctx)
	if v, err := q.TryPop(); err != ErrEmpty {
		return v, err
	}
	return popSlow(ctx, q, &q.consumers)
}

// PushBatch appends all of vs, in order, waiting for room as Push does. It
// returns how many items were pushed, which is len(vs) unless err is
// ErrClosed or the context's error.
func (q *SPSC[T]) PushBatch(ctx context.Context, vs []T) (int, error) {
	mustContext(ctx)
	return pushBatch(ctx, q, &q.producers, vs)
}

// PopBatch waits as Pop does until at least one item is available, then
// moves up to len(dst) items into dst and returns how many. With an empty
// dst it returns 0, nil at once.
func (q *SPSC[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	mustContext(ctx)
	if n, err := q.TryPopBatch(dst); err != ErrEmpty {
		return n, err
	}
	return popBatchSlow(ctx, q, &q.consumers, dst)
}

// mayPush reports whether the queue has a free slot or is closed.
func (q *SPSC[T]) mayPush() bool {
	return q.tail.Load()-q.head.Load() < uint64(len(q.buf)) || q.state.Load() != stateOpen
}

// mayPop reports whether the queue holds an item or is closed.
func (q *SPSC[T]) mayPop() bool {
	return q.tail.Load() != q.head.Load() || q.state.Load() >= stateSealed
}

// clearRange zeroes n slots of the ring buf starting at index i, wrapping.
func clearRange[T any](buf []T, i uint64, n int) {
	end := min(int(i)+n, len(buf))
	clear(buf[i:end])
	clear(buf[:n-(end-int(i))])
}
