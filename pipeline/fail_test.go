package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

var errBoom = errors.New("boom")

// positions are the stages of chain that run a function of the test's,
// in data-flow order, and the sink.
var positions = []string{"src", "map", "filter", "omap", "flat", "tap", "proc", "fold", "sink"}

// hookProcessor is a Processor that passes items on, calling hook.
type hookProcessor struct{ hook func(string, int) error }

func (h hookProcessor) Process(_ context.Context, v int, emit func(int) error) error {
	if err := h.hook("proc", v); err != nil {
		return err
	}
	return emit(v)
}

func (h hookProcessor) Flush(context.Context, func(int) error) error { return nil }

// runChain builds a pipeline through stages of every kind, each calling hook
// with its name and the item, and runs it with ForEach. Items are
// 0..n-1; hook's error fails the stage.
func runChain(t *testing.T, c config, ctx context.Context, n int, hook func(stage string, v int) error) error {
	p := newPipeline(t, c)
	src := Generate(p, "src", func(ctx context.Context, emit func(int) error) error {
		for i := range n {
			if err := hook("src", i); err != nil {
				return err
			}
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	})
	m := Map(src, "map", 1, func(_ context.Context, v int) (int, error) { return v, hook("map", v) })
	f := Filter(m, "filter", 2, func(_ context.Context, v int) (bool, error) { return true, hook("filter", v) })
	o := OrderedMap(f, "omap", 2, func(_ context.Context, v int) (int, error) { return v, hook("omap", v) })
	fl := FlatMap(o, "flat", 1, func(_ context.Context, v int, emit func(int) error) error {
		if err := hook("flat", v); err != nil {
			return err
		}
		return emit(v)
	})
	b := Batch(fl, "batch", 1, 7, 0)
	u := Unbatch(b, "unbatch", 2)
	tp := Tap(u, "tap", 2, func(_ context.Context, v int) error { return hook("tap", v) })
	pr := Process(tp, "proc", 1, func(int) Processor[int, int] { return hookProcessor{hook} })
	// fold passes items through as a running count, so the sink still
	// sees a stream.
	fo := Tee(pr, "tee", 2)
	sum := Fold(fo[1], "fold", 1, func() int { return 0 }, func(_ context.Context, acc, v int) (int, error) {
		return acc + 1, hook("fold", v)
	})
	all := Merge("merge", fo[0], Map(sum, "neg", 1, func(_ context.Context, v int) (int, error) { return -v - 1, nil }))
	return ForEach(ctx, all, func(v int) error {
		if v < 0 {
			return nil
		}
		return hook("sink", v)
	})
}

// TestFailEveryPosition fails, in turn, each stage of a long pipeline in
// the middle of its input, and checks that the run stops with that
// stage's error, named.
func TestFailEveryPosition(t *testing.T) {
	const n, at = 5000, 2500
	for _, c := range configs {
		for _, pos := range positions {
			t.Run(c.name+"/"+pos, func(t *testing.T) {
				err := runChain(t, c, context.Background(), n, func(stage string, v int) error {
					if stage == pos && v == at {
						return fmt.Errorf("item %d: %w", v, errBoom)
					}
					return nil
				})
				if !errors.Is(err, errBoom) {
					t.Fatalf("err = %v, want %v", err, errBoom)
				}
				if pos == "sink" {
					return // the sink's own error comes back as it is
				}
				var se *StageError
				if !errors.As(err, &se) || se.Stage != pos {
					t.Fatalf("err = %v, want a *StageError of stage %q", err, pos)
				}
			})
		}
	}
}

// TestPanicEveryPosition panics in each stage in turn: the panic becomes
// the stage's error.
func TestPanicEveryPosition(t *testing.T) {
	const n, at = 5000, 2500
	for _, c := range configs {
		for _, pos := range positions[:len(positions)-1] {
			t.Run(c.name+"/"+pos, func(t *testing.T) {
				err := runChain(t, c, context.Background(), n, func(stage string, v int) error {
					if stage == pos && v == at {
						panic(fmt.Sprintf("%s: oops", pos))
					}
					return nil
				})
				var se *StageError
				if !errors.Is(err, ErrPanic) || !errors.As(err, &se) || se.Stage != pos {
					t.Fatalf("err = %v, want a panic of stage %q", err, pos)
				}
				var pe *PanicError
				if !errors.As(err, &pe) || pe.Value != pos+": oops" || len(pe.Stack) == 0 {
					t.Fatalf("panic error = %#v", pe)
				}
			})
		}
	}
}

// TestPanicErrorUnwrap: a panic with an error value unwraps to it.
func TestPanicErrorUnwrap(t *testing.T) {
	p := mustNew(t, Options{})
	m := Map(FromSlice(p, "src", ints(10)), "m", 1, func(_ context.Context, v int) (int, error) {
		if v == 5 {
			panic(errBoom)
		}
		return v, nil
	})
	_, err := Collect(context.Background(), m)
	if !errors.Is(err, errBoom) || !errors.Is(err, ErrPanic) {
		t.Fatalf("err = %v", err)
	}
}

// TestCancelEveryPosition cancels the sink's context from inside each
// stage in turn: the run stops and returns the context's error.
func TestCancelEveryPosition(t *testing.T) {
	const n, at = 5000, 2500
	for _, c := range configs {
		for _, pos := range positions {
			t.Run(c.name+"/"+pos, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				err := runChain(t, c, ctx, n, func(stage string, v int) error {
					if stage == pos && v == at {
						cancel()
					}
					return nil
				})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
			})
		}
	}
}

// TestCancelBeforeRun: a context already done stops the run at once.
func TestCancelBeforeRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := mustNew(t, Options{})
	_, err := Collect(ctx, Map(FromSlice(p, "src", ints(1000)), "m", 2, ident[int]))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestSinkPanic: a panic in the sink's function propagates to the caller
// after every stage has stopped (goleak checks the last part).
func TestSinkPanic(t *testing.T) {
	p := mustNew(t, Options{})
	src := Generate(p, "endless", func(ctx context.Context, emit func(int) error) error {
		for i := 0; ; i++ {
			if err := emit(i); err != nil {
				return err
			}
		}
	})
	defer func() {
		if v := recover(); v != "sink" {
			t.Fatalf("recovered %v", v)
		}
	}()
	ForEach(context.Background(), Map(src, "m", 2, ident[int]), func(v int) error {
		if v == 1000 {
			panic("sink")
		}
		return nil
	})
}
