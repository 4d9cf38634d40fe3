package sched

import (
	"sync/atomic"

	"github.com/weftlabs/weft/internal/park"
)

// joinJob is the half of a Join that may run elsewhere. Owned by the
// joining worker, which recycles it.
type joinJob struct {
	job
	fn    func(w *Worker)
	done  atomic.Bool
	panic *PanicError // written before done; read after
}

func (j *joinJob) run(w *Worker) {
	defer func() {
		if v := recover(); v != nil {
			j.panic = w.recovered(v)
		}
		j.done.Store(true)
	}()
	j.fn(w)
}

// Join runs a and b, possibly in parallel, and returns when both have
// returned. It must be called from inside a task, with that task's worker.
// b is offered to idle workers while a runs on w; if nobody took it, w
// runs it next. While b runs elsewhere, w runs other queued work instead of
// blocking, so nested Joins cannot deadlock however deep they go. If a or b
// panics, Join panics with the first *PanicError after both are done.
func Join(w *Worker, a, b func(w *Worker)) {
	jb := w.newJoin(b)
	w.push(&jb.job)
	pa := w.runNested(a)
	w.join(jb)
	pb := jb.panic
	w.freeJoin(jb)
	switch {
	case pa != nil:
		panic(pa)
	case pb != nil:
		panic(pb)
	}
}

// join waits for a pushed job: if it is still on top of this worker's
// deque, the worker takes it back and runs it itself (the common case, no
// synchronisation beyond the pop); otherwise a thief has it, and the
// worker helps with other work until it is done.
func (w *Worker) join(jb *joinJob) {
	if jb.done.Load() {
		return
	}
	if top := w.dq.pop(); top != nil {
		if top == &jb.job {
			jb.run(w)
			return
		}
		// LIFO discipline makes this unreachable (whatever was pushed
		// after jb has been joined); keep the work rather than lose it.
		w.execute(top)
	}
	w.helpUntil(&jb.done)
}

// helpUntil runs queued work (own deque first, then steals) until done is
// set, yielding the processor when there is nothing to run.
func (w *Worker) helpUntil(done *atomic.Bool) {
	var b park.Backoff
	for !done.Load() {
		j := w.dq.pop()
		if j == nil {
			j = w.steal()
		}
		if j == nil {
			b.Spin()
			continue
		}
		b.Reset()
		w.nested++
		w.execute(j)
		w.nested--
	}
}

// runNested runs fn on w and returns its panic, if any, as an error.
func (w *Worker) runNested(fn func(w *Worker)) (p *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			p = w.recovered(v)
		}
	}()
	fn(w)
	return nil
}

func (w *Worker) newJoin(fn func(w *Worker)) *joinJob {
	var j *joinJob
	if n := len(w.joins); n > 0 {
		j = w.joins[n-1]
		w.joins = w.joins[:n-1]
	} else {
		j = new(joinJob)
		j.r = j
	}
	j.fn = fn
	j.done.Store(false)
	j.panic = nil
	return j
}

func (w *Worker) freeJoin(j *joinJob) {
	j.fn = nil
	if len(w.joins) < 64 {
		w.joins = append(w.joins, j)
	}
}
