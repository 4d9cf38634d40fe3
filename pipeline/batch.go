package pipeline

import (
	"context"
	"fmt"
	"time"
)

// Batch is a stage that groups items into slices of size items, on n
// workers (each grouping what it receives). A group is emitted when it is
// full, when maxWait has passed since its first item arrived (if maxWait
// is positive), and when the input ends (the last group may be short).
// Each group is a new slice, owned by whoever receives it.
func Batch[T any](in *Stream[T], name string, n, size int, maxWait time.Duration) *Stream[[]T] {
	s := stage(in, name, n, spec[T, []T]{
		kind: "batch", ok: true, timed: maxWait > 0,
		op: func(w *worker, next emitter[[]T]) emitter[T] {
			return &batchOp[T]{w: w, size: max(size, 1), wait: maxWait, o: newOut(w, next)}
		},
	})
	if size < 1 && s.p != nil {
		s.p.setErr(stageErr(s.from.name, fmt.Errorf("batch size %d: %w", size, ErrInvalid)))
	}
	if maxWait < 0 && s.p != nil {
		s.p.setErr(stageErr(s.from.name, fmt.Errorf("max wait %v: %w", maxWait, ErrInvalid)))
	}
	return s
}

type batchOp[T any] struct {
	w     *worker
	size  int
	wait  time.Duration
	group []T
	first time.Time // when the group's first item arrived (with wait)
	o     out[[]T]
}

func (b *batchOp[T]) put(ctx context.Context, in []T) error {
	b.w.resume()
	addU(&b.w.st.in, len(in))
	for len(in) > 0 {
		if b.group == nil {
			b.group = make([]T, 0, b.size)
			if b.wait > 0 {
				b.first = time.Now()
			}
		}
		k := min(b.size-len(b.group), len(in))
		b.group = append(b.group, in[:k]...)
		in = in[k:]
		if len(b.group) == b.size {
			if err := b.emit(ctx); err != nil {
				return err
			}
		}
	}
	return b.o.flush(ctx, false)
}

func (b *batchOp[T]) emit(ctx context.Context) error {
	g := b.group
	b.group = nil
	return b.o.add(ctx, g)
}

func (b *batchOp[T]) due() time.Time {
	if b.group == nil {
		return time.Time{}
	}
	return b.first.Add(b.wait)
}

// expire emits the partial group whose time is up.
func (b *batchOp[T]) expire(ctx context.Context) error {
	b.w.resume()
	if err := b.emit(ctx); err != nil {
		return err
	}
	return b.o.flush(ctx, false)
}

func (b *batchOp[T]) end(ctx context.Context) error {
	b.w.resume()
	if b.group != nil {
		if err := b.emit(ctx); err != nil {
			return err
		}
	}
	return b.o.end(ctx)
}

// Unbatch is a stage that emits the items of every slice it receives, in
// order, on n workers (unordered with n above 1): the inverse of Batch.
func Unbatch[T any](in *Stream[[]T], name string, n int) *Stream[T] {
	return stage(in, name, n, spec[[]T, T]{
		kind: "unbatch", ok: true,
		op: func(w *worker, next emitter[T]) emitter[[]T] {
			return &unbatchOp[T]{w: w, o: newOut(w, next)}
		},
		xop: func(w *worker, next batchSink[T]) batchSink[[]T] {
			return &unbatchX[T]{w: w, next: next}
		},
	})
}

type unbatchOp[T any] struct {
	w *worker
	o out[T]
}

func (u *unbatchOp[T]) put(ctx context.Context, in [][]T) error {
	u.w.resume()
	addU(&u.w.st.in, len(in))
	for _, g := range in {
		for _, v := range g {
			if err := u.o.add(ctx, v); err != nil {
				return err
			}
		}
	}
	return u.o.flush(ctx, false)
}

func (u *unbatchOp[T]) end(ctx context.Context) error { return u.o.end(ctx) }
