package pipeline

import "context"

// The per-batch forms of the stateless stages, run by batch groups: each
// takes a whole batch, runs the stage's function on every item into a
// buffer of its own (grown to the largest batch seen, then reused), and
// hands the result to the next stage of the group or to the batch's
// output.

type mapX[I, O any] struct {
	w    *worker
	fn   func(context.Context, I) (O, error)
	buf  []O
	next batchSink[O]
}

func (m *mapX[I, O]) take(_ context.Context, in []I) error {
	m.w.resume()
	ctx := m.w.n.ctx
	addU(&m.w.st.in, len(in))
	buf := m.buf[:0]
	for _, v := range in {
		r, err := m.fn(ctx, v)
		if err != nil {
			return m.w.fail(err)
		}
		buf = append(buf, r)
	}
	m.buf = buf
	return handOnX(ctx, m.w, m.next, buf)
}

// handOnX ends the stage's part of a batch and passes its output on.
func handOnX[T any](ctx context.Context, w *worker, next batchSink[T], items []T) error {
	addU(&w.st.out, len(items))
	w.lend()
	err := next.take(ctx, items)
	w.reclaim()
	clear(items)
	return err
}

type filterX[T any] struct {
	w    *worker
	keep func(context.Context, T) (bool, error)
	buf  []T
	next batchSink[T]
}

func (f *filterX[T]) take(_ context.Context, in []T) error {
	f.w.resume()
	ctx := f.w.n.ctx
	addU(&f.w.st.in, len(in))
	buf := f.buf[:0]
	for _, v := range in {
		ok, err := f.keep(ctx, v)
		if err != nil {
			return f.w.fail(err)
		}
		if ok {
			buf = append(buf, v)
		}
	}
	f.buf = buf
	return handOnX(ctx, f.w, f.next, buf)
}

type flatMapX[I, O any] struct {
	w    *worker
	fn   func(context.Context, I, func(O) error) error
	emit func(O) error // appends to buf; made once
	buf  []O
	next batchSink[O]
}

func (f *flatMapX[I, O]) take(_ context.Context, in []I) error {
	f.w.resume()
	ctx := f.w.n.ctx
	addU(&f.w.st.in, len(in))
	f.buf = f.buf[:0]
	for _, v := range in {
		if err := f.fn(ctx, v, f.emit); err != nil {
			return f.w.fail(err)
		}
	}
	return handOnX(ctx, f.w, f.next, f.buf)
}

type tapX[T any] struct {
	w    *worker
	fn   func(context.Context, T) error
	next batchSink[T]
}

// take hands on the batch it was given: nobody writes to it.
func (t *tapX[T]) take(_ context.Context, in []T) error {
	t.w.resume()
	ctx := t.w.n.ctx
	addU(&t.w.st.in, len(in))
	for _, v := range in {
		if err := t.fn(ctx, v); err != nil {
			return t.w.fail(err)
		}
	}
	addU(&t.w.st.out, len(in))
	t.w.lend()
	err := t.next.take(ctx, in)
	t.w.reclaim()
	return err
}

type unbatchX[T any] struct {
	w    *worker
	buf  []T
	next batchSink[T]
}

func (u *unbatchX[T]) take(_ context.Context, in [][]T) error {
	u.w.resume()
	ctx := u.w.n.ctx
	addU(&u.w.st.in, len(in))
	buf := u.buf[:0]
	for _, g := range in {
		buf = append(buf, g...)
	}
	u.buf = buf
	return handOnX(ctx, u.w, u.next, buf)
}
