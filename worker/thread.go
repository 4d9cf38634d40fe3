package worker

import (
	"context"
	"fmt"
	"runtime"

	"github.com/weftlabs/weft/sched"
)

// ThreadInfo says where a task runs — the guide's getThreadInfo. In Go
// the question is not which OS thread (goroutines move between them) but
// which weft worker: a CPU worker is a goroutine locked to its own OS
// thread, possibly pinned to one CPU; an I/O worker is a goroutine of the
// elastic pool; anything else is what the guide calls the main thread.
type ThreadInfo struct {
	InWorker   bool // running in a pool's task (or under WithWorker)
	Kind       Kind // CPU or IO, when InWorker
	Worker     int  // the CPU worker's id (sched.Worker.ID); -1 otherwise
	CPU        int  // the CPU the worker is pinned to; -1 when not pinned
	Pinned     bool
	GOMAXPROCS int
}

func (ti ThreadInfo) String() string {
	switch {
	case !ti.InWorker:
		return "main (not a worker)"
	case ti.Kind == IO:
		return "io worker"
	case ti.Pinned:
		return fmt.Sprintf("cpu worker %d (pinned to CPU %d)", ti.Worker, ti.CPU)
	}
	return fmt.Sprintf("cpu worker %d (not pinned)", ti.Worker)
}

// threadKey is the context key of a threadCtx.
type threadKey struct{}

// threadCtx is a task's context: the caller's, plus the worker it runs on.
// Immutable once made.
type threadCtx struct {
	context.Context
	w     *sched.Worker // nil for an I/O worker
	kind  Kind
	owner any // the pool whose task this is (nil under WithWorker)
}

func (c *threadCtx) Value(key any) any {
	if key == (threadKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// WithWorker returns a context that carries w, for code that runs its own
// tasks on a sched.Scheduler (sched.Go, Submit) and calls thread
// utilities in them. Pools and RunInWorker do this themselves.
func WithWorker(ctx context.Context, w *sched.Worker) context.Context {
	return &threadCtx{Context: ctx, w: w, kind: CPU}
}

// Thread describes where the task with context ctx runs.
func Thread(ctx context.Context) ThreadInfo {
	ti := ThreadInfo{Worker: -1, CPU: -1, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	tc, _ := ctx.Value(threadKey{}).(*threadCtx)
	if tc == nil {
		return ti
	}
	ti.InWorker, ti.Kind = true, tc.kind
	if tc.w != nil {
		ti.Worker, ti.CPU, ti.Pinned = tc.w.ID(), tc.w.CPU(), tc.w.Pinned()
	}
	return ti
}

// IsMainThread reports whether ctx is not a worker task's — the guide's
// isMainThread.
func IsMainThread(ctx context.Context) bool {
	tc, _ := ctx.Value(threadKey{}).(*threadCtx)
	return tc == nil
}

// CurrentWorker returns the CPU worker the task with context ctx runs on.
func CurrentWorker(ctx context.Context) (*sched.Worker, bool) {
	tc, _ := ctx.Value(threadKey{}).(*threadCtx)
	if tc == nil || tc.w == nil {
		return nil, false
	}
	return tc.w, true
}

// threadContexts makes the contexts a CPU pool hands its handlers. A
// caller's context.Background() — the common case — gets a context made
// once per worker and kept in the worker's slot, so such a task costs no
// allocation; any other context is wrapped, one small allocation.
type threadContexts struct {
	owner any
	bg    *sched.WorkerLocal[threadCtx]
}

func (tcs *threadContexts) init(owner any, kind Kind, s *sched.Scheduler) {
	tcs.owner = owner
	if kind == CPU {
		tcs.bg = sched.NewWorkerLocal[threadCtx](s, nil)
	}
}

// context returns ctx carrying w. Called on w: a slot is written only by
// its worker, once, before the context is first handed out.
func (tcs *threadContexts) context(ctx context.Context, w *sched.Worker) context.Context {
	if ctx != context.Background() || tcs.bg == nil {
		return &threadCtx{Context: ctx, w: w, kind: CPU, owner: tcs.owner}
	}
	c := tcs.bg.Get(w)
	if c.w == nil {
		*c = threadCtx{Context: ctx, w: w, kind: CPU, owner: tcs.owner}
	}
	return c
}

// ioContext returns ctx marked as an I/O worker's.
func (tcs *threadContexts) ioContext(ctx context.Context) context.Context {
	return &threadCtx{Context: ctx, kind: IO, owner: tcs.owner}
}

// taskOwner returns the pool whose task runs with context ctx, or nil.
func taskOwner(ctx context.Context) any {
	if tc, _ := ctx.Value(threadKey{}).(*threadCtx); tc != nil {
		return tc.owner
	}
	return nil
}
