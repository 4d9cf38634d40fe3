package sched

import (
	"context"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/park"
)

// joinJob is the half of a Join that may run elsewhere. Owned by the
// joining worker, which recycles it.
type joinJob struct {
	job
	owner *Worker // the joining worker; fixed for the record's life
	fn    func(w *Worker)
	done  atomic.Bool
	panic *PanicError // written before done; read after
}

// abandon is never called: a dropped join half is run instead (see
// Worker.drop), since the task that joins it is waiting for it.
func (j *joinJob) abandon() { panic("sched: a join half was abandoned") }

func (j *joinJob) run(w *Worker) {
	defer func() {
		if v := recover(); v != nil {
			j.panic = w.recovered(v)
		}
		// Read owner before done: once done is set the owner may recycle
		// the record. The owner's wait list outlives it; a notification
		// that reaches the owner's next wait is spurious, and harmless.
		owner := j.owner
		j.done.Store(true)
		owner.joinWaiters.NotifyAll()
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
	if !w.dq.push(&jb.job) {
		// The deque is full: run both halves here. A half never goes to
		// the submission queue, where Shutdown could drop it while its
		// owner waits for it.
		pa := w.runNested(a)
		jb.run(w)
		pb := jb.panic
		w.freeJoin(jb)
		raise(pa, pb)
		return
	}
	w.s.wake()
	pa := w.runNested(a)
	w.join(jb)
	pb := jb.panic
	w.freeJoin(jb)
	raise(pa, pb)
}

// raise re-panics with the first of a Join's two panics, if any.
func raise(pa, pb *PanicError) {
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
			// Taken back before anyone stole it: run it here. Nobody else
			// can see the record now, so neither done nor a notification
			// is needed.
			jb.panic = w.runNested(jb.fn)
			return
		}
		// LIFO discipline makes this unreachable (whatever was pushed
		// after jb has been joined); keep the work rather than lose it.
		w.execute(top)
	}
	w.helpUntil(&jb.done, &w.joinWaiters)
}

// helpUntil runs queued work (own deque, then the submission queue, then
// steals) until done is set; with nothing to run it spins, yields, then
// parks on wq, which whoever sets done notifies.
//
// Parking cannot strand the job waited for: the job was queued before the
// wait began, so while it is still queued the recheck after Prepare sees
// work and does not park; once it runs, its end sets done and notifies.
// Work queued later is for the other workers, which submissions wake.
func (w *Worker) helpUntil(done *atomic.Bool, wq *park.Waiters) {
	var b park.Backoff
	for !done.Load() {
		if j := w.helpFind(); j != nil {
			b.Reset()
			w.nested++
			w.execute(j)
			w.nested--
			continue
		}
		if b.Snooze() {
			continue
		}
		t := wq.Prepare()
		if done.Load() || w.anyWork() {
			wq.Cancel(t)
			b.Reset()
			continue
		}
		barrier.StoreRelease(&w.parks, w.parks.Load()+1)
		if err := wq.Park(context.Background(), t); err != nil {
			panic(err) // unreachable: the background context never ends
		}
		b.Reset()
	}
}

// helpFind is find for a worker inside a task: its own deque first (the
// halves its own joins are waiting for), then the submission queue, then
// the other workers'.
func (w *Worker) helpFind() *job {
	if j := w.dq.pop(); j != nil {
		return j
	}
	if j := w.fromMail(); j != nil {
		return j
	}
	if j := w.fromInjector(); j != nil {
		return j
	}
	return w.steal()
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
		j = &joinJob{owner: w}
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
