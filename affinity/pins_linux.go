//go:build linux

package affinity

import "sync"

// pins remembers the masks of the threads that Pin has pinned, so that
// Allowed answers with the process's mask even on a pinned thread.
var pins = pinTable{byTID: make(map[int][]CPUSet)}

// pinTable maps a thread id to the masks the thread has had under Pin:
// first the mask before its outermost Pin, then the mask each Pin in force
// set, innermost last. A successful Pin pushes, its undo pops; only the
// pinned goroutine touches its thread's entry, but the map is shared.
//
// An entry outlives its thread if the goroutine exits pinned (the runtime
// then discards the thread) and its id may be reused. Such an entry is
// stale, recognised by its last mask differing from the thread's actual
// mask, and dropped.
type pinTable struct {
	mu    sync.Mutex
	byTID map[int][]CPUSet
}

// base returns the mask thread tid had before it was pinned, or cur, its
// current mask, if it is not pinned.
func (p *pinTable) base(tid int, cur CPUSet) CPUSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	masks := p.byTID[tid]
	if len(masks) == 0 {
		return cur
	}
	if masks[len(masks)-1] != cur { // stale
		delete(p.byTID, tid)
		return cur
	}
	return masks[0]
}

// push records that thread tid, whose mask was prev, is now pinned to cur.
func (p *pinTable) push(tid int, prev, cur CPUSet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	masks := p.byTID[tid]
	if len(masks) == 0 || masks[len(masks)-1] != prev { // first Pin, or a stale entry
		masks = []CPUSet{prev}
	}
	p.byTID[tid] = append(masks, cur)
}

// pop records that thread tid's innermost Pin was undone.
func (p *pinTable) pop(tid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	masks := p.byTID[tid]
	if len(masks) <= 2 {
		delete(p.byTID, tid)
		return
	}
	p.byTID[tid] = masks[:len(masks)-1]
}
