package sched

import (
	"context"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/park"
)

// Spawner is where Go and ParallelFor queue work: a *Scheduler (from
// outside, through the submission queue) or a *Worker (from inside a task,
// onto the worker's own deque).
type Spawner interface {
	spawn(ctx context.Context, j *job) error
}

var (
	_ Spawner = (*Scheduler)(nil)
	_ Spawner = (*Worker)(nil)
)

func (s *Scheduler) spawn(ctx context.Context, j *job) error { return s.submit(ctx, task{j: j}, true) }

// Future is the result of a task started with Go.
type Future[R any] struct {
	job
	fn      func(w *Worker) (R, error)
	done    atomic.Bool
	val     R
	err     error
	waiters park.Waiters
	// hooks is the stack of OnDone functions not yet run; hooksRun once
	// they have been taken to run (see OnDone for the protocol).
	hooks atomic.Pointer[hook]
}

// hook is one function registered with OnDone.
type hook struct {
	fn   func()
	next *hook
}

// hooksRun marks a future's hooks as taken: OnDone runs its function
// itself from then on.
var hooksRun = new(hook)

// OnDone arranges for fn to be called once, when the task has finished —
// run, failed, panicked, or dropped by Shutdown without running — or at
// once, on the calling goroutine, if it already has. fn runs on the
// goroutine that finishes the task (a worker: it must not block, and must
// not wait for the future itself), after the result is set and before
// Wait returns to anyone: when Wait returns, every hook registered before
// the task finished has run. It is how code that admits tasks (a pool's
// bounded queue) learns that a slot is free, whether or not anybody waits
// for the future. A panic in fn is re-raised on that goroutine once every
// other hook has run and the future is complete (on a worker it is
// handled as a task's panic).
func (f *Future[R]) OnDone(fn func()) {
	n := &hook{fn: fn}
	for {
		h := f.hooks.Load()
		if h == hooksRun {
			// complete has taken the stack: the result is set, and this
			// hook is too late to be in it.
			fn()
			return
		}
		n.next = h
		if f.hooks.CompareAndSwap(h, n) {
			return // complete's swap will see it
		}
	}
}

// runHooks takes the stack of hooks, marking it taken, and runs it in the
// order of registration. A hook's panic is recovered so that the others
// run; the first is returned.
func (f *Future[R]) runHooks() (panicked any) {
	h := f.hooks.Swap(hooksRun)
	var rev *hook
	for h != nil {
		next := h.next
		h.next, rev = rev, h
		h = next
	}
	for ; rev != nil; rev = rev.next {
		if v := callHook(rev.fn); v != nil && panicked == nil {
			panicked = v
		}
	}
	return panicked
}

func callHook(fn func()) (panicked any) {
	defer func() { panicked = recover() }()
	fn()
	return nil
}

// Go starts fn as a top-level task and returns its future. From outside
// the scheduler pass the *Scheduler (ctx bounds the wait for room in the
// submission queue); from inside a task pass the task's *Worker. If the
// task cannot be queued (ErrClosed, ctx's error) the future completes at
// once with that error. A panic in fn completes the future with a
// *PanicError.
func Go[R any](ctx context.Context, sp Spawner, fn func(w *Worker) (R, error)) *Future[R] {
	f := &Future[R]{fn: fn}
	f.r = f
	f.counted = true
	if fn == nil {
		f.complete(*new(R), ErrNilFunc)
		return f
	}
	if err := sp.spawn(ctx, &f.job); err != nil {
		var zero R
		f.complete(zero, err)
	}
	return f
}

// abandon completes the future of a task that Shutdown dropped.

// abandon completes the future of a task that Shutdown dropped.
func (f *Future[R]) abandon() {
	f.fn = nil
	f.complete(*new(R), ErrClosed)
}

func (f *Future[R]) run(w *Worker) {
	fn := f.fn
	f.fn = nil
	v, err := f.call(w, fn)
	if err != nil {
		barrier.StoreRelease(&w.failed, w.failed.Load()+1)
	}
	f.complete(v, err) // outside call's recover: a hook's panic is not the task's result
}

// call runs fn, turning a panic into a *PanicError.
func (f *Future[R]) call(w *Worker, fn func(w *Worker) (R, error)) (v R, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero R
			v, err = zero, w.recovered(p)
		}
	}()
	return fn(w)
}

// complete sets the result, runs the OnDone hooks, and then publishes the
// result to Done and Wait. Called once.
func (f *Future[R]) complete(v R, err error) {
	f.val, f.err = v, err
	panicked := f.runHooks()
	f.done.Store(true) // publishes val and err to whoever sees done
	f.waiters.NotifyAll()
	if panicked != nil {
		panic(panicked)
	}
}

// Done reports whether the task has finished.
func (f *Future[R]) Done() bool { return f.done.Load() }

// Wait blocks until the task has finished and returns its result, or
// returns ctx's error if ctx ends first. Inside a task, use Await instead:
// it runs other work while it waits rather than blocking the worker.
func (f *Future[R]) Wait(ctx context.Context) (R, error) {
	for !f.done.Load() {
		t := f.waiters.Prepare()
		if f.done.Load() {
			f.waiters.Cancel(t)
			break
		}
		if err := f.waiters.Park(ctx, t); err != nil {
			var zero R
			return zero, err
		}
	}
	return f.val, f.err
}

// Await waits, from inside a task running on w, for f to finish, running
// other queued work meanwhile, and returns f's result.
func Await[R any](w *Worker, f *Future[R]) (R, error) {
	w.helpUntil(&f.done, &f.waiters)
	return f.val, f.err
}
