package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// spec describes a stage with one input and one output.
type spec[I, O any] struct {
	kind string
	ok   bool // the functions given are usable
	// op makes worker w's operator, which emits into next.
	op func(w *worker, next emitter[O]) emitter[I]
	// xop, if set, makes the stateless per-batch form of the stage: a
	// parallel stage then runs in a batch group (see group.go), ordered
	// if asked to be.
	xop     func(w *worker, next batchSink[O]) batchSink[I]
	ordered bool
	// timed stages wait for their input themselves (to act on a timer),
	// so they are never fused into the stage before them.
	timed bool
}

// stage adds a stage reading in, with concurrency n, and returns its
// output stream.
func stage[I, O any](in *Stream[I], name string, n int, sp spec[I, O]) *Stream[O] {
	if in == nil || in.p == nil {
		return &Stream[O]{}
	}
	p := in.p
	if !p.building() {
		return &Stream[O]{p: p} // the sink reports ErrReused
	}
	nd := p.addNode(sp.kind, name, n)
	if !sp.ok {
		p.setErr(stageErr(nd.name, fmt.Errorf("nil function: %w", ErrInvalid)))
	}
	if !in.consume(nd.name) {
		return newStream[O](nd, 1, false)
	}
	if sp.xop != nil && nd.workers > 1 {
		out := newStream[O](nd, 1, false)
		nd.plan = func() { planGroup(in, out, nd, sp) }
		return out
	}
	out := newStream[O](nd, nd.workers, true)
	fusable := !sp.timed && in.fusable && in.producers == nd.workers
	if nd.workers == 1 {
		if fusable && in.chain != nil {
			out.chain, out.pos = in.chain, in.pos+1
			out.chain.length++
		} else {
			out.chain = &chain{length: 1} // a new run starts here
		}
	}
	nd.plan = func() {
		if fusable && !p.opt.NoFusion && (nd.workers > 1 || out.chain.fuse(out.pos)) {
			nd.fused = true
			in.attach = func(up *worker) emitter[I] {
				w := nd.worker(up.r, up.idx)
				return sp.op(w, out.emitter(w))
			}
			return
		}
		e := in.makeEdge(nd.workers)
		nd.queue = e.stat
		nd.start = func() {
			for i := range nd.workers {
				p.goStage(nd, func(r *runner) error {
					w := nd.worker(r, i)
					return runHead(p.ctx, w, e, sp.op(w, out.emitter(w)))
				})
			}
		}
	}
	return out
}

// chain is a run of consecutive stages of concurrency 1 that could all
// run on one goroutine. Fused whole, the run would use one core however
// many there are; each on its own goroutine, it pays a hand-off per stage.
// So it is cut into about as many segments as the process has CPUs
// (GOMAXPROCS), each segment fused onto one goroutine: three stages on two
// CPUs run as two and one. (On 2 CPUs, measured: 10.8–13.1 ns per item for
// three maps cut in two, 12.6–13.5 fused whole, 12.8–14.1 apart.)
type chain struct{ length int }

// fuse reports whether the stage at pos (0 for the first) runs on the
// goroutine of the stage before it.
func (c *chain) fuse(pos int) bool {
	seg := (c.length + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	return pos%seg != 0
}

// timer is implemented by operators that act on a deadline as well as on
// input (a partial batch that has waited long enough).
type timer interface {
	due() time.Time // zero: no deadline pending
	expire(ctx context.Context) error
}

// runHead is the loop of a worker that reads its stage's input queue: pop
// a batch, run the operator (and any stages fused after it) on it, until
// the queue is closed and drained.
func runHead[T any](ctx context.Context, w *worker, e *edge[T], op emitter[T]) error {
	buf := make([]T, w.n.p.opt.Batch)
	tm, _ := op.(timer)
	for {
		var k int
		var err error
		if tm != nil && !tm.due().IsZero() {
			k, err = popBefore(ctx, w, e, buf, tm.due())
			if err == errDue {
				if err := tm.expire(ctx); err != nil {
					return err
				}
				continue
			}
		} else {
			k, err = e.pop(ctx, w, buf)
		}
		if err != nil {
			if err == errClosed {
				return op.end(ctx)
			}
			return err
		}
		if err := op.put(ctx, buf[:k]); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// popBefore is edge.pop that gives up at due, returning errDue.
func popBefore[T any](ctx context.Context, w *worker, e *edge[T], buf []T, due time.Time) (int, error) {
	if !time.Now().Before(due) {
		return 0, errDue
	}
	k, err := e.q.TryPopBatch(buf)
	if err != errEmpty {
		return k, err
	}
	dctx, cancel := context.WithDeadline(ctx, due)
	t := w.n.p.clock()
	k, err = e.q.PopBatch(dctx, buf)
	addI(&w.st.waitIn, w.n.p.clock()-t)
	cancel()
	if err == context.DeadlineExceeded && ctx.Err() == nil {
		return 0, errDue
	}
	return k, err
}

// Map is a stage that emits fn(v) for every item v, on n workers. With n
// above 1 the results come in the order the workers finish them; use
// OrderedMap to keep the input order. An error from fn fails the pipeline.
func Map[I, O any](in *Stream[I], name string, n int, fn func(ctx context.Context, v I) (O, error)) *Stream[O] {
	return stage(in, name, n, mapSpec(fn, false))
}

// OrderedMap is Map that emits its results in input order, however many
// workers compute them: the workers take whole batches, and a finished
// batch waits until those before it have been emitted (see
// Options.Window for how many may wait).
func OrderedMap[I, O any](in *Stream[I], name string, n int, fn func(ctx context.Context, v I) (O, error)) *Stream[O] {
	return stage(in, name, n, mapSpec(fn, true))
}

func mapSpec[I, O any](fn func(context.Context, I) (O, error), ordered bool) spec[I, O] {
	return spec[I, O]{
		kind: "map", ok: fn != nil, ordered: ordered,
		op: func(w *worker, next emitter[O]) emitter[I] {
			return &mapOp[I, O]{w: w, fn: fn, o: newOut(w, next)}
		},
		xop: func(w *worker, next batchSink[O]) batchSink[I] {
			return &mapX[I, O]{w: w, fn: fn, next: next}
		},
	}
}

type mapOp[I, O any] struct {
	w  *worker
	fn func(context.Context, I) (O, error)
	o  out[O]
}

func (m *mapOp[I, O]) put(_ context.Context, in []I) error {
	m.w.resume()
	ctx := m.w.n.ctx // with the stage label
	addU(&m.w.st.in, len(in))
	// One result per item: fill the output buffer by index, a buffer's
	// worth of input at a time (a batch is usually no larger).
	fn, c := m.fn, cap(m.o.buf)
	if len(in) == 0 {
		m.w.pause()
		return nil
	}
	for len(in) > 0 {
		part := in[:min(len(in), c)]
		in = in[len(part):]
		buf := m.o.buf[:len(part)]
		for i, v := range part {
			r, err := fn(ctx, v)
			if err != nil {
				return m.w.fail(err)
			}
			buf[i] = r
		}
		m.o.buf = buf
		if err := m.o.flush(ctx, len(in) > 0); err != nil {
			return err
		}
	}
	return nil
}

func (m *mapOp[I, O]) end(ctx context.Context) error { return m.o.end(ctx) }

// Filter is a stage that emits the items for which keep returns true, on
// n workers (unordered with n above 1; see OrderedFilter).
func Filter[T any](in *Stream[T], name string, n int, keep func(ctx context.Context, v T) (bool, error)) *Stream[T] {
	return stage(in, name, n, filterSpec(keep, false))
}

// OrderedFilter is Filter that keeps the input order with n above 1.
func OrderedFilter[T any](in *Stream[T], name string, n int, keep func(ctx context.Context, v T) (bool, error)) *Stream[T] {
	return stage(in, name, n, filterSpec(keep, true))
}

func filterSpec[T any](keep func(context.Context, T) (bool, error), ordered bool) spec[T, T] {
	return spec[T, T]{
		kind: "filter", ok: keep != nil, ordered: ordered,
		op: func(w *worker, next emitter[T]) emitter[T] {
			return &filterOp[T]{w: w, keep: keep, o: newOut(w, next)}
		},
		xop: func(w *worker, next batchSink[T]) batchSink[T] {
			return &filterX[T]{w: w, keep: keep, next: next}
		},
	}
}

type filterOp[T any] struct {
	w    *worker
	keep func(context.Context, T) (bool, error)
	o    out[T]
}

func (f *filterOp[T]) put(_ context.Context, in []T) error {
	f.w.resume()
	ctx := f.w.n.ctx // with the stage label
	addU(&f.w.st.in, len(in))
	keep, buf := f.keep, f.o.buf[:cap(f.o.buf)]
	j := len(f.o.buf)
	for _, v := range in {
		ok, err := keep(ctx, v)
		if err != nil {
			return f.w.fail(err)
		}
		if ok {
			buf[j] = v
			if j++; j == len(buf) {
				f.o.buf = buf
				if err := f.o.flush(ctx, true); err != nil {
					return err
				}
				j = 0
			}
		}
	}
	f.o.buf = buf[:j]
	return f.o.flush(ctx, false)
}

func (f *filterOp[T]) end(ctx context.Context) error { return f.o.end(ctx) }

// FlatMap is a stage that calls fn for every item, which emits any
// number of results (none, one, many) through emit, on n workers
// (unordered with n above 1; see OrderedFlatMap). emit blocks while the
// next stage is full and fails once the pipeline has stopped; fn should
// then return emit's error.
func FlatMap[I, O any](in *Stream[I], name string, n int, fn func(ctx context.Context, v I, emit func(O) error) error) *Stream[O] {
	return stage(in, name, n, flatMapSpec(fn, false))
}

// OrderedFlatMap is FlatMap that keeps the input order with n above 1.
// The results of one batch of input are held until the batch is emitted,
// so fn should emit a bounded number of results per item.
func OrderedFlatMap[I, O any](in *Stream[I], name string, n int, fn func(ctx context.Context, v I, emit func(O) error) error) *Stream[O] {
	return stage(in, name, n, flatMapSpec(fn, true))
}

func flatMapSpec[I, O any](fn func(context.Context, I, func(O) error) error, ordered bool) spec[I, O] {
	return spec[I, O]{
		kind: "flatmap", ok: fn != nil, ordered: ordered,
		op: func(w *worker, next emitter[O]) emitter[I] {
			f := &flatMapOp[I, O]{w: w, fn: fn, o: newOut(w, next)}
			ctx := w.n.ctx
			f.emit = func(v O) error {
				f.o.buf = append(f.o.buf, v)
				if len(f.o.buf) < cap(f.o.buf) {
					return nil
				}
				if err := f.o.flush(ctx, true); err != nil {
					f.emitErr = err
					return err
				}
				return nil
			}
			return f
		},
		xop: func(w *worker, next batchSink[O]) batchSink[I] {
			f := &flatMapX[I, O]{w: w, fn: fn, next: next}
			f.emit = func(v O) error {
				f.buf = append(f.buf, v)
				return nil
			}
			return f
		},
	}
}

type flatMapOp[I, O any] struct {
	w       *worker
	fn      func(context.Context, I, func(O) error) error
	o       out[O]
	emit    func(O) error
	emitErr error // the last error emit returned: downstream's, not fn's
}

func (f *flatMapOp[I, O]) put(_ context.Context, in []I) error {
	f.w.resume()
	ctx := f.w.n.ctx // with the stage label
	addU(&f.w.st.in, len(in))
	for _, v := range in {
		if err := f.fn(ctx, v, f.emit); err != nil {
			if err == f.emitErr {
				return err
			}
			return f.w.fail(err)
		}
	}
	return f.o.flush(ctx, false)
}

func (f *flatMapOp[I, O]) end(ctx context.Context) error { return f.o.end(ctx) }

// Tap is a stage that calls fn on every item and passes the items on
// unchanged, on n workers (unordered with n above 1): to observe a stream
// (count, log, sample) without changing it.
func Tap[T any](in *Stream[T], name string, n int, fn func(ctx context.Context, v T) error) *Stream[T] {
	return stage(in, name, n, spec[T, T]{
		kind: "tap", ok: fn != nil,
		op: func(w *worker, next emitter[T]) emitter[T] {
			return &tapOp[T]{w: w, fn: fn, next: next}
		},
		xop: func(w *worker, next batchSink[T]) batchSink[T] {
			return &tapX[T]{w: w, fn: fn, next: next}
		},
	})
}

type tapOp[T any] struct {
	w    *worker
	fn   func(context.Context, T) error
	next emitter[T]
}

// put hands the batch it was given straight on: a borrowed slice may be
// lent further, since nobody writes to it.
func (t *tapOp[T]) put(_ context.Context, in []T) error {
	t.w.resume()
	ctx := t.w.n.ctx // with the stage label
	addU(&t.w.st.in, len(in))
	for _, v := range in {
		if err := t.fn(ctx, v); err != nil {
			return t.w.fail(err)
		}
	}
	addU(&t.w.st.out, len(in))
	t.w.lend()
	err := t.next.put(ctx, in)
	t.w.reclaim()
	return err
}

func (t *tapOp[T]) end(ctx context.Context) error { return t.next.end(ctx) }
