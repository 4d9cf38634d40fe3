package sched

import (
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
)

// deque is a bounded Chase–Lev work-stealing deque of *T (Chase and Lev,
// "Dynamic circular work-stealing deque", SPAA 2005; memory orderings after
// Lê, Pop, Cohen and Zappa Nardelli, PPoPP 2013).
//
// One goroutine, the owner, pushes and pops at the bottom (LIFO: the task it
// spawned last runs first, while it is hot in cache, and fork-join recursion
// stays shallow). Any goroutine may steal from the top (FIFO: thieves take
// the oldest, largest pieces of work). The owner touches only its own end
// except when one item is left, where owner and thieves settle it with a
// compare-and-swap on top.
//
// Slots are atomic pointers, so a thief that reads a slot the owner is
// overwriting (possible only when the thief's compare-and-swap is then
// bound to fail) reads one whole pointer, never a torn value.
type deque[T any] struct {
	_ pad.Line
	// top is the index of the oldest item. Thieves advance it with a CAS;
	// the owner CASes it only to take the last item.
	top atomic.Int64
	_   [pad.Size - 8]byte
	// bottom is one past the newest item. Only the owner writes it.
	bottom atomic.Int64
	// cachedTop is the owner's last view of top, reloaded only when it
	// says the deque is full. Owner only.
	cachedTop int64
	_         [pad.Size - 16]byte
	buf       []atomic.Pointer[T] // read-only after newDeque
	mask      int64
	_         [pad.Size - 32]byte
}

func newDeque[T any](capacity int) *deque[T] {
	return &deque[T]{buf: make([]atomic.Pointer[T], capacity), mask: int64(capacity - 1)}
}

// push appends x at the bottom. Owner only. It reports false when the
// deque is full.
func (d *deque[T]) push(x *T) bool {
	b := d.bottom.Load()
	if b-d.cachedTop >= int64(len(d.buf)) {
		d.cachedTop = d.top.Load()
		if b-d.cachedTop >= int64(len(d.buf)) {
			return false
		}
	}
	// The slot needs only release order (it is published by the store
	// to bottom below, itself a release): a plain store on x86.
	barrier.StoreReleasePointer(&d.buf[b&d.mask], x)
	// Publish: a thief that loads bottom == b+1 sees the slot. A release
	// store suffices; the scheduler's sleepers use barrier.Heavy before
	// their final check, which is what orders this store before a parked
	// worker's recheck.
	barrier.StoreReleaseInt64(&d.bottom, b+1)
	return true
}

// pop removes the newest item. Owner only. It returns nil when the deque
// is empty.
func (d *deque[T]) pop() *T {
	b := d.bottom.Load() - 1
	// Claim slot b before looking at top. This store must be ordered
	// before the load of top (a store→load order, so a full barrier: the
	// sequentially consistent store gives it), pairing with the thieves'
	// load of top before bottom: a thief that read the old bottom then
	// fails its CAS if we take the last item, and one that reads the new
	// bottom does not reach slot b.
	d.bottom.Store(b)
	t := d.top.Load()
	if t > b {
		d.bottom.Store(b + 1) // empty: undo
		return nil
	}
	x := d.buf[b&d.mask].Load()
	if t < b {
		return x // more than one item: thieves cannot reach slot b
	}
	// The last item: race the thieves for it.
	if !d.top.CompareAndSwap(t, t+1) {
		x = nil
	}
	d.bottom.Store(b + 1)
	return x
}

// steal removes the oldest item. Any goroutine. It returns nil when the
// deque is empty or another thief (or the owner) won the race for it; ok
// reports whether the deque looked non-empty, so that a caller can tell
// "empty" from "lost a race, try again".
func (d *deque[T]) steal() (x *T, ok bool) {
	t := d.top.Load()
	// top before bottom, both sequentially consistent: see pop.
	b := d.bottom.Load()
	if t >= b {
		return nil, false
	}
	x = d.buf[t&d.mask].Load()
	if !d.top.CompareAndSwap(t, t+1) {
		return nil, true
	}
	return x, true
}

// free returns how many more items the owner can push. Owner only.
func (d *deque[T]) free() int {
	return len(d.buf) - int(d.bottom.Load()-d.top.Load())
}

// len returns the number of items, approximately under concurrency.
func (d *deque[T]) len() int {
	n := d.bottom.Load() - d.top.Load()
	return int(max(n, 0))
}
