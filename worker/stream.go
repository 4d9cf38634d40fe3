package worker

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync/atomic"

	"github.com/weftlabs/weft/ring"
)

// StreamEndpoint is a message type registered with HandleStream: its
// handler produces a sequence of items that the caller receives in chunks.
type StreamEndpoint[In, T any] struct {
	b    *Broker
	name string
	h    func(context.Context, In, func(T) error) error
}

// HandleStream registers h as the stream handler of msgType on b. For each
// stream, h runs on the broker's worker and passes every item to emit.
// emit returns an error once the caller has stopped (it broke out of its
// loop, its context ended, the timeout passed, the broker is shutting
// down): h should then return. h's context ends at the same time.
//
// emit waits while the caller is behind: at most three chunks are in
// flight (one being filled, the others queued or in the caller's hands),
// so a slow caller slows the handler and memory stays bounded. While it
// waits, the worker runs nothing else.
func HandleStream[In, T any](b *Broker, msgType string, h func(ctx context.Context, in In, emit func(T) error) error) (*StreamEndpoint[In, T], error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil stream handler for %q", ErrInvalidOptions, msgType)
	}
	e := &StreamEndpoint[In, T]{b: b, name: msgType, h: h}
	if err := b.register(msgType, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Type returns the endpoint's message type.
func (e *StreamEndpoint[In, T]) Type() string { return e.name }

func (e *StreamEndpoint[In, T]) signature() string {
	return fmt.Sprintf("stream %v -> %v", reflect.TypeFor[In](), reflect.TypeFor[T]())
}

// strmBuffers is how many chunk buffers a stream uses: one the handler
// fills, and two queued or held by the caller.
const strmBuffers = 3

// Stream starts the handler on in and returns the items it emits in chunks
// of chunk items (the last may be shorter): the guide's stream. Each range
// over the result runs the handler once. A chunk is valid until the loop
// body returns (its buffer is then reused): copy what must outlive it.
// Breaking out of the loop cancels the handler.
//
// The loop ends after the last chunk, or with one error: the handler's,
// ErrTimeout (wrapped) when the handler takes longer than the broker's
// default timeout to produce a chunk, ctx's error, ErrClosed,
// ErrInvalidOptions for a chunk size below 1.
func (e *StreamEndpoint[In, T]) Stream(ctx context.Context, in In, chunk int) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		if chunk < 1 {
			yield(nil, e.fail(fmt.Errorf("%w: chunk size %d", ErrInvalidOptions, chunk)))
			return
		}
		if ctx == nil {
			yield(nil, e.fail(errNilContext))
			return
		}
		st, err := e.start(ctx, in, chunk)
		if err != nil {
			yield(nil, e.fail(err))
			return
		}
		defer st.stop(context.Canceled)
		for {
			buf, err := st.next()
			if err != nil {
				if err != errStrmEnd {
					yield(nil, e.fail(err))
				}
				return
			}
			if !yield(buf, nil) {
				return
			}
			// Never full: there are only strmBuffers buffers.
			_ = st.free.TryPush(buf[:0])
		}
	}
}

// Stream starts the stream handler registered for msgType on b, as
// StreamEndpoint.Stream does. It fails with ErrUnknownType when no handler
// is registered for msgType, and with ErrTypeMismatch when the handler's
// types are not In and T.
func Stream[In, T any](ctx context.Context, b *Broker, msgType string, in In, chunk int) iter.Seq2[[]T, error] {
	e, err := brkLookup[*StreamEndpoint[In, T]](b, msgType, "stream", reflect.TypeFor[In](), reflect.TypeFor[T]())
	if err != nil {
		return func(yield func([]T, error) bool) { yield(nil, err) }
	}
	return e.Stream(ctx, in, chunk)
}

func (e *StreamEndpoint[In, T]) fail(err error) error {
	return fmt.Errorf("worker: stream %q: %w", e.name, err)
}

// errStrmEnd is next's report of a clean end.
var errStrmEnd = errors.New("end of stream")

// strmCall is one stream: the handler's side runs on the worker (brkRun,
// emit), the caller's side in the iterator (next, stop). Chunks pass
// through two SPSC rings: full from the worker to the caller, free back.
type strmCall[In, T any] struct {
	ep    *StreamEndpoint[In, T]
	in    In
	chunk int
	// ctx is the handler's; it ends when the caller stops, with the cause.
	ctx       context.Context
	cancel    context.CancelCauseFunc
	stopClose func() bool // undoes the link to the broker's shutdown
	full      *ring.SPSC[[]T]
	free      *ring.SPSC[[]T]
	// result is the handler's outcome, stored by the worker before it
	// closes full; the caller reads it after full reports ErrClosed.
	result atomic.Pointer[error]

	// Worker only.
	buf  []T
	made int
}

func (e *StreamEndpoint[In, T]) start(ctx context.Context, in In, chunk int) (*strmCall[In, T], error) {
	b := e.b
	full, err := ring.NewSPSC[[]T](strmBuffers + 1)
	if err != nil {
		return nil, err
	}
	free, err := ring.NewSPSC[[]T](strmBuffers + 1)
	if err != nil {
		return nil, err
	}
	st := &strmCall[In, T]{ep: e, in: in, chunk: chunk, full: full, free: free}
	st.ctx, st.cancel = context.WithCancelCause(ctx)
	st.stopClose = context.AfterFunc(b.base, func() { st.cancel(ErrClosed) })
	s, pos, err := b.mbox.claim(ctx, b.waitLimit())
	if err != nil {
		if err != ErrClosed {
			b.timeouts.Add(1)
		}
		st.stop(err)
		return nil, err
	}
	s.gen, s.job, s.ctx = 0, st, st.ctx
	b.mbox.publish(s, pos)
	return st, nil
}

// next returns the next chunk, errStrmEnd after the last, or why the
// stream ended early. Caller only.
func (st *strmCall[In, T]) next() ([]T, error) {
	if buf, err := st.full.TryPop(); err == nil {
		return buf, nil
	}
	wctx := st.ctx
	if limit := st.ep.b.waitLimit(); limit > 0 {
		// Only when the handler is behind: a context per wait.
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeoutCause(st.ctx, limit, ErrTimeout)
		defer cancel()
	}
	buf, err := st.full.Pop(wctx)
	switch {
	case err == nil:
		return buf, nil
	case errors.Is(err, ring.ErrClosed):
		if p := st.result.Load(); p != nil && *p != nil {
			return nil, *p
		}
		return nil, errStrmEnd
	}
	cause := context.Cause(wctx)
	if cause == ErrTimeout {
		st.ep.b.timeouts.Add(1)
		st.stop(ErrTimeout)
	}
	return nil, cause
}

// stop ends the caller's side: the handler's context ends with why, and
// emit fails from now on. Idempotent.
func (st *strmCall[In, T]) stop(why error) {
	st.cancel(why)
	st.stopClose()
	st.free.Close()
}

// brkRun runs the stream's handler on the worker.
func (st *strmCall[In, T]) brkRun(b *Broker, _ *mboxSlot) {
	var err error
	if b.aborting.Load() {
		b.notRun.Add(1)
		err = fmt.Errorf("worker: %q not run: %w", st.ep.name, ErrClosed)
	} else {
		err = st.ep.h(st.ctx, st.in, st.emit)
		if err == nil && len(st.buf) > 0 {
			err = st.flush()
		}
		if err != nil && st.ctx.Err() != nil {
			// The caller stopped first: it is not listening for errors.
			err = nil
		}
		if err != nil {
			b.failed.Add(1)
		}
	}
	st.finish(err)
}

func (st *strmCall[In, T]) brkPanic(_ *Broker, _ *mboxSlot, err error) { st.finish(err) }

// finish ends the worker's side with the handler's outcome.
func (st *strmCall[In, T]) finish(err error) {
	st.result.Store(&err)
	st.full.Close() // after result: the caller reads it on ErrClosed
	st.buf, st.in = nil, *new(In)
}

// emit is the handler's emit: append to the current buffer, pass it on
// when full.
func (st *strmCall[In, T]) emit(v T) error {
	if err := st.ctx.Err(); err != nil {
		return context.Cause(st.ctx)
	}
	if st.buf == nil {
		if err := st.take(); err != nil {
			return err
		}
	}
	st.buf = append(st.buf, v)
	if len(st.buf) == st.chunk {
		return st.flush()
	}
	return nil
}

// take gets an empty buffer: a new one while fewer than strmBuffers
// exist, else one the caller has finished with — the backpressure.
func (st *strmCall[In, T]) take() error {
	if st.made < strmBuffers {
		st.made++
		st.buf = make([]T, 0, st.chunk)
		return nil
	}
	buf, err := st.free.Pop(st.ctx)
	if err != nil {
		if c := context.Cause(st.ctx); c != nil {
			return c
		}
		return err // free closed: the caller stopped
	}
	st.buf = buf
	return nil
}

// flush passes the current buffer to the caller. It never waits: full has
// room for every buffer.
func (st *strmCall[In, T]) flush() error {
	err := st.full.TryPush(st.buf)
	st.buf = nil
	if err != nil {
		return context.Cause(st.ctx)
	}
	return nil
}
