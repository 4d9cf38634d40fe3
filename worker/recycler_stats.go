package worker

// RecyclerStats is a snapshot of a Recycler — the guide's getStats.
type RecyclerStats struct {
	MaxWorkers int
	Workers    int // existing: idle, on loan, or being made
	Idle       int
	InUse      int    // on loan (or being made)
	Created    uint64 // workers made
	Acquires   uint64
	Waits      uint64 // acquisitions that had to wait for a worker

	Retired          uint64 // all the retirements below
	RetiredTasks     uint64 // after MaxTasks
	RetiredAge       uint64 // after MaxAge
	RetiredIdle      uint64 // after MaxIdle
	RetiredHeap      uint64 // for the heap limit
	RetiredStateSize uint64 // for StateLimit
	RetiredAsked     uint64 // by Retire (or a panic in Do)
	RetiredClosed    uint64 // by Close

	MakeErrors  uint64 // constructor failures
	CloseErrors uint64 // state Close failures

	// StateBytes sums what the existing workers' states reported (as
	// MemorySizer) at their last release; 0 without StateLimit.
	StateBytes int64
	// HeapLiveBytes is the live heap at the last sample, HeapLimitBytes
	// the limit in force then (0 when no heap limit is set: no sample is
	// taken), and SoftMemoryLimit the runtime's (math.MaxInt64: none).
	HeapLiveBytes   uint64
	HeapLimitBytes  uint64
	SoftMemoryLimit int64
}

// Stats returns a snapshot of r's counters. It takes no lock.
func (r *Recycler[S]) Stats() RecyclerStats {
	st := RecyclerStats{
		MaxWorkers: len(r.slots), Workers: int(r.live.Load()),
		Created: r.made.Load(), Waits: r.waits.Load(),
		RetiredTasks: r.retired[recycleTasks].Load(), RetiredAge: r.retired[recycleAge].Load(),
		RetiredIdle: r.retired[recycleIdle].Load(), RetiredHeap: r.retired[recycleHeap].Load(),
		RetiredStateSize: r.retired[recycleStateSize].Load(), RetiredAsked: r.retired[recycleRetire].Load(),
		RetiredClosed: r.retired[recycleClosed].Load(),
		MakeErrors:    r.makeErrs.Load(), CloseErrors: r.closeErrs.Load(),
		StateBytes:    r.stateBytes.Load(),
		HeapLiveBytes: r.heap.live.Load(), HeapLimitBytes: r.heap.effective(), SoftMemoryLimit: r.heap.soft.Load(),
	}
	for i := range r.slots {
		if r.slots[i].idle.Load() != nil {
			st.Idle++
		}
		st.Acquires += r.slots[i].acquires.Load()
	}
	for i := range r.retired {
		st.Retired += r.retired[i].Load()
	}
	st.Idle = min(st.Idle, st.Workers)
	st.InUse = st.Workers - st.Idle
	return st
}
