package sched

// runner is what a queued job does when a worker takes it, and what it
// does when Shutdown drops it instead: abandon completes whatever waits for
// the job (a future, with ErrClosed) without running it.
type runner interface {
	run(w *Worker)
	abandon()
}

// job is the unit the deques hold: a pointer (one word, so a thief's racy
// read of a deque slot is never torn) to a header embedded in the value
// that runs. r points back to that value; counted marks top-level tasks,
// which the scheduler accounts for (submitted, completed, not run), as
// opposed to the halves of a fork-join, which belong to a running task.
type job struct {
	r       runner
	counted bool
}

// task is the unit the submission queue holds: a submitted func, carried
// as it is so that Submit allocates nothing, or a job (futures, spills
// from full deques). Exactly one of fn and j is set. A func task is always
// top-level.
type task struct {
	fn func(*Worker)
	j  *job
}

// funcJob is a submitted func(*Worker) on its way into a deque: a worker
// that takes a batch from the submission queue wraps each func it queues
// for itself and thieves. Recycled through the free list of whichever
// worker runs it (owner-only, so no synchronisation); the lists are
// capped, so a worker that steals more than it wraps does not hoard them.
type funcJob struct {
	job
	fn func(*Worker)
}

const maxFreeFuncJobs = 256

// jobOf returns t as a job, wrapping a func in a recycled funcJob.
func (w *Worker) jobOf(t task) *job {
	if t.fn == nil {
		return t.j
	}
	var j *funcJob
	if n := len(w.funcs); n > 0 {
		j = w.funcs[n-1]
		w.funcs = w.funcs[:n-1]
	} else {
		j = new(funcJob)
		j.r = j
		j.counted = true
	}
	j.fn = t.fn
	return &j.job
}

func (j *funcJob) abandon() { j.fn = nil }

func (j *funcJob) run(w *Worker) {
	fn := j.fn
	j.fn = nil
	if len(w.funcs) < maxFreeFuncJobs {
		w.funcs = append(w.funcs, j)
	}
	fn(w)
}
