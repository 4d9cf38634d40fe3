package pipeline

import (
	"context"
	"fmt"
	"iter"
)

// run starts s's pipeline with the caller as the consumer of s, and
// returns the queue to read.
func (s *Stream[T]) run(ctx context.Context, sink string) (*edge[T], error) {
	if s == nil || s.p == nil {
		return nil, fmt.Errorf("pipeline: %s of a stream no pipeline made: %w", sink, ErrInvalid)
	}
	if s.p.building() && s.from != nil {
		s.consume(sink)
	}
	var e *edge[T]
	err := s.p.start(ctx, s, func() { e = s.makeEdge(1) })
	return e, err
}

// drain runs s's pipeline and hands what arrives to fn a batch at a time,
// until the stream ends, fn reports false (stop) or an error, or the run
// fails. It returns when every stage has stopped.
func drain[T any](ctx context.Context, s *Stream[T], sink string, fn func(items []T) (bool, error)) (err error) {
	e, err := s.run(ctx, sink)
	if err != nil {
		return err
	}
	p := s.p
	completed, finished := false, false
	defer func() {
		if !finished { // fn panicked: stop the stages before unwinding
			p.finish(ctx, false)
		}
	}()
	buf := make([]T, p.opt.Batch)
	for {
		k, err := e.q.PopBatch(p.ctx, buf)
		if err == errClosed {
			completed = true
			break
		}
		if err != nil {
			break
		}
		more, err := fn(buf[:k])
		clear(buf[:k])
		if err != nil {
			p.fail(err)
			break
		}
		if !more || p.ctx.Err() != nil {
			break
		}
	}
	finished = true
	return p.finish(ctx, completed)
}

// All runs s's pipeline and returns its items as an iterator, with the
// run's error as the last pair if it failed (a *StageError, or ctx's
// error). Breaking out of the loop stops the pipeline; either way, when
// the loop is over every stage has stopped. Iterate it once: the pipeline
// runs once.
func All[T any](ctx context.Context, s *Stream[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		stopped := false
		err := drain(ctx, s, "All", func(items []T) (bool, error) {
			for _, v := range items {
				if !yield(v, nil) {
					stopped = true
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil && !stopped {
			var zero T
			yield(zero, err)
		}
	}
}

// Collect runs s's pipeline and returns all its items. On failure it
// returns what had arrived and the error.
func Collect[T any](ctx context.Context, s *Stream[T]) ([]T, error) {
	var all []T
	err := drain(ctx, s, "Collect", func(items []T) (bool, error) {
		all = append(all, items...)
		return true, nil
	})
	return all, err
}

// ForEach runs s's pipeline and calls fn on every item, on the caller's
// goroutine, in the order they arrive. An error from fn stops the
// pipeline and is returned as it is.
func ForEach[T any](ctx context.Context, s *Stream[T], fn func(v T) error) error {
	return drain(ctx, s, "ForEach", func(items []T) (bool, error) {
		for _, v := range items {
			if err := fn(v); err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// Reduce runs s's pipeline and folds its items into acc, on the caller's
// goroutine, in the order they arrive.
func Reduce[T, A any](ctx context.Context, s *Stream[T], acc A, fold func(acc A, v T) A) (A, error) {
	err := drain(ctx, s, "Reduce", func(items []T) (bool, error) {
		for _, v := range items {
			acc = fold(acc, v)
		}
		return true, nil
	})
	return acc, err
}

// ToRing runs s's pipeline and pushes its items into q, waiting while q
// is full. It does not close q. It fails (wrapping ring.ErrClosed) if q is
// closed before the stream ends.
func ToRing[T any](ctx context.Context, s *Stream[T], q Ring[T]) error {
	if q == nil {
		return fmt.Errorf("pipeline: ToRing: nil ring: %w", ErrInvalid)
	}
	return drain(ctx, s, "ToRing", func(items []T) (bool, error) {
		if _, err := q.PushBatch(s.p.ctx, items); err != nil {
			if err == errClosed {
				return false, fmt.Errorf("pipeline: ToRing: %w", err)
			}
			return false, nil // the run was cancelled: finish reports why
		}
		return true, nil
	})
}
