package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/weftlabs/weft/ring"
	"github.com/weftlabs/weft/sched"
)

// TestNewInvalid: options that cannot work fail New with ErrInvalid.
func TestNewInvalid(t *testing.T) {
	for _, opt := range []Options{
		{Capacity: -1},
		{Batch: -1},
		{Window: -1},
		{Capacity: 16, Batch: 32},
	} {
		if _, err := New(opt); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", opt, err)
		}
	}
	if _, err := New(Options{Capacity: 8}); err != nil {
		t.Errorf("a small capacity with the default batch: %v", err)
	}
}

// TestConstructionErrors: each mistake in building a pipeline is
// reported by the sink, before anything runs, naming the stage.
func TestConstructionErrors(t *testing.T) {
	run := func(s *Stream[int]) error {
		_, err := Collect(context.Background(), s)
		return err
	}
	cases := []struct {
		name  string
		want  error
		stage string
		build func(p *Pipeline) *Stream[int]
	}{
		{"concurrency 0", ErrInvalid, "m", func(p *Pipeline) *Stream[int] {
			return Map(FromSlice(p, "src", ints(3)), "m", 0, ident[int])
		}},
		{"nil map function", ErrInvalid, "m", func(p *Pipeline) *Stream[int] {
			return Map[int, int](FromSlice(p, "src", ints(3)), "m", 1, nil)
		}},
		{"nil filter", ErrInvalid, "f", func(p *Pipeline) *Stream[int] {
			return Filter(FromSlice(p, "src", ints(3)), "f", 1, nil)
		}},
		{"nil flatmap", ErrInvalid, "f", func(p *Pipeline) *Stream[int] {
			return FlatMap[int, int](FromSlice(p, "src", ints(3)), "f", 1, nil)
		}},
		{"nil tap", ErrInvalid, "t", func(p *Pipeline) *Stream[int] {
			return Tap(FromSlice(p, "src", ints(3)), "t", 1, nil)
		}},
		{"nil processor", ErrInvalid, "pr", func(p *Pipeline) *Stream[int] {
			return Process[int, int](FromSlice(p, "src", ints(3)), "pr", 1, nil)
		}},
		{"nil fold", ErrInvalid, "fo", func(p *Pipeline) *Stream[int] {
			return Fold[int, int](FromSlice(p, "src", ints(3)), "fo", 1, nil, nil)
		}},
		{"nil seq", ErrInvalid, "src", func(p *Pipeline) *Stream[int] { return FromSeq[int](p, "src", nil) }},
		{"nil chan", ErrInvalid, "src", func(p *Pipeline) *Stream[int] { return FromChan[int](p, "src", nil) }},
		{"nil generator", ErrInvalid, "src", func(p *Pipeline) *Stream[int] { return Generate[int](p, "src", nil) }},
		{"nil ring", ErrInvalid, "src", func(p *Pipeline) *Stream[int] { return FromRing[int](p, "src", nil) }},
		{"batch size 0", ErrInvalid, "b", func(p *Pipeline) *Stream[int] {
			return Unbatch(Batch(FromSlice(p, "src", ints(3)), "b", 1, 0, 0), "u", 1)
		}},
		{"negative max wait", ErrInvalid, "b", func(p *Pipeline) *Stream[int] {
			return Unbatch(Batch(FromSlice(p, "src", ints(3)), "b", 1, 2, -1), "u", 1)
		}},
		{"tee of 0", ErrInvalid, "tee", func(p *Pipeline) *Stream[int] {
			Tee(FromSlice(p, "src", ints(3)), "tee", 0)
			return FromSlice(p, "other", ints(3))
		}},
		{"merge of nil", ErrInvalid, "merge", func(p *Pipeline) *Stream[int] {
			return Merge("merge", FromSlice(p, "src", ints(3)), nil)
		}},
		{"consumed twice", ErrConsumed, "b", func(p *Pipeline) *Stream[int] {
			s := FromSlice(p, "src", ints(3))
			a := Map(s, "a", 1, ident[int])
			b := Map(s, "b", 1, ident[int])
			return Merge("merge", a, b)
		}},
		{"consumed by a stage and the sink", ErrConsumed, "Collect", func(p *Pipeline) *Stream[int] {
			s := FromSlice(p, "src", ints(3))
			Tap(s, "t", 1, func(context.Context, int) error { return nil })
			return s
		}},
		{"unconsumed", ErrUnconsumed, "b", func(p *Pipeline) *Stream[int] {
			s := Tee(FromSlice(p, "src", ints(3)), "tee", 2)
			Map(s[1], "b", 1, ident[int])
			return s[0]
		}},
		{"duplicate name", ErrDuplicateName, "m", func(p *Pipeline) *Stream[int] {
			return Map(Map(FromSlice(p, "src", ints(3)), "m", 1, ident[int]), "m", 1, ident[int])
		}},
		{"foreign stream", ErrForeign, "merge", func(p *Pipeline) *Stream[int] {
			q := mustNew(t, Options{})
			return Merge("merge", FromSlice(p, "src", ints(3)), FromSlice(q, "src", ints(3)))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustNew(t, Options{})
			err := run(c.build(p))
			var se *StageError
			if !errors.Is(err, c.want) || !errors.As(err, &se) || se.Stage != c.stage {
				t.Fatalf("err = %v, want %v in stage %q", err, c.want, c.stage)
			}
			// The pipeline did not run; running it again is ErrReused.
			if err := run(FromSlice(p, "late", ints(1))); !errors.Is(err, ErrReused) {
				t.Fatalf("second run: %v, want ErrReused", err)
			}
		})
	}
}

// TestInvalidStreams: streams no pipeline made are ErrInvalid at the sink.
func TestInvalidStreams(t *testing.T) {
	var nilStream *Stream[int]
	for name, s := range map[string]*Stream[int]{
		"nil":              nilStream,
		"zero":             {},
		"map of nil":       Map(nilStream, "m", 1, ident[int]),
		"merge of nothing": Merge[int]("m"),
		"source of nil":    FromSlice[int](nil, "src", nil),
	} {
		if _, err := Collect(context.Background(), s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if Tee(nilStream, "t", 2) != nil {
		t.Error("Tee of a nil stream")
	}
	p := mustNew(t, Options{})
	if err := ToRing[int](context.Background(), FromSlice(p, "src", ints(1)), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("ToRing(nil ring) = %v", err)
	}
}

// TestReused: a pipeline runs once; stages added after the run are not
// run, and their sink says why.
func TestReused(t *testing.T) {
	p := mustNew(t, Options{})
	s := FromSlice(p, "src", ints(10))
	if _, err := Collect(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(context.Background(), s); !errors.Is(err, ErrReused) {
		t.Fatalf("second Collect: %v", err)
	}
	late := Map(FromSlice(p, "late", ints(10)), "m", 1, ident[int])
	if _, err := Collect(context.Background(), late); !errors.Is(err, ErrReused) {
		t.Fatalf("late stage: %v", err)
	}
	if tee := Tee(late, "t", 2); tee != nil {
		t.Fatal("Tee on a pipeline that ran")
	}
	if parts := Partition(late, "t", 2, func(int) int { return 0 }); parts != nil {
		t.Fatal("Partition on a pipeline that ran")
	}
	if _, err := Collect(context.Background(), Merge("late-merge", late)); !errors.Is(err, ErrReused) {
		t.Fatalf("late merge: %v", err)
	}
}

// TestToRingClosed: ToRing fails with ring.ErrClosed when its ring is
// closed before the stream ends.
func TestToRingClosed(t *testing.T) {
	q, _ := ring.NewSPSC[int](64)
	q.Close()
	p := mustNew(t, Options{})
	err := ToRing(context.Background(), FromSlice(p, "src", ints(1000)), q)
	if !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("err = %v, want ring.ErrClosed", err)
	}
}

// TestSchedulerClosed: a parallel stage whose scheduler is closed fails
// with sched.ErrClosed, naming the stage.
func TestSchedulerClosed(t *testing.T) {
	s, err := sched.New(sched.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := mustNew(t, Options{Scheduler: s})
	_, err = Collect(context.Background(), Map(FromSlice(p, "src", ints(1000)), "m", 2, ident[int]))
	var se *StageError
	if !errors.Is(err, sched.ErrClosed) || !errors.As(err, &se) || se.Stage != "m" {
		t.Fatalf("err = %v, want sched.ErrClosed in stage m", err)
	}
}

// TestErrorStrings: errors read as what happened, where.
func TestErrorStrings(t *testing.T) {
	err := error(&StageError{Stage: "parse", Err: &PanicError{Value: "oops"}})
	if got, want := err.Error(), "pipeline: stage parse: panic: oops"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
