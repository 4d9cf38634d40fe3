package sched

import "time"

// Stats is a snapshot of a scheduler's state and counters. Reading it
// costs a few loads per worker and takes no lock.
type Stats struct {
	Workers  int    // workers
	Busy     int    // workers running a task
	Idle     int    // workers not running a task
	Parked   int    // idle workers asleep
	Queued   int    // jobs waiting in the submission queue and the deques
	Active   int    // top-level tasks accepted and not finished (queued or running)
	Done     uint64 // top-level tasks finished (including failed ones)
	Failed   uint64 // futures (Go) whose function returned an error or panicked
	Panics   uint64 // panics recovered: in any task, join half or blocking call (so Panics may exceed Failed)
	Steals   uint64 // jobs taken from another worker's deque
	Parks    uint64 // times a worker went to sleep
	Replaced uint64 // worker goroutines replaced after a panic
	Stuck    int    // workers whose current task has run longer than Options.StuckAfter
	NotRun   uint64 // accepted tasks and blocking calls dropped by Shutdown's deadline

	BlockingGoroutines int    // goroutines of the pool for blocking calls
	BlockingQueued     int    // blocking calls waiting for a goroutine
	BlockingDone       uint64 // blocking calls finished (or dropped)
}

// Stats returns a snapshot of the scheduler's state and counters.
func (s *Scheduler) Stats() Stats {
	st := Stats{Workers: len(s.workers), Parked: s.idle.Len(), Replaced: s.replaced.Load(),
		Stuck: int(s.stuck.Load()), NotRun: s.notRun.Load() + s.blocking.notRun.Load(),
		BlockingGoroutines: int(s.blocking.running.Load()), BlockingQueued: s.blocking.q.Len(),
		BlockingDone: s.blocking.done.Load(), Panics: s.blocking.panics.Load()}
	var spawned uint64
	for _, w := range s.workers {
		st.Done += w.completed.Load()
		spawned += w.spawned.Load()
		st.Panics += w.panics.Load()
		st.Failed += w.failed.Load()
		st.Steals += w.steals.Load()
		st.Parks += w.parks.Load()
		if w.seq.Load()%2 == 1 {
			st.Busy++
		}
		st.Queued += w.dq.len()
	}
	st.Idle = st.Workers - st.Busy
	st.Queued += s.inject.Len()
	if a := int64(s.submitted.Load() + spawned - st.Done); a > 0 {
		st.Active = int(a)
	}
	return st
}

// monitor samples every worker's task sequence number; a worker whose odd
// (running) sequence number has not moved for StuckAfter is stuck. It costs
// the hot path nothing: no clock is read per task.
func (s *Scheduler) monitor() {
	every := s.opt.StuckAfter / 4
	tick := time.NewTicker(max(every, time.Millisecond))
	defer tick.Stop()
	last := make([]uint64, len(s.workers))
	since := make([]time.Time, len(s.workers))
	for {
		select {
		case <-s.quit:
			s.stuck.Store(0)
			return
		case now := <-tick.C:
			stuck := 0
			for i, w := range s.workers {
				seq := w.seq.Load()
				if seq != last[i] {
					last[i], since[i] = seq, now
					continue
				}
				if seq%2 == 1 && now.Sub(since[i]) >= s.opt.StuckAfter {
					stuck++
				}
			}
			s.stuck.Store(int32(stuck))
		}
	}
}
