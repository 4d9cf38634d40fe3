package worker

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// memoryGate holds back new tasks while the live Go heap is over a limit —
// the guide's memoryLimitMB, for a Go process.
//
// What it measures is the recycler's figure (see recyclerHeap): the bytes
// of heap objects that the last completed GC found reachable, for the
// whole process. That figure moves only when a GC completes, so a
// submitter held at the gate forces a collection (at most one per gcEvery,
// whoever is waiting) before each look: otherwise a process that stopped
// allocating because its tasks wait would never run the GC that lets them
// go on. Memory off the Go heap (shm arenas, cgo) is not counted.
type memoryGate struct {
	heap      recyclerHeap
	epoch     time.Time
	lastGC    atomic.Int64 // ns since epoch of the last forced GC, 0 before the first
	throttled atomic.Uint64
}

const (
	gcEvery   = 50 * time.Millisecond // at most one forced GC per this
	gateNap   = time.Millisecond      // how often a held-back submitter looks again
	gateFresh = time.Millisecond      // how old a heap sample may be
)

func (g *memoryGate) init(limit int64) {
	g.heap.init(limit, 0)
	g.heap.every = gateFresh
	g.epoch = time.Now()
}

func (g *memoryGate) enabled() bool { return g.heap.enabled() }

// over reports whether the live heap, as last measured, is over the
// limit. Before the first GC the heap has not been measured (and is small:
// the first GC comes at a few MiB), so it is not over.
func (g *memoryGate) over() bool {
	g.heap.sample(time.Since(g.epoch))
	lim := g.heap.effective()
	return lim > 0 && g.heap.live.Load() > lim
}

// wait returns at once while the heap is under the limit. Over it, it
// fails with ErrMemoryLimit if wait is false (without forcing a GC: a
// call that does not wait does not pay for one), and otherwise waits —
// forcing a GC now and then — until the heap is back under, ctx ends, or
// closed reports true (then ErrClosed).
func (g *memoryGate) wait(ctx context.Context, wait bool, closed func() bool) error {
	if !g.enabled() || !g.over() {
		return nil
	}
	if closed() {
		return ErrClosed
	}
	g.throttled.Add(1)
	if !wait {
		return ErrMemoryLimit
	}
	t := time.NewTimer(0) // collect at once, then every gateNap
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if closed() {
			return ErrClosed
		}
		g.collect()
		if !g.over() {
			return nil
		}
		t.Reset(gateNap)
	}
}

// collect forces a GC unless one was forced less than gcEvery ago, and
// takes a fresh sample after it.
func (g *memoryGate) collect() {
	now := int64(time.Since(g.epoch))
	last := g.lastGC.Load()
	if last != 0 && now-last < int64(gcEvery) || !g.lastGC.CompareAndSwap(last, now) {
		return
	}
	runtime.GC()
	g.heap.at.Store(-1) // the next sample is taken, not reused
	g.heap.sample(time.Since(g.epoch))
}

// live returns the last measured live heap, in bytes (0 before the
// first GC).
func (g *memoryGate) live() uint64 {
	g.heap.sample(time.Since(g.epoch))
	return g.heap.live.Load()
}
