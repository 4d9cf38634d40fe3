package pipeline

import "context"

// Processor is the operator of a stage with state of its own (see
// Process): one per worker, used only by that worker's goroutine, so its
// state needs no synchronisation.
type Processor[I, O any] interface {
	// Process handles one item, emitting any number of results. emit
	// blocks while the next stage is full and fails once the pipeline has
	// stopped; Process should then return emit's error.
	Process(ctx context.Context, v I, emit func(O) error) error
	// Flush is called once after the last item, to emit what the state
	// still holds. It is not called when the pipeline fails or stops.
	Flush(ctx context.Context, emit func(O) error) error
}

// Process is a stage with state: each of its n workers gets its own
// Processor from newProcessor(worker), which sees the items that worker
// receives. With n above 1 the items are spread over the workers in no
// particular way; to keep related items together, use one worker.
func Process[I, O any](in *Stream[I], name string, n int, newProcessor func(worker int) Processor[I, O]) *Stream[O] {
	return stage(in, name, n, spec[I, O]{
		kind: "process", ok: newProcessor != nil,
		op: func(w *worker, next emitter[O]) emitter[I] {
			s := &processOp[I, O]{w: w, o: newOut(w, next)}
			ctx := w.n.ctx
			s.emit = func(v O) error {
				s.o.buf = append(s.o.buf, v)
				if len(s.o.buf) < cap(s.o.buf) {
					return nil
				}
				if err := s.o.flush(ctx, true); err != nil {
					s.emitErr = err
					return err
				}
				return nil
			}
			s.pr = newProcessor(w.idx)
			return s
		},
	})
}

type processOp[I, O any] struct {
	w       *worker
	pr      Processor[I, O]
	o       out[O]
	emit    func(O) error
	emitErr error
}

func (s *processOp[I, O]) check(err error) error {
	if err == nil || err == s.emitErr {
		return err
	}
	return s.w.fail(err)
}

func (s *processOp[I, O]) put(_ context.Context, in []I) error {
	s.w.resume()
	ctx := s.w.n.ctx // with the stage label
	addU(&s.w.st.in, len(in))
	for _, v := range in {
		if err := s.check(s.pr.Process(ctx, v, s.emit)); err != nil {
			return err
		}
	}
	return s.o.flush(ctx, false)
}

func (s *processOp[I, O]) end(_ context.Context) error {
	s.w.resume()
	ctx := s.w.n.ctx
	if err := s.check(s.pr.Flush(ctx, s.emit)); err != nil {
		return err
	}
	return s.o.end(ctx)
}

// Fold is a stage that folds the items each of its n workers receives
// into an accumulator, starting from init(), and emits the accumulators
// when the input ends: one item with n = 1, n partial results otherwise
// (fold those with a second Fold of one worker, or with Reduce).
func Fold[T, A any](in *Stream[T], name string, n int, init func() A, fold func(ctx context.Context, acc A, v T) (A, error)) *Stream[A] {
	return stage(in, name, n, spec[T, A]{
		kind: "fold", ok: init != nil && fold != nil,
		op: func(w *worker, next emitter[A]) emitter[T] {
			return &foldOp[T, A]{w: w, fold: fold, acc: init(), o: newOut(w, next)}
		},
	})
}

type foldOp[T, A any] struct {
	w    *worker
	fold func(context.Context, A, T) (A, error)
	acc  A
	o    out[A]
}

func (f *foldOp[T, A]) put(_ context.Context, in []T) error {
	f.w.resume()
	ctx := f.w.n.ctx // with the stage label
	addU(&f.w.st.in, len(in))
	for _, v := range in {
		acc, err := f.fold(ctx, f.acc, v)
		if err != nil {
			return f.w.fail(err)
		}
		f.acc = acc
	}
	f.w.pause()
	return nil
}

func (f *foldOp[T, A]) end(_ context.Context) error {
	f.w.resume()
	ctx := f.w.n.ctx
	if err := f.o.add(ctx, f.acc); err != nil {
		return err
	}
	return f.o.end(ctx)
}
