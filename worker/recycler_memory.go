package worker

import (
	"math"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// MemorySizer is implemented by worker state that can say how much memory
// it holds: the bytes of its buffers, caches, arenas — whatever it
// allocated and keeps. A Recycler with RecyclerOptions.StateLimit asks it
// at every release and retires the worker whose state reports more.
//
// The figure is the state's own account, not a measurement: Go cannot
// attribute heap bytes to the object graph that holds them without
// walking it. Count what grows (a cache's entries, a buffer's capacity);
// memory off the Go heap that the state owns (an mmap arena, a cgo
// allocation) may be counted too, since only the state knows of it.
type MemorySizer interface {
	MemorySize() int64
}

// recyclerHeap samples the process's heap through runtime/metrics, at
// most once per every, and decides when the heap limit retires a worker.
//
// What is measured: /gc/heap/live:bytes, the bytes of heap objects the
// last completed GC found reachable — every goroutine's, not only the
// workers'; and /gc/gomemlimit:bytes, the runtime's soft memory limit.
// What is not: garbage not yet collected, goroutine stacks, runtime
// metadata, memory off the Go heap (mmap arenas, cgo, the kernel's
// buffers), and anything allocated since the last GC.
type recyclerHeap struct {
	limit    int64   // RecyclerOptions.HeapLimit (0: none)
	fraction float64 // RecyclerOptions.HeapLimitFraction (0: none)
	every    time.Duration

	sampling atomic.Bool  // one sampler at a time owns samples
	at       atomic.Int64 // when the last sample was taken, ns since the recycler's epoch; -1 before the first
	live     atomic.Uint64
	cycle    atomic.Uint64 // GC cycles completed at the sample
	soft     atomic.Int64  // the runtime's soft memory limit at the sample
	shedAt   atomic.Uint64 // the GC cycle of the last retirement for the heap limit
	samples  []metrics.Sample
}

func (h *recyclerHeap) init(limit int64, fraction float64) {
	h.limit, h.fraction, h.every = limit, fraction, time.Millisecond
	h.at.Store(-1)
	h.soft.Store(math.MaxInt64)
	h.samples = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/gomemlimit:bytes"},
	}
}

func (h *recyclerHeap) enabled() bool { return h.limit > 0 || h.fraction > 0 }

// sample refreshes the figures if the last sample is older than every
// (now is ns since the recycler's epoch). A concurrent caller that finds
// a sample being taken uses the previous one.
func (h *recyclerHeap) sample(now time.Duration) {
	if at := h.at.Load(); at >= 0 && now-time.Duration(at) < h.every {
		return
	}
	if !h.sampling.CompareAndSwap(false, true) {
		return
	}
	metrics.Read(h.samples)
	h.live.Store(recyclerMetricUint(h.samples[0]))
	h.cycle.Store(recyclerMetricUint(h.samples[1]))
	if v := h.samples[2]; v.Value.Kind() == metrics.KindUint64 {
		h.soft.Store(int64(min(v.Value.Uint64(), math.MaxInt64)))
	}
	h.at.Store(int64(now))
	h.sampling.Store(false)
}

func recyclerMetricUint(s metrics.Sample) uint64 {
	if s.Value.Kind() == metrics.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}

// effective returns the limit in force: the lower of HeapLimit and
// HeapLimitFraction of the soft limit (when one is set), 0 for none.
func (h *recyclerHeap) effective() uint64 {
	var lim uint64
	if h.limit > 0 {
		lim = uint64(h.limit)
	}
	if soft := h.soft.Load(); h.fraction > 0 && soft > 0 && soft < math.MaxInt64 {
		f := uint64(float64(soft) * h.fraction)
		if lim == 0 || f < lim {
			lim = f
		}
	}
	return lim
}

// over reports whether the live heap is over the limit in force (taking
// a fresh sample if the last is older than every).
func (h *recyclerHeap) over(now time.Duration) bool {
	if !h.enabled() {
		return false
	}
	h.sample(now)
	lim := h.effective()
	return lim > 0 && h.live.Load() > lim
}

// claim reserves the retirement of the GC cycle that measured the heap
// over its limit: one per cycle, so that the next GC measures its effect
// before another is made, instead of emptying the recycler on a figure
// only a GC can bring down. It reports false when this cycle's is taken.
func (h *recyclerHeap) claim() bool {
	c := h.cycle.Load()
	last := h.shedAt.Load()
	return last < c && h.shedAt.CompareAndSwap(last, c)
}

// shed reports whether a worker should be retired for the heap now.
func (h *recyclerHeap) shed(now time.Duration) bool {
	return h.over(now) && h.claim()
}
