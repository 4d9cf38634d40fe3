package pipeline

import (
	"context"
	"fmt"
	"iter"

	"github.com/weftlabs/weft/ring"
)

// Ring is the part of ring.SPSC and ring.MPMC that FromRing and ToRing
// use: either queue type can feed a pipeline or take its output.
type Ring[T any] interface {
	PushBatch(ctx context.Context, vs []T) (int, error)
	PopBatch(ctx context.Context, dst []T) (int, error)
}

// source adds a source stage whose single goroutine runs produce, which
// emits through the worker's emitter and returns when the input is
// exhausted (the stream is then ended) or on error.
func source[T any](p *Pipeline, kind, name string, ok bool, produce func(ctx context.Context, w *worker, next emitter[T]) error) *Stream[T] {
	if p == nil {
		return &Stream[T]{}
	}
	if !p.building() {
		return &Stream[T]{p: p} // the sink reports ErrReused
	}
	n := p.addNode(kind, name, 1)
	if !ok {
		p.setErr(stageErr(n.name, fmt.Errorf("nil input: %w", ErrInvalid)))
	}
	// A source's stream is not fusable: a source keeps its goroutine to
	// itself, producing while the stages after it work (measured faster
	// than running the next stage on the source's goroutine).
	s := newStream[T](n, 1, false)
	n.start = func() {
		p.goStage(n, func(r *runner) error {
			w := n.worker(r, 0)
			next := s.emitter(w)
			w.resume()
			if err := produce(n.ctx, w, next); err != nil {
				return err
			}
			w.pause()
			return next.end(p.ctx)
		})
	}
	return s
}

// FromSlice is a source that emits the items of xs in order. The slice is
// read in place, so it must not change until the pipeline has run.
func FromSlice[T any](p *Pipeline, name string, xs []T) *Stream[T] {
	return source(p, "slice", name, true, func(ctx context.Context, w *worker, next emitter[T]) error {
		b := w.n.p.opt.Batch
		for i := 0; i < len(xs); i += b {
			part := xs[i:min(i+b, len(xs))]
			addU(&w.st.out, len(part))
			w.pause()
			if err := next.put(ctx, part); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			w.resume()
		}
		return nil
	})
}

// FromSeq is a source that emits what seq yields, until it ends or the
// pipeline stops (the iteration is then broken off, at the next item it
// yields: a sequence that blocks holds up the end of the run).
func FromSeq[T any](p *Pipeline, name string, seq iter.Seq[T]) *Stream[T] {
	return source(p, "seq", name, seq != nil, func(ctx context.Context, w *worker, next emitter[T]) error {
		o := newOut(w, next)
		var err error
		for v := range seq {
			if err = o.add(ctx, v); err != nil {
				break
			}
		}
		if err != nil {
			return err
		}
		return o.flush(ctx, true)
	})
}

// FromChan is a source that emits what it receives from ch until ch is
// closed. Items that arrive together are handed on together; an item is
// never held back waiting for the next one.
func FromChan[T any](p *Pipeline, name string, ch <-chan T) *Stream[T] {
	return source(p, "chan", name, ch != nil, func(ctx context.Context, w *worker, next emitter[T]) error {
		o := newOut(w, next)
		for {
			var v T
			var ok bool
			select {
			case v, ok = <-ch:
			default:
				// Nothing ready: hand on what has gathered, then wait.
				if err := o.flush(ctx, false); err != nil {
					return err
				}
				t := w.n.p.clock()
				select {
				case v, ok = <-ch:
				case <-ctx.Done():
					return ctx.Err()
				}
				addI(&w.st.waitIn, w.n.p.clock()-t)
				w.resume()
			}
			if !ok {
				return o.flush(ctx, true)
			}
			if err := o.add(ctx, v); err != nil {
				return err
			}
		}
	})
}

// Generate is a source whose items are emitted by fn, which runs once on
// the source's goroutine. emit blocks while the next stage is full and
// fails once the pipeline has stopped; fn should then return emit's
// error. The stream ends when fn returns; an error from fn fails the
// pipeline. Items are handed on in batches: fn emitting one item and then
// blocking on something else holds that item back until fn emits a
// batch's worth or returns.
func Generate[T any](p *Pipeline, name string, fn func(ctx context.Context, emit func(T) error) error) *Stream[T] {
	return source(p, "generate", name, fn != nil, func(ctx context.Context, w *worker, next emitter[T]) error {
		o := newOut(w, next)
		var emitErr error
		emit := func(v T) error {
			// o.add, written out: this is the per-item path.
			o.buf = append(o.buf, v)
			if len(o.buf) < cap(o.buf) {
				return nil
			}
			if err := o.flush(ctx, true); err != nil {
				emitErr = err
				return err
			}
			return nil
		}
		if err := fn(ctx, emit); err != nil {
			if err == emitErr {
				return err // downstream's failure or the run's end, not fn's
			}
			return w.fail(err)
		}
		return o.flush(ctx, true)
	})
}

// FromRing is a source that emits what it pops from q until q is closed
// and drained. The pipeline must be q's only consumer (for an SPSC, its one
// consumer goroutine).
func FromRing[T any](p *Pipeline, name string, q Ring[T]) *Stream[T] {
	return source(p, "ring", name, q != nil, func(ctx context.Context, w *worker, next emitter[T]) error {
		buf := make([]T, w.n.p.opt.Batch)
		for {
			w.pause()
			t := w.n.p.clock()
			k, err := q.PopBatch(ctx, buf)
			addI(&w.st.waitIn, w.n.p.clock()-t)
			w.resume()
			if err == ring.ErrClosed {
				return nil
			}
			if err != nil {
				return err
			}
			addU(&w.st.out, k)
			w.pause()
			if err := next.put(ctx, buf[:k]); err != nil {
				return err
			}
			w.resume()
		}
	})
}
