package pipeline

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/weftlabs/weft/ring"
)

func TestSources(t *testing.T) {
	n := 10_000
	want := ints(n)
	cases := map[string]func(p *Pipeline) *Stream[int]{
		"slice": func(p *Pipeline) *Stream[int] { return FromSlice(p, "src", want) },
		"seq":   func(p *Pipeline) *Stream[int] { return FromSeq(p, "src", slices.Values(want)) },
		"chan": func(p *Pipeline) *Stream[int] {
			ch := make(chan int, 10)
			go func() {
				for _, v := range want {
					ch <- v
				}
				close(ch)
			}()
			return FromChan(p, "src", ch)
		},
		"generate": func(p *Pipeline) *Stream[int] {
			return Generate(p, "src", func(_ context.Context, emit func(int) error) error {
				for _, v := range want {
					if err := emit(v); err != nil {
						return err
					}
				}
				return nil
			})
		},
		"ring": func(p *Pipeline) *Stream[int] {
			q, _ := ring.NewMPMC[int](64)
			go func() {
				for _, v := range want {
					q.Push(context.Background(), v)
				}
				q.Close()
			}()
			return FromRing(p, "src", q)
		},
		"empty slice": nil,
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) {
			p := mustNew(t, Options{})
			if cases[name] == nil {
				got, err := Collect(context.Background(), Map(FromSlice[int](p, "src", nil), "m", 2, ident[int]))
				if err != nil || len(got) != 0 {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			got, err := Collect(context.Background(), Map(cases[name](p), "m", 1, ident[int]))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d items, not the input in order", len(got))
			}
		})
	}
}

// TestSourceErrors: a generator's error fails the pipeline, named; a
// sequence broken off by a failure downstream stops.
func TestSourceErrors(t *testing.T) {
	p := mustNew(t, Options{})
	_, err := Collect(context.Background(), Generate(p, "gen", func(_ context.Context, emit func(int) error) error {
		emit(1)
		return errBoom
	}))
	var se *StageError
	if !errors.Is(err, errBoom) || !errors.As(err, &se) || se.Stage != "gen" {
		t.Fatalf("err = %v", err)
	}

	p = mustNew(t, Options{})
	stopped := false
	seq := func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				stopped = true
				return
			}
		}
	}
	m := Map(FromSeq(p, "seq", seq), "m", 1, func(_ context.Context, v int) (int, error) {
		if v == 500 {
			return 0, errBoom
		}
		return v, nil
	})
	if _, err := Collect(context.Background(), m); !errors.Is(err, errBoom) {
		t.Fatalf("err = %v", err)
	}
	if !stopped {
		t.Fatal("the sequence was not broken off")
	}
}

// TestSinks: ForEach, Reduce, ToRing and All see the same items.
func TestSinks(t *testing.T) {
	n := 5000
	build := func() *Stream[int] {
		p := mustNew(t, Options{})
		return Map(FromSlice(p, "src", ints(n)), "m", 1, ident[int])
	}
	want := n * (n - 1) / 2
	sum := 0
	if err := ForEach(context.Background(), build(), func(v int) error { sum += v; return nil }); err != nil || sum != want {
		t.Fatalf("ForEach: %d, %v", sum, err)
	}
	if got, err := Reduce(context.Background(), build(), 0, func(a, v int) int { return a + v }); err != nil || got != want {
		t.Fatalf("Reduce: %d, %v", got, err)
	}
	q, _ := ring.NewSPSC[int](16)
	done := make(chan int)
	go func() {
		s := 0
		for {
			v, err := q.Pop(context.Background())
			if err != nil {
				done <- s
				return
			}
			s += v
		}
	}()
	if err := ToRing(context.Background(), build(), q); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if got := <-done; got != want {
		t.Fatalf("ToRing: %d", got)
	}
	sum = 0
	for v, err := range All(context.Background(), build()) {
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if sum != want {
		t.Fatalf("All: %d", sum)
	}
}

// TestAllYieldsError: a failing run ends its iteration with the error.
func TestAllYieldsError(t *testing.T) {
	p := mustNew(t, Options{})
	m := Map(FromSlice(p, "src", ints(1000)), "m", 1, func(_ context.Context, v int) (int, error) {
		if v == 999 {
			return 0, errBoom
		}
		return v, nil
	})
	var last error
	count := 0
	for _, err := range All(context.Background(), m) {
		if err != nil {
			last = err
			continue
		}
		count++
	}
	if !errors.Is(last, errBoom) || count > 999 {
		t.Fatalf("last = %v after %d items", last, count)
	}
}

// TestProcessState: each worker of a Process stage has its own state and
// its Flush emits what it holds.
func TestProcessState(t *testing.T) {
	for _, workers := range []int{1, 3} {
		p := mustNew(t, Options{})
		got, err := Collect(context.Background(), Process(FromSlice(p, "src", ints(10_000)), "count", workers,
			func(int) Processor[int, int] { return &counter{} }))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != workers {
			t.Fatalf("%d results from %d workers", len(got), workers)
		}
		total := 0
		for _, v := range got {
			total += v
		}
		if total != 10_000 {
			t.Fatalf("counted %d", total)
		}
	}
}

type counter struct{ n int }

func (c *counter) Process(context.Context, int, func(int) error) error { c.n++; return nil }
func (c *counter) Flush(_ context.Context, emit func(int) error) error { return emit(c.n) }
