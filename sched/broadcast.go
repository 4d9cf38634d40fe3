package sched

import (
	"context"
	"errors"

	"github.com/weftlabs/weft/ring"
)

// mailboxSize is the capacity of each worker's mailbox. Broadcasts wait
// for room, so it bounds memory, not the number of broadcasts.
const mailboxSize = 64

// Broadcast runs fn once on every worker, each call on its own worker —
// the guide's broadcast to all workers (a configuration update, a cache
// flush, per-worker storage set-up) — and returns when every call has
// returned, or when ctx ends. A worker runs its call between two tasks;
// a worker busy with a long task runs it after that task. Calls that
// panicked are reported together (errors.Is(err, ErrPanic)); a call
// Shutdown dropped reports ErrClosed.
func (s *Scheduler) Broadcast(ctx context.Context, fn func(w *Worker)) error {
	if fn == nil {
		return ErrNilFunc
	}
	fs := make([]*Future[struct{}], 0, len(s.workers))
	var errs []error
	for _, w := range s.workers {
		f := &Future[struct{}]{fn: func(w *Worker) (struct{}, error) { fn(w); return struct{}{}, nil }}
		f.r = f
		f.counted = true
		if err := s.mail(ctx, w, &f.job); err != nil {
			errs = append(errs, err)
			break
		}
		fs = append(fs, f)
	}
	for _, f := range fs {
		if _, err := f.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mail queues j for worker w alone, accounting for it as a submission.
func (s *Scheduler) mail(ctx context.Context, w *Worker, j *job) error {
	s.submitted.Add(1)
	if s.state.Load() != stateOpen {
		s.submitted.Add(^uint64(0))
		return ErrClosed
	}
	if err := w.mail.Push(ctx, j); err != nil {
		s.submitted.Add(^uint64(0))
		if errors.Is(err, ring.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	// The worker may be parked: wake them all (broadcasts are rare), and
	// each looks at its mailbox. Parked workers recheck their mailbox
	// after announcing sleep, so the wake-up cannot be lost.
	s.idle.NotifyAll()
	return nil
}

// fromMail takes the next job addressed to this worker.
func (w *Worker) fromMail() *job {
	if w.mail.Len() == 0 {
		return nil
	}
	j, err := w.mail.TryPop()
	if err != nil {
		return nil
	}
	return j
}
