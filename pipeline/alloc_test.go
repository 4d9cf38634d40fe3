package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/weftlabs/weft/ring"
)

// TestAllocsSteadyState pushes batches through running pipelines fed from
// a ring and drained into another, and counts allocations per batch of
// items: none, once the pipeline is warm.
func TestAllocsSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const batch = 128
	type build func(p *Pipeline, in *Stream[uint64]) *Stream[uint64]
	builds := map[string]build{
		"map3": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			return Map(Map(Map(in, "a", 1, inc), "b", 1, inc), "c", 1, inc)
		},
		"map-filter-parallel": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			keep := func(context.Context, uint64) (bool, error) { return true, nil }
			return Filter(Map(in, "a", 2, inc), "b", 2, keep)
		},
		"ordered": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			return OrderedMap(in, "a", 2, inc)
		},
		"flatmap-tap": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			one := func(_ context.Context, v uint64, emit func(uint64) error) error { return emit(v) }
			return Tap(FlatMap(in, "a", 1, one), "b", 1, func(context.Context, uint64) error { return nil })
		},
		"partition-merge": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			ps := Partition(in, "part", 2, func(v uint64) int { return int(v) })
			return Merge("m", Map(ps[0], "a", 1, inc), Map(ps[1], "b", 1, inc))
		},
		"tee-merge": func(p *Pipeline, in *Stream[uint64]) *Stream[uint64] {
			ts := Tee(in, "t", 2)
			odd := func(_ context.Context, v uint64) (bool, error) { return v%2 == 1, nil }
			even := func(_ context.Context, v uint64) (bool, error) { return v%2 == 0, nil }
			return Merge("m", Filter(ts[0], "odd", 1, odd), Filter(ts[1], "even", 1, even))
		},
	}
	for name, b := range builds {
		for _, c := range configs {
			t.Run(fmt.Sprintf("%s/%s", name, c.name), func(t *testing.T) {
				in, _ := ring.NewSPSC[uint64](1024)
				out, _ := ring.NewSPSC[uint64](1024)
				p := newPipeline(t, c)
				s := b(p, FromRing(p, "src", in))
				done := make(chan error, 1)
				go func() { done <- ToRing(context.Background(), s, out) }()
				ctx := context.Background()
				vs := make([]uint64, batch)
				dst := make([]uint64, batch)
				pass := func() {
					if _, err := in.PushBatch(ctx, vs); err != nil {
						t.Fatal(err)
					}
					for got := 0; got < batch; {
						k, err := out.PopBatch(ctx, dst[:batch-got])
						if err != nil {
							t.Fatal(err)
						}
						got += k
					}
				}
				for range 100 {
					pass() // warm up: buffers, pools, first parks
				}
				// AllocsPerRun rounds down to whole allocations per run;
				// the total over its runs is the finer figure.
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				allocs := testing.AllocsPerRun(1000, pass)
				runtime.ReadMemStats(&after)
				in.Close()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				total := after.Mallocs - before.Mallocs
				t.Logf("%v allocations per batch of %d; %d in all for %d items", allocs, batch, total, 1001*batch)
				// A handful come from caches that parking goroutines
				// refill now and then (the runtime's sudogs, the waiter
				// pool): far below one per thousand items.
				if allocs != 0 || total > 100 {
					t.Fatalf("%v allocations per batch of %d items, %d in all", allocs, batch, total)
				}
			})
		}
	}
}

func inc(_ context.Context, v uint64) (uint64, error) { return v + 1, nil }
