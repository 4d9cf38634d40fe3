package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/weftlabs/weft/sched"
)

// RunInWorker runs fn once on a CPU worker of s and returns its result —
// the guide's runInWorker. fn's context carries the worker (Thread,
// CurrentWorker, ThreadLocal.Get work in it). With s nil, a scheduler of
// one worker is started for the call and closed after it, and RunInWorker
// returns when fn has; with s, it returns when fn has or ctx has ended
// (fn, once started, runs on and sees ctx end). A panic in fn is
// returned as an error matching sched.ErrPanic. From inside a task of s,
// use sched.Go and sched.Await instead, which do not block the worker.
func RunInWorker[R any](ctx context.Context, s *sched.Scheduler, fn func(ctx context.Context) (R, error)) (R, error) {
	var zero R
	if fn == nil {
		return zero, fmt.Errorf("%w: nil function", ErrInvalidOptions)
	}
	wait := ctx
	if s == nil {
		tmp, err := sched.New(sched.Options{Name: "run-in-worker", Workers: 1})
		if err != nil {
			return zero, fmt.Errorf("worker: run in worker: %w", err)
		}
		defer tmp.Close()
		s, wait = tmp, context.WithoutCancel(ctx) // the wait ends when fn does
	}
	f := sched.Go(ctx, s, func(w *sched.Worker) (R, error) {
		return fn(WithWorker(ctx, w))
	})
	v, err := f.Wait(wait)
	if errors.Is(err, sched.ErrClosed) {
		return v, fmt.Errorf("worker: run in worker: %w: %w", ErrClosed, err)
	}
	return v, err
}
