package pipeline

import (
	"context"
	"fmt"
)

// Merge is fan-in: a stream of the items of all ins, interleaved as they
// arrive (each input's own order is kept). The inputs' producers push
// into one shared queue, so a merge costs no goroutine and no extra
// hand-off. All inputs must belong to the same pipeline.
func Merge[T any](name string, ins ...*Stream[T]) *Stream[T] {
	var p *Pipeline
	for _, in := range ins {
		if in != nil && in.p != nil {
			p = in.p
			break
		}
	}
	if p == nil {
		return &Stream[T]{}
	}
	if !p.building() {
		return &Stream[T]{p: p} // the sink reports ErrReused
	}
	n := p.addNode("merge", name, 1)
	producers := 0
	ok := true
	for i, in := range ins {
		switch {
		case in == nil || in.p == nil:
			p.setErr(stageErr(n.name, fmt.Errorf("input %d is not a stream: %w", i, ErrInvalid)))
			ok = false
		case in.p != p:
			p.setErr(stageErr(n.name, fmt.Errorf("input %d: %w", i, ErrForeign)))
			ok = false
		default:
			ok = in.consume(n.name) && ok
			producers += in.producers
		}
	}
	out := newStream[T](n, producers, false)
	if !ok {
		return out
	}
	n.plan = func() {
		// The inputs' producers emit where the merged stream's own
		// producers would: its queue, or a Tee after it.
		for _, in := range ins {
			in.attach = out.emitter
		}
	}
	n.queue = func() (int, int) {
		if out.e == nil {
			return 0, 0
		}
		return out.e.stat()
	}
	return out
}

// Tee is fan-out by copying: it returns k streams that each carry every
// item of in, in order. It runs on the goroutines of the stage before it,
// handing each batch to every output in turn, so the slowest consumer sets
// the pace (and memory stays bounded). Items are copied shallowly: outputs
// see the same pointers, maps and slices.
func Tee[T any](in *Stream[T], name string, k int) []*Stream[T] {
	if in == nil || in.p == nil {
		return nil
	}
	p := in.p
	if !p.building() {
		return nil
	}
	n := p.addNode("tee", name, 1)
	if k < 1 {
		p.setErr(stageErr(n.name, fmt.Errorf("%d outputs: %w", k, ErrInvalid)))
	}
	outs := make([]*Stream[T], max(k, 0))
	for i := range outs {
		outs[i] = newStream[T](n, in.producers, in.fusable)
	}
	if !in.consume(n.name) {
		return outs
	}
	n.fused = true
	n.plan = func() {
		in.attach = func(up *worker) emitter[T] {
			// Every producer of in shares the tee's one lane (counted
			// with atomic adds), keeping its own worker index for the
			// stages fused after the tee.
			w := &worker{n: n, r: up.r, idx: up.idx, st: &n.lanes[0]}
			t := &teeOp[T]{w: w}
			for _, o := range outs {
				t.outs = append(t.outs, o.emitter(w))
			}
			return t
		}
	}
	return outs
}

type teeOp[T any] struct {
	w    *worker
	outs []emitter[T]
}

func (t *teeOp[T]) put(ctx context.Context, items []T) error {
	// A stage fused after an output must read the clock itself: the
	// instant lent by the stage before the tee is stale once an output
	// ahead of it has run (or waited).
	t.w.reclaim()
	t.w.st.in.Add(uint64(len(items)))
	for _, o := range t.outs {
		if err := o.put(ctx, items); err != nil {
			return err
		}
	}
	t.w.st.out.Add(uint64(len(items)))
	return nil
}

func (t *teeOp[T]) end(ctx context.Context) error {
	for _, o := range t.outs {
		if err := o.end(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Partition is fan-out by key: it returns k streams, and sends each item
// of in to stream key(v) mod k, keeping the input's order within each
// stream (with one producer upstream). Use it to spread work over
// stages that each keep state for their own keys (a Process of one worker
// per partition, say), then Merge the results. Like Tee, it runs on the
// goroutines of the stage before it.
func Partition[T any](in *Stream[T], name string, k int, key func(T) int) []*Stream[T] {
	if in == nil || in.p == nil {
		return nil
	}
	p := in.p
	if !p.building() {
		return nil
	}
	n := p.addNode("partition", name, 1)
	switch {
	case k < 1:
		p.setErr(stageErr(n.name, fmt.Errorf("%d outputs: %w", k, ErrInvalid)))
	case key == nil:
		p.setErr(stageErr(n.name, fmt.Errorf("nil key function: %w", ErrInvalid)))
	}
	outs := make([]*Stream[T], max(k, 0))
	for i := range outs {
		outs[i] = newStream[T](n, in.producers, in.fusable)
	}
	if !in.consume(n.name) {
		return outs
	}
	n.fused = true
	n.plan = func() {
		in.attach = func(up *worker) emitter[T] {
			// As with Tee, the producers share the one lane.
			w := &worker{n: n, r: up.r, idx: up.idx, st: &n.lanes[0]}
			t := &partitionOp[T]{w: w, key: key, bufs: make([][]T, len(outs))}
			for i, o := range outs {
				t.outs = append(t.outs, o.emitter(w))
				t.bufs[i] = make([]T, 0, p.opt.Batch)
			}
			return t
		}
	}
	return outs
}

type partitionOp[T any] struct {
	w    *worker
	key  func(T) int
	outs []emitter[T]
	bufs [][]T
}

func (t *partitionOp[T]) put(ctx context.Context, items []T) error {
	t.w.reclaim() // as in teeOp.put
	t.w.st.in.Add(uint64(len(items)))
	k := len(t.outs)
	for _, v := range items {
		i := t.key(v) % k
		if i < 0 {
			i += k
		}
		t.bufs[i] = append(t.bufs[i], v)
		if len(t.bufs[i]) == cap(t.bufs[i]) {
			if err := t.flush(ctx, i); err != nil {
				return err
			}
		}
	}
	for i := range t.bufs {
		if err := t.flush(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

func (t *partitionOp[T]) flush(ctx context.Context, i int) error {
	b := t.bufs[i]
	if len(b) == 0 {
		return nil
	}
	t.w.st.out.Add(uint64(len(b)))
	err := t.outs[i].put(ctx, b)
	clear(b)
	t.bufs[i] = b[:0]
	return err
}

func (t *partitionOp[T]) end(ctx context.Context) error {
	for _, o := range t.outs {
		if err := o.end(ctx); err != nil {
			return err
		}
	}
	return nil
}
