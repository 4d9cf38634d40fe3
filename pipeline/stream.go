package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/weftlabs/weft/ring"
)

// Stream is the typed output of a source or stage: the input of exactly
// one further stage or sink. Streams are created by sources and stages,
// never directly; a nil or zero Stream is invalid (sinks report
// ErrInvalid).
type Stream[T any] struct {
	p    *Pipeline
	from *node  // the producing stage
	to   string // the consuming stage or sink; "" while unconsumed

	// producers is the number of goroutines that emit into the stream
	// (each ends it once); fusable says they are per-worker goroutines a
	// stage of equal concurrency may run on.
	producers int
	fusable   bool
	// chain is the run of stages of concurrency 1 that could share the
	// producers' goroutine, and pos the producer's place in it (see
	// chainOf).
	chain *chain
	pos   int

	// Planned when the run starts, before any stage goroutine: either
	// attach is set (the consumer runs on the producers' goroutines, or
	// forwards elsewhere) or e is the queue the producers push into.
	attach func(up *worker) emitter[T]
	e      *edge[T]

	// group is the batch group producing the stream, if any, and
	// attachBatch is set when the consumer is fused into that group.
	group       *group
	attachBatch func(b *xbatch) batchSink[T]
}

func (s *Stream[T]) producer() *node { return s.from }
func (s *Stream[T]) consumed() bool  { return s.to != "" }

// newStream registers the output stream of node n.
func newStream[T any](n *node, producers int, fusable bool) *Stream[T] {
	s := &Stream[T]{p: n.p, from: n, producers: producers, fusable: fusable}
	n.p.streams = append(n.p.streams, s)
	return s
}

// consume marks s as the input of the named stage. It reports false (and
// records why) when s cannot be consumed.
func (s *Stream[T]) consume(name string) bool {
	if s == nil || s.p == nil {
		return false
	}
	if s.to != "" {
		s.p.setErr(stageErr(name, fmt.Errorf("input from %s, consumed by %s: %w", s.from.name, s.to, ErrConsumed)))
		return false
	}
	s.to = name
	return true
}

// emitter returns what a producing worker hands its batches to.
func (s *Stream[T]) emitter(up *worker) emitter[T] {
	if s.attach != nil {
		return s.attach(up)
	}
	return &pusher[T]{e: s.e, w: up}
}

// makeEdge creates the queue between s's producers and its consumers:
// SPSC when one goroutine feeds one, MPMC otherwise.
func (s *Stream[T]) makeEdge(consumers int) *edge[T] {
	c := s.p.opt.Capacity
	e := &edge[T]{}
	if s.producers == 1 && consumers == 1 {
		q, _ := ring.NewSPSC[T](c)
		e.q = q
	} else {
		q, _ := ring.NewMPMC[T](c)
		e.q = q
	}
	e.open.Store(int32(s.producers))
	s.e = e
	return e
}

// queue is the part of ring.SPSC and ring.MPMC a hand-off uses.
type queue[T any] interface {
	TryPushBatch(vs []T) (int, error)
	PushBatch(ctx context.Context, vs []T) (int, error)
	TryPopBatch(dst []T) (int, error)
	PopBatch(ctx context.Context, dst []T) (int, error)
	Close()
	Len() int
	Cap() int
}

// edge is a hand-off queue and the count of producers that have not ended
// yet; the last one to end closes the queue, which ends the consumers
// once they have drained it.
type edge[T any] struct {
	q    queue[T]
	open atomic.Int32
}

func (e *edge[T]) stat() (int, int) { return e.q.Len(), e.q.Cap() }

// pop fills dst with at least one item, recording as w's input wait any
// time spent blocked. It returns ring.ErrClosed once the queue is closed
// and drained.
func (e *edge[T]) pop(ctx context.Context, w *worker, dst []T) (int, error) {
	k, err := e.q.TryPopBatch(dst)
	if err != ring.ErrEmpty {
		return k, err
	}
	t := w.n.p.clock()
	k, err = e.q.PopBatch(ctx, dst)
	addI(&w.st.waitIn, w.n.p.clock()-t)
	return k, err
}

// emitter is where a worker hands its output: a queue, or the stage fused
// after it. put borrows items for the call (the caller reuses the slice
// afterwards, and the callee never writes to it); end says that this
// worker emits nothing more.
type emitter[T any] interface {
	put(ctx context.Context, items []T) error
	end(ctx context.Context) error
}

// pusher emits into a queue, recording time blocked on a full queue as
// its worker's output wait (backpressure).
type pusher[T any] struct {
	e *edge[T]
	w *worker
}

func (p *pusher[T]) put(ctx context.Context, items []T) error {
	k, err := p.e.q.TryPushBatch(items)
	if k == len(items) || err == ring.ErrClosed {
		return err
	}
	t := p.w.n.p.clock()
	_, err = p.e.q.PushBatch(ctx, items[k:])
	p.w.st.waitOut.Add(p.w.n.p.clock() - t) // a Tee's producers share a lane
	return err
}

func (p *pusher[T]) end(context.Context) error {
	if p.e.open.Add(-1) == 0 {
		p.e.q.Close()
	}
	return nil
}

// out buffers a worker's output and hands it on a batch at a time,
// counting it and pausing the worker's busy time while downstream runs.
type out[T any] struct {
	buf  []T
	next emitter[T]
	w    *worker
}

func newOut[T any](w *worker, next emitter[T]) out[T] {
	return out[T]{buf: make([]T, 0, w.n.p.opt.Batch), next: next, w: w}
}

// add appends v, handing the buffer on when it is full.
func (o *out[T]) add(ctx context.Context, v T) error {
	o.buf = append(o.buf, v)
	if len(o.buf) < cap(o.buf) {
		return nil
	}
	return o.flush(ctx, true)
}

// flush hands on what is buffered. With more, the worker's busy time
// resumes afterwards (the caller goes on working); otherwise the caller
// is done with its batch.
func (o *out[T]) flush(ctx context.Context, more bool) error {
	if len(o.buf) == 0 && more {
		return nil
	}
	err := ctx.Err() // a stopped run stops its producers, even with room ahead
	if len(o.buf) > 0 && err == nil {
		addU(&o.w.st.out, len(o.buf))
		o.w.lend()
		err = o.next.put(ctx, o.buf)
		o.w.reclaim()
		clear(o.buf)
		o.buf = o.buf[:0]
	} else {
		o.w.pause()
	}
	if more {
		o.w.resume()
	}
	return err
}

// end flushes and ends the downstream.
func (o *out[T]) end(ctx context.Context) error {
	if err := o.flush(ctx, false); err != nil {
		return err
	}
	return o.next.end(ctx)
}

var (
	errClosed = ring.ErrClosed
	errEmpty  = ring.ErrEmpty
	// errDue says that a timed wait ended at the operator's deadline.
	errDue = errors.New("pipeline: deadline due")
)
