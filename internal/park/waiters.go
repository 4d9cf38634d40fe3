package park

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
)

// Waiters is a list of parked goroutines waiting for one condition (for a
// queue: "not empty" or "not full"). The zero value is an empty list.
//
// The protocol, for a waiter whose condition is "the queue has an item":
//
//	t := w.Prepare()   // 1. announce: n++ (a sequentially consistent RMW)
//	if queue has item { // 2. recheck the condition
//		w.Cancel(t)
//	} else {
//		w.Park(ctx, t)  // 3. sleep
//	}
//
// and for a notifier: publish the item (an atomic store, or a release store
// through package barrier), then call Notify, which loads n. This is
// Dekker's pattern (with package barrier's asymmetric fence in Prepare when
// the publication is a plain release store): the
// waiter writes n then reads the queue, the notifier writes the queue then
// reads n, and sequential consistency forbids both reads missing the other
// side's write. So either the notifier sees n > 0 and wakes someone, or the
// waiter's recheck sees the item and does not sleep. No wake-up is lost, and
// a notifier that sees n == 0 skips the mutex entirely.
//
// A notified waiter owes the wake-up to its condition: if it leaves without
// acting on it (its context ended, or Cancel after a notification raced
// with the recheck), the notification is passed on to the next waiter, so a
// wake-up is never swallowed by a waiter that no longer wants it.
type Waiters struct {
	n atomic.Int32 // registered waiters; written under mu, read lock-free by notifiers

	mu         sync.Mutex // guards the list and every linked Waiter's fields
	head, tail *Waiter
}

// Waiter is one registered goroutine. It is handed out by Prepare and must
// be returned through exactly one of Cancel or Park.
type Waiter struct {
	next, prev *Waiter
	linked     bool          // on the list; guarded by the list's mu
	wake       chan struct{} // capacity 1; the notifier sends under mu after unlinking
}

var waiterPool = sync.Pool{New: func() any { return &Waiter{wake: make(chan struct{}, 1)} }}

// Waiting reports whether any goroutine is registered. It is one atomic
// load, meant for the notifier's fast path.
func (w *Waiters) Waiting() bool { return w.n.Load() > 0 }

// Len returns the number of registered goroutines.
func (w *Waiters) Len() int { return int(w.n.Load()) }

// Prepare registers the calling goroutine. The caller must then recheck its
// condition and call Cancel or Park with the returned Waiter.
func (w *Waiters) Prepare() *Waiter {
	t := waiterPool.Get().(*Waiter)
	w.mu.Lock()
	t.linked = true
	t.prev = w.tail
	if w.tail != nil {
		w.tail.next = t
	} else {
		w.head = t
	}
	w.tail = t
	// The announcement. It must precede the caller's recheck (it does: the
	// recheck follows Prepare) and is a full barrier (atomic RMW).
	w.n.Add(1)
	w.mu.Unlock()
	// Notifiers publish with barrier.StoreRelease, which may stay in their
	// store buffer past their load of n. The heavy barrier settles it: the
	// publication is visible to our recheck, or their load of n comes after
	// the barrier and sees our announcement.
	barrier.Heavy()
	return t
}

// Cancel withdraws a prepared waiter whose condition turned true on recheck.
func (w *Waiters) Cancel(t *Waiter) {
	w.withdraw(t)
}

// Park sleeps until a notifier wakes t or ctx is done. It returns nil when
// woken and ctx.Err() when the context ended first. Either way t is spent.
func (w *Waiters) Park(ctx context.Context, t *Waiter) error {
	select {
	case <-t.wake:
		// The notifier unlinked t before sending: nothing else refers to it.
		waiterPool.Put(t)
		return nil
	case <-ctx.Done():
		w.withdraw(t)
		return ctx.Err()
	}
}

// withdraw unlinks t if it is still linked; if a notifier got to it first,
// it consumes the token and passes the wake-up on.
func (w *Waiters) withdraw(t *Waiter) {
	w.mu.Lock()
	if t.linked {
		w.unlink(t)
		w.mu.Unlock()
		waiterPool.Put(t)
		return
	}
	w.mu.Unlock()
	// Unlinked by a notifier, which sent the token while holding mu, so the
	// token is already in the buffer.
	<-t.wake
	waiterPool.Put(t)
	w.Notify(1)
}

// Notify wakes up to k registered goroutines, oldest first, and returns
// how many it woke. When none is registered it costs one atomic load.
func (w *Waiters) Notify(k int) int {
	if k <= 0 || w.n.Load() == 0 {
		return 0
	}
	woken := 0
	w.mu.Lock()
	for ; k > 0 && w.head != nil; k-- {
		t := w.head
		w.unlink(t)
		t.wake <- struct{}{} // never blocks: capacity 1, one send per registration
		woken++
	}
	w.mu.Unlock()
	return woken
}

// NotifyAll wakes every registered goroutine and returns how many.
func (w *Waiters) NotifyAll() int {
	return w.Notify(int(^uint(0) >> 1))
}

// unlink removes t from the list. Caller holds mu.
func (w *Waiters) unlink(t *Waiter) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		w.tail = t.prev
	}
	t.next, t.prev, t.linked = nil, nil, false
	w.n.Add(-1)
}
