package sched

import "sync"

// runner is what a queued job does when a worker takes it.
type runner interface {
	run(w *Worker)
}

// job is the unit the queues hold: a pointer (one word, so a thief's racy
// read of a deque slot is never torn) to a header embedded in the value
// that runs. r points back to that value; counted marks top-level tasks,
// which the scheduler accounts for (submitted, completed, not run), as
// opposed to the halves of a fork-join, which belong to a running task.
type job struct {
	r       runner
	counted bool
}

// funcJob is a submitted func(*Worker). Recycled through a pool: a
// submission allocates nothing in steady state beyond what the caller's
// closure does.
type funcJob struct {
	job
	fn func(*Worker)
}

var funcJobs = sync.Pool{New: func() any {
	j := new(funcJob)
	j.r = j
	j.counted = true
	return j
}}

func newFuncJob(fn func(*Worker)) *funcJob {
	j := funcJobs.Get().(*funcJob)
	j.fn = fn
	return j
}

func (j *funcJob) run(w *Worker) {
	fn := j.fn
	j.fn = nil
	funcJobs.Put(j)
	fn(w)
}
