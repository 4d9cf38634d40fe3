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
// goroutine that finished the task (a worker: it must not block), after
// the result is set; Wait may return before fn has run. It is how code
// that admits tasks (a pool's bounded queue) learns that a slot is free,
// whether or not anybody waits for the future.
func (f *Future[R]) OnDone(fn func()) {
	n := &hook{fn: fn}
	for {
		h := f.hooks.Load()
		if h == hooksRun {
			fn()
			return
		}
		n.next = h
		if f.hooks.CompareAndSwap(h, n) {
			break
		}
	}
	// complete stores done and then loads hooks; this stored hooks and now
	// loads done (both sequentially consistent). Either complete sees the
	// hook, or this sees done — or both, and the swap decides who runs the
	// stack.
	if f.done.Load() {
		f.runHooks()
	}
}

// runHooks takes the stack of hooks, if nobody has, and runs it in the
// order of registration.
func (f *Future[R]) runHooks() {
	h := f.hooks.Swap(hooksRun)
	if h == hooksRun {
		return
	}
	var rev *hook
	for h != nil {
		next := h.next
		h.next, rev = rev, h
		h = next
	}
	for ; rev != nil; rev = rev.next {
		rev.fn()
	}
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
func (f *Future[R]) abandon() {
	f.fn = nil
	f.complete(*new(R), ErrClosed)
}

func (f *Future[R]) run(w *Worker) {
	fn := f.fn
	f.fn = nil
	defer func() {
		if v := recover(); v != nil {
			var zero R
			barrier.StoreRelease(&w.failed, w.failed.Load()+1)
			f.complete(zero, w.recovered(v))
		}
	}()
	v, err := fn(w)
	if err != nil {
		barrier.StoreRelease(&w.failed, w.failed.Load()+1)
	}
	f.complete(v, err)
}

func (f *Future[R]) complete(v R, err error) {
	f.val, f.err = v, err
	f.done.Store(true) // publishes val and err to whoever sees done
	f.waiters.NotifyAll()
	if f.hooks.Load() != nil {
		f.runHooks()
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
