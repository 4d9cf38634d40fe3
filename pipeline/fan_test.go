package pipeline

import (
	"context"
	"errors"
	"fmt"
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

// TestPartition spreads items by key over k streams, each in input order
// and holding only its keys, and merges them back: every item once.
func TestPartition(t *testing.T) {
	n := scaled(100_000)
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := newPipeline(t, c)
			parts := Partition(FromSlice(p, "src", ints(n)), "by-key", 3, func(v int) int { return v - 7 }) // negative keys too
			var outs []*Stream[[]int]
			for i, s := range parts {
				// One worker per partition keeps its order; tag each
				// item with its partition.
				outs = append(outs, Map(s, fmt.Sprintf("tag%d", i), 1, func(_ context.Context, v int) ([]int, error) {
					return []int{i, v}, nil
				}))
			}
			last := []int{-1, -1, -1}
			count := 0
			err := ForEach(context.Background(), Merge("merge", outs...), func(iv []int) error {
				i, v := iv[0], iv[1]
				if want := ((v-7)%3 + 3) % 3; i != want {
					return fmt.Errorf("item %d in partition %d, want %d", v, i, want)
				}
				if v <= last[i] {
					return fmt.Errorf("partition %d: %d after %d", i, v, last[i])
				}
				last[i] = v
				count++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Fatalf("%d items, want %d", count, n)
			}
		})
	}
}

// TestPartitionInvalid: no outputs, or no key, is ErrInvalid.
func TestPartitionInvalid(t *testing.T) {
	for _, k := range []int{0, 2} {
		p := mustNew(t, Options{})
		var key func(int) int
		if k == 0 {
			key = func(v int) int { return v }
		}
		outs := Partition(FromSlice(p, "src", ints(3)), "part", k, key)
		var s *Stream[int]
		if len(outs) > 0 {
			s = Merge("m", outs...)
		} else {
			s = FromSlice(p, "other", ints(1))
		}
		_, err := Collect(context.Background(), s)
		var se *StageError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &se) || se.Stage != "part" {
			t.Fatalf("k=%d: %v", k, err)
		}
	}
	if Partition[int](nil, "p", 2, nil) != nil {
		t.Fatal("Partition of a nil stream")
	}
}
