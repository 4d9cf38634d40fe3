package pipeline

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// endless is a source that counts up until the pipeline stops, counting
// what it has emitted in produced.
func endless(p *Pipeline, produced *atomic.Int64) *Stream[int] {
	return Generate(p, "endless", func(ctx context.Context, emit func(int) error) error {
		for i := 0; ; i++ {
			if err := emit(i); err != nil {
				return err
			}
			produced.Add(1)
		}
	})
}

// TestEarlyBreak breaks out of the result loop of an endless pipeline:
// the loop ends, the sink's iteration returns, and no goroutine of the
// pipeline is left.
func TestEarlyBreak(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := newPipeline(t, c)
			var produced atomic.Int64
			s := OrderedMap(Map(endless(p, &produced), "m", 2, ident[int]), "om", 2, ident[int])
			count := 0
			for _, err := range All(context.Background(), s) {
				if err != nil {
					t.Fatal(err)
				}
				if count++; count == 10_000 {
					break
				}
			}
			if count != 10_000 {
				t.Fatalf("count = %d", count)
			}
			if c.sch {
				p.opt.Scheduler.Close()
			}
			goleak.VerifyNone(t)
			// The source stopped: its count does not move any more.
			k := produced.Load()
			time.Sleep(5 * time.Millisecond)
			if produced.Load() != k {
				t.Fatal("the source is still running")
			}
		})
	}
}

// TestEarlyBreakInOrder: the items before the break are the first ones,
// in order, with a single worker.
func TestEarlyBreakInOrder(t *testing.T) {
	p := mustNew(t, Options{})
	var produced atomic.Int64
	want := 0
	for v := range All(context.Background(), Map(endless(p, &produced), "m", 1, ident[int])) {
		if v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		if want++; want == 5000 {
			break
		}
	}
}

// TestBoundedMemory runs an endless source into a slow sink: the items in
// flight (emitted by the source and not yet consumed) never exceed what
// the queues and buffers can hold.
func TestBoundedMemory(t *testing.T) {
	opt := Options{Capacity: 64, Batch: 16, Window: 4}
	p := mustNew(t, opt)
	var produced atomic.Int64
	a := Map(endless(p, &produced), "m", 2, ident[int])
	b := OrderedMap(a, "om", 2, ident[int])
	c := Filter(b, "f", 1, func(context.Context, int) (bool, error) { return true, nil })
	// What can hold items, whatever gets fused: a queue per hand-off (at
	// most four here), the source's batch, an input and an output batch
	// per worker of m, om's window (input and output per batch), f's input
	// and output, and the sink's batch.
	bound := int64(4*opt.Capacity + opt.Batch + 2*2*opt.Batch + opt.Window*2*opt.Batch + 2*opt.Batch + 2*opt.Batch + opt.Batch)
	consumed, worst := int64(0), int64(0)
	n := scaled(20_000)
	err := ForEach(context.Background(), c, func(int) error {
		consumed++
		if d := produced.Load() - consumed; d > worst {
			worst = d
		}
		if consumed%64 == 0 {
			time.Sleep(50 * time.Microsecond) // slow sink
		}
		if consumed == int64(n) {
			return errStop
		}
		return nil
	})
	if err != errStop {
		t.Fatal(err)
	}
	t.Logf("at most %d items in flight (bound %d)", worst, bound)
	if worst > bound {
		t.Fatalf("%d items in flight, bound %d", worst, bound)
	}
	if worst < int64(opt.Capacity) {
		t.Fatalf("only %d items in flight: the source is not running ahead", worst)
	}
}

var errStop = errString("stop")

type errString string

func (e errString) Error() string { return string(e) }
