package ring

import (
	"context"

	"github.com/weftlabs/weft/internal/park"
)

// nonBlocking is what the blocking operations are built from; both queue
// kinds implement it. The slow paths below are shared and generic: they run
// only after a non-blocking attempt failed, so the indirect calls are off
// the fast path.
type nonBlocking[T any] interface {
	TryPush(v T) error
	TryPop() (T, error)
	TryPushBatch(vs []T) (int, error)
	TryPopBatch(dst []T) (int, error)

	// mayPush and mayPop are hints for the spinning phase of a wait: cheap
	// checks that an attempt could succeed (or that the queue was closed),
	// reading as few shared cache lines as possible, so that a spinning
	// waiter does not keep pulling lines away from the other side.
	mayPush() bool
	mayPop() bool

	Len() int
	Cap() int
}

// side is what one side (producers or consumers) of a queue waits with.
type side struct {
	waiters park.Waiters // parked goroutines
	pace    park.Pace    // how the next spinning wait starts
}

// Every blocking wait below follows the same three phases: retry with a
// spinning, then yielding, backoff; then loop on
//
//	announce (Prepare) → retry → Cancel on success, or Park
//
// The retry after Prepare is what makes a wake-up impossible to lose: see
// park.Waiters. The retry also observes Close, which marks the queue closed
// before it wakes everyone. The context is consulted before every Prepare,
// so a context that is already done (or nil, which panics) never leaves a
// registration behind.

// mustContext panics on a nil context, on every call and not only when the
// call has to wait, so that the mistake shows at once.
func mustContext(ctx context.Context) {
	if ctx == nil {
		panic("ring: nil Context")
	}
}

func pushSlow[T any, Q nonBlocking[T]](ctx context.Context, q Q, sd *side, v T) error {
	var b park.Backoff
	sd.pace.Start(&b)
	for b.Snooze() {
		if !q.mayPush() {
			continue
		}
		if err := q.TryPush(v); err != ErrFull {
			sd.pace.Record(&b, q.Cap()-q.Len()+1)
			return err
		}
	}
	w := &sd.waiters
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := w.Prepare()
		if err := q.TryPush(v); err != ErrFull {
			w.Cancel(t)
			return err
		}
		if err := w.Park(ctx, t); err != nil {
			return err
		}
		if err := q.TryPush(v); err != ErrFull {
			return err
		}
	}
}

func popSlow[T any, Q nonBlocking[T]](ctx context.Context, q Q, sd *side) (T, error) {
	var b park.Backoff
	sd.pace.Start(&b)
	for b.Snooze() {
		if !q.mayPop() {
			continue
		}
		if v, err := q.TryPop(); err != ErrEmpty {
			sd.pace.Record(&b, q.Len()+1)
			return v, err
		}
	}
	w := &sd.waiters
	for {
		if err := ctx.Err(); err != nil {
			var zero T
			return zero, err
		}
		t := w.Prepare()
		if v, err := q.TryPop(); err != ErrEmpty {
			w.Cancel(t)
			return v, err
		}
		if err := w.Park(ctx, t); err != nil {
			var zero T
			return zero, err
		}
		if v, err := q.TryPop(); err != ErrEmpty {
			return v, err
		}
	}
}

func popBatchSlow[T any, Q nonBlocking[T]](ctx context.Context, q Q, sd *side, dst []T) (int, error) {
	var b park.Backoff
	sd.pace.Start(&b)
	for b.Snooze() {
		if !q.mayPop() {
			continue
		}
		if n, err := q.TryPopBatch(dst); err != ErrEmpty {
			sd.pace.Record(&b, q.Len()+n)
			return n, err
		}
	}
	w := &sd.waiters
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t := w.Prepare()
		if n, err := q.TryPopBatch(dst); err != ErrEmpty {
			w.Cancel(t)
			return n, err
		}
		if err := w.Park(ctx, t); err != nil {
			return 0, err
		}
		if n, err := q.TryPopBatch(dst); err != ErrEmpty {
			return n, err
		}
	}
}

// pushBatch pushes all of vs, waiting for room whenever the queue is full.
func pushBatch[T any, Q nonBlocking[T]](ctx context.Context, q Q, sd *side, vs []T) (int, error) {
	if len(vs) == 0 {
		_, err := q.TryPushBatch(vs) // reports ErrClosed, as for a longer batch
		return 0, err
	}
	done := 0
	w := &sd.waiters
	var b park.Backoff
	sd.pace.Start(&b)
	for done < len(vs) {
		n, err := q.TryPushBatch(vs[done:])
		done += n
		switch {
		case err == nil:
			if b.Polls() > 0 {
				sd.pace.Record(&b, q.Cap()-q.Len()+n)
				sd.pace.Start(&b)
			}
			continue
		case err != ErrFull:
			return done, err
		case b.Snooze():
			for !q.mayPush() && b.Snooze() {
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		t := w.Prepare()
		n, err = q.TryPushBatch(vs[done:])
		done += n
		if err != ErrFull {
			w.Cancel(t)
			if err != nil {
				return done, err
			}
			continue
		}
		if err := w.Park(ctx, t); err != nil {
			return done, err
		}
	}
	return done, nil
}
