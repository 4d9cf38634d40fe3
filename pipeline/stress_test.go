package pipeline

import (
	"context"
	"fmt"
	"testing"
)

// TestStressExactlyOnce sends millions of items through parallel stages
// of every kind, with random per-item delays, and checks that each item
// arrives exactly once.
func TestStressExactlyOnce(t *testing.T) {
	n := scaled(2_000_000)
	for _, c := range configs {
		for _, workers := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, workers), func(t *testing.T) {
				p := newPipeline(t, c)
				src := Generate(p, "src", func(ctx context.Context, emit func(uint64) error) error {
					for i := range uint64(n) {
						if err := emit(i); err != nil {
							return err
						}
					}
					return nil
				})
				a := Map(src, "map", workers, func(_ context.Context, v uint64) (uint64, error) {
					jitter(v, 1)
					return v * 2, nil
				})
				// Drop odd multiples of 3 (none: all are even) and
				// multiples of 10, then emit each survivor twice
				// (as 2v and 2v+1).
				b := Filter(a, "filter", workers, func(_ context.Context, v uint64) (bool, error) {
					jitter(v, 2)
					return v%10 != 0, nil
				})
				d := FlatMap(b, "flat", workers, func(_ context.Context, v uint64, emit func(uint64) error) error {
					jitter(v, 3)
					if err := emit(v); err != nil {
						return err
					}
					return emit(v + 1)
				})
				e := Tap(d, "tap", workers, func(context.Context, uint64) error { return nil })
				seen := make([]uint8, 2*n)
				err := ForEach(context.Background(), e, func(v uint64) error {
					seen[v]++
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for v, k := range seen {
					want := uint8(1)
					if (v&^1)%10 == 0 {
						want = 0
					}
					if k != want {
						t.Fatalf("item %d arrived %d times, want %d", v, k, want)
					}
				}
			})
		}
	}
}

// TestStressOrdered checks that ordered stages emit exactly their input
// order, over millions of items with random per-item delays, however
// many workers compute them and whatever the window.
func TestStressOrdered(t *testing.T) {
	n := scaled(2_000_000)
	for _, c := range configs {
		for _, workers := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, workers), func(t *testing.T) {
				p := newPipeline(t, c)
				src := Generate(p, "src", func(ctx context.Context, emit func(uint64) error) error {
					for i := range uint64(n) {
						if err := emit(i); err != nil {
							return err
						}
					}
					return nil
				})
				a := OrderedMap(src, "omap", workers, func(_ context.Context, v uint64) (uint64, error) {
					jitter(v, 4)
					return v * 3, nil
				})
				b := OrderedFilter(a, "ofilter", workers, func(_ context.Context, v uint64) (bool, error) {
					jitter(v, 5)
					return v%2 == 0, nil
				})
				d := OrderedFlatMap(b, "oflat", workers, func(_ context.Context, v uint64, emit func(uint64) error) error {
					jitter(v, 6)
					for i := range v % 3 {
						if err := emit(v + i); err != nil {
							return err
						}
					}
					return nil
				})
				// advance computes the expected sequence: i is the
				// input index, j the position in its expansion.
				var i, j uint64
				advance := func() (uint64, bool) {
					for i < uint64(n) {
						v := i * 3
						if v%2 == 0 && j < v%3 {
							out := v + j
							j++
							return out, true
						}
						i, j = i+1, 0
					}
					return 0, false
				}
				count := 0
				for v, err := range All(context.Background(), d) {
					if err != nil {
						t.Fatal(err)
					}
					w, ok := advance()
					if !ok {
						t.Fatalf("extra item %d after %d", v, count)
					}
					if v != w {
						t.Fatalf("item %d is %d, want %d", count, v, w)
					}
					count++
				}
				if w, ok := advance(); ok {
					t.Fatalf("stream ended after %d items; next would be %d", count, w)
				}
			})
		}
	}
}
