package sched

import (
	"context"
)

// ParallelFor calls body over [lo, hi) split into chunks of at most grain
// indices, in parallel, and returns when every chunk is done. A grain of 0
// or less picks one that gives each worker about eight chunks. The range
// is split in halves recursively with Join, so idle workers steal the
// largest pieces left.
//
// From outside the scheduler pass the *Scheduler; ParallelFor blocks until
// done or until ctx ends (chunks already started run to completion;
// chunks not yet started are skipped once ctx is done). From inside a task
// pass its *Worker; ParallelFor runs other work while it waits. If body
// panics, ParallelFor returns the first *PanicError.
func ParallelFor(ctx context.Context, sp Spawner, lo, hi, grain int, body func(w *Worker, lo, hi int)) error {
	if hi <= lo {
		return nil
	}
	if grain <= 0 {
		workers := 1
		switch sp := sp.(type) {
		case *Scheduler:
			workers = sp.Workers()
		case *Worker:
			workers = sp.s.Workers()
		}
		grain = max(1, (hi-lo)/(workers*8))
	}
	l := &forLoop{ctx: ctx, body: body, grain: grain}
	if w, ok := sp.(*Worker); ok {
		return l.root(w, lo, hi)
	}
	f := Go(ctx, sp, func(w *Worker) (struct{}, error) { return struct{}{}, l.root(w, lo, hi) })
	_, err := f.Wait(ctx)
	return err
}

type forLoop struct {
	ctx   context.Context
	body  func(w *Worker, lo, hi int)
	grain int
}

func (l *forLoop) root(w *Worker, lo, hi int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = w.recovered(v)
		}
	}()
	l.split(w, lo, hi)
	return l.ctx.Err()
}

func (l *forLoop) split(w *Worker, lo, hi int) {
	if l.ctx.Err() != nil {
		return
	}
	if hi-lo <= l.grain {
		l.body(w, lo, hi)
		return
	}
	mid := lo + (hi-lo)/2
	Join(w, func(w *Worker) { l.split(w, lo, mid) }, func(w *Worker) { l.split(w, mid, hi) })
}

// Map returns fn applied to every element of in, computed in parallel
// (see ParallelFor for sp, ctx and panics). out[i] is fn(in[i]).
func Map[T, R any](ctx context.Context, sp Spawner, in []T, fn func(T) R) ([]R, error) {
	out := make([]R, len(in))
	err := ParallelFor(ctx, sp, 0, len(in), 0, func(_ *Worker, lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = fn(in[i])
		}
	})
	return out, err
}

// Reduce folds in in parallel: each worker folds the chunks it runs into
// its own accumulator (started from zero()), and the accumulators are then
// combined in worker order. Fast, but the grouping depends on scheduling:
// for floating-point sums use ReduceOrdered.
func Reduce[T, A any](ctx context.Context, sp Spawner, in []T, zero func() A, fold func(A, T) A, combine func(A, A) A) (A, error) {
	var s *Scheduler
	switch sp := sp.(type) {
	case *Scheduler:
		s = sp
	case *Worker:
		s = sp.s
	}
	acc := NewWorkerLocal(s, zero)
	err := ParallelFor(ctx, sp, 0, len(in), 0, func(w *Worker, lo, hi int) {
		a := acc.Get(w)
		for i := lo; i < hi; i++ {
			*a = fold(*a, in[i])
		}
	})
	res := zero()
	for _, a := range acc.All() {
		res = combine(res, *a)
	}
	return res, err
}

// ReduceOrdered folds in in parallel with a result that does not depend on
// scheduling: in is cut into fixed chunks of chunk elements (0 means 4096),
// each folded from zero() in index order, and the chunk results are
// combined in chunk order. Floating-point results are bit-identical from
// run to run and for any number of workers.
func ReduceOrdered[T, A any](ctx context.Context, sp Spawner, in []T, chunk int, zero func() A, fold func(A, T) A, combine func(A, A) A) (A, error) {
	if chunk <= 0 {
		chunk = 4096
	}
	chunks := make([]A, (len(in)+chunk-1)/chunk)
	err := ParallelFor(ctx, sp, 0, len(chunks), 1, func(_ *Worker, lo, hi int) {
		for c := lo; c < hi; c++ {
			a := zero()
			for _, v := range in[c*chunk : min((c+1)*chunk, len(in))] {
				a = fold(a, v)
			}
			chunks[c] = a
		}
	})
	res := zero()
	for _, a := range chunks {
		res = combine(res, a)
	}
	return res, err
}
