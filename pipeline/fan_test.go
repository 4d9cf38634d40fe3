package pipeline

import (
	"context"
	"slices"
	"testing"
)

// TestTeeMerge is a diamond: one stream copied to two branches, which are
// merged back. Every item arrives once from each branch, and a Tee's
// outputs each see every item in order.
func TestTeeMerge(t *testing.T) {
	n := scaled(200_000)
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := newPipeline(t, c)
			ts := Tee(FromSlice(p, "src", ints(n)), "tee", 2)
			neg := Map(ts[0], "neg", 2, func(_ context.Context, v int) (int, error) { return -v - 1, nil })
			pos := Map(ts[1], "pos", 1, ident[int])
			seen := make([]int, 2*n)
			err := ForEach(context.Background(), Merge("merge", neg, pos), func(v int) error {
				seen[v+n]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range seen {
				if k != 1 {
					t.Fatalf("item %d arrived %d times", i-n, k)
				}
			}
		})
	}
}

// TestTeeOrder: every output of a Tee sees the whole input in order.
func TestTeeOrder(t *testing.T) {
	n := scaled(100_000)
	p := mustNew(t, Options{})
	ts := Tee(FromSlice(p, "src", ints(n)), "tee", 3)
	a := Batch(ts[0], "a", 1, n, 0)
	b := Batch(ts[1], "b", 1, n, 0)
	c := Batch(ts[2], "c", 1, n, 0)
	var groups [][]int
	err := ForEach(context.Background(), Merge("m", a, b, c), func(g []int) error {
		groups = append(groups, g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("%d groups", len(groups))
	}
	for _, g := range groups {
		if !slices.Equal(g, ints(n)) {
			t.Fatal("a Tee output is not the input")
		}
	}
}

// TestMergeOfMerges and a Tee after a Merge: the queues are shared, the
// producers counted, the end reached once every input has ended.
func TestMergeOfMerges(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := newPipeline(t, c)
			m1 := Merge("m1", FromSlice(p, "a", ints(1000)), Map(FromSlice(p, "b", ints(1000)), "b2", 2, ident[int]))
			m2 := Merge("m2", m1, FromSlice(p, "c", ints(1000)))
			ts := Tee(m2, "tee", 2)
			sum := Fold(ts[0], "sum", 1, func() int { return 0 }, func(_ context.Context, a, v int) (int, error) { return a + v, nil })
			cnt := Fold(ts[1], "cnt", 2, func() int { return 0 }, func(_ context.Context, a, v int) (int, error) { return a + 1, nil })
			got, err := Collect(context.Background(), Merge("out", sum, Map(cnt, "neg", 1, func(_ context.Context, v int) (int, error) { return -v, nil })))
			if err != nil {
				t.Fatal(err)
			}
			total, count := 0, 0
			for _, v := range got {
				if v >= 0 {
					total += v
				} else {
					count -= v
				}
			}
			if total != 3*999*1000/2 || count != 3000 {
				t.Fatalf("sum %d count %d (from %v)", total, count, got)
			}
		})
	}
}
