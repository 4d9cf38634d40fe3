package worker

import "time"

// checkLoop retires idle workers past MaxIdle or MaxAge, and one idle
// worker per GC cycle while the heap is over its limit.
func (r *Recycler[S]) checkLoop() {
	defer close(r.done)
	tick := time.NewTicker(r.opt.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-tick.C:
			r.check()
		}
	}
}

func (r *Recycler[S]) check() {
	now := r.now()
	over := r.heap.over(now)
	// From the highest slot down: acquirers prefer low slots, so the high
	// ones are the least used.
	for i := len(r.slots) - 1; i >= 0; i-- {
		s := &r.slots[i]
		w := s.idle.Load()
		if w == nil {
			continue
		}
		why, ok := r.idleExpired(w, now)
		if !ok && over {
			why, ok = recycleHeap, true
		}
		if !ok || !s.idle.CompareAndSwap(w, nil) {
			continue
		}
		// w was idle when swapped out, but may have been lent and
		// released since the load above: judge it again.
		if why == recycleHeap {
			over = false // one per check, and one per GC cycle
			ok = r.heap.claim()
		} else {
			why, ok = r.idleExpired(w, r.now())
		}
		if !ok {
			s.idle.Store(w)
			r.waiters.Notify(1)
			continue
		}
		r.retire(w, why)
	}
}
