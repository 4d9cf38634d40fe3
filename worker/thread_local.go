package worker

import (
	"context"
	"fmt"
	"iter"

	"github.com/weftlabs/weft/sched"
)

// ThreadLocal holds one T per CPU worker of a scheduler — the guide's
// createThreadLocal. Each value sits on cache lines of its own
// (sched.WorkerLocal), so workers updating their own never contend, and
// a task uses its worker's value without a lock: only that worker runs
// it. To use one with a Pool, start the scheduler and pass it in
// PoolOptions.Scheduler.
type ThreadLocal[T any] struct {
	s     *sched.Scheduler
	local *sched.WorkerLocal[T]
}

// NewThreadLocal returns per-worker storage for s's workers, each value
// made by init (the zero T when init is nil).
func NewThreadLocal[T any](s *sched.Scheduler, init func() T) (*ThreadLocal[T], error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil scheduler", ErrInvalidOptions)
	}
	return &ThreadLocal[T]{s: s, local: sched.NewWorkerLocal(s, init)}, nil
}

// Get returns the value of the worker the task with context ctx runs on.
// It fails with ErrNotOnWorker outside a CPU worker's task, or on a
// worker of another scheduler.
func (l *ThreadLocal[T]) Get(ctx context.Context) (*T, error) {
	w, ok := CurrentWorker(ctx)
	if !ok || w.Scheduler() != l.s {
		return nil, fmt.Errorf("worker: thread-local: %w", ErrNotOnWorker)
	}
	return l.local.Get(w), nil
}

// Of returns worker w's value; w must be one of the scheduler's workers.
func (l *ThreadLocal[T]) Of(w *sched.Worker) *T { return l.local.Get(w) }

// All yields every worker's id and value, in worker order. Call it when
// no task is updating them.
func (l *ThreadLocal[T]) All() iter.Seq2[int, *T] { return l.local.All() }
