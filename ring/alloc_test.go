package ring

import (
	"context"
	"runtime"
	"testing"
	"weak"
)

// ops is the method set of SPSC[T] and MPMC[T].
type ops[T any] interface {
	TryPush(v T) error
	TryPop() (T, error)
	TryPushBatch(vs []T) (int, error)
	TryPopBatch(dst []T) (int, error)
	Push(ctx context.Context, v T) error
	Pop(ctx context.Context) (T, error)
	PushBatch(ctx context.Context, vs []T) (int, error)
	PopBatch(ctx context.Context, dst []T) (int, error)
	Close()
	Len() int
}

// checkNoAllocs measures each push together with the pop that undoes it, on
// an uncontended queue that is neither full nor empty when it matters.
func checkNoAllocs[T any](t *testing.T, q ops[T], v T) {
	t.Helper()
	ctx := context.Background()
	vs := []T{v, v, v, v}
	dst := make([]T, 4)
	cases := []struct {
		name string
		f    func()
	}{
		{"TryPush+TryPop", func() {
			if q.TryPush(v) != nil {
				panic("TryPush failed")
			}
			if _, err := q.TryPop(); err != nil {
				panic(err)
			}
		}},
		{"Push+Pop", func() {
			if q.Push(ctx, v) != nil {
				panic("Push failed")
			}
			if _, err := q.Pop(ctx); err != nil {
				panic(err)
			}
		}},
		{"TryPushBatch+TryPopBatch", func() {
			if n, err := q.TryPushBatch(vs); n != len(vs) || err != nil {
				panic("TryPushBatch failed")
			}
			if n, err := q.TryPopBatch(dst); n != len(vs) || err != nil {
				panic("TryPopBatch failed")
			}
		}},
		{"PushBatch+PopBatch", func() {
			if n, err := q.PushBatch(ctx, vs); n != len(vs) || err != nil {
				panic("PushBatch failed")
			}
			if n, err := q.PopBatch(ctx, dst); n != len(vs) || err != nil {
				panic("PopBatch failed")
			}
		}},
		{"failures", func() {
			if _, err := q.TryPop(); err != ErrEmpty {
				panic("TryPop on empty")
			}
			if n, _ := q.TryPopBatch(dst); n != 0 {
				panic("TryPopBatch on empty")
			}
		}},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(1000, c.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, n)
		}
	}
	q.Close()
	closed := func() {
		if q.TryPush(v) != ErrClosed || q.Push(ctx, v) != ErrClosed {
			panic("push on closed")
		}
		if _, err := q.Pop(ctx); err != ErrClosed {
			panic("pop on closed")
		}
	}
	if n := testing.AllocsPerRun(1000, closed); n != 0 {
		t.Errorf("operations on a closed queue: %v allocations per run, want 0", n)
	}
}

type item struct{ a, b int }

func TestNoAllocs(t *testing.T) {
	p := &item{1, 2}
	t.Run("SPSC/int", func(t *testing.T) { q, _ := NewSPSC[int](8); checkNoAllocs[int](t, q, 42) })
	t.Run("SPSC/pointer", func(t *testing.T) { q, _ := NewSPSC[*item](8); checkNoAllocs(t, q, p) })
	t.Run("SPSC/struct", func(t *testing.T) { q, _ := NewSPSC[item](8); checkNoAllocs(t, q, *p) })
	t.Run("MPMC/int", func(t *testing.T) { q, _ := NewMPMC[int](8); checkNoAllocs[int](t, q, 42) })
	t.Run("MPMC/pointer", func(t *testing.T) { q, _ := NewMPMC[*item](8); checkNoAllocs(t, q, p) })
	t.Run("MPMC/struct", func(t *testing.T) { q, _ := NewMPMC[item](8); checkNoAllocs(t, q, *p) })
}

// TestPopReleasesItems checks that a queue keeps no reference to an item
// once it has been popped, by every pop method: after a GC the item is gone.
func TestPopReleasesItems(t *testing.T) {
	ctx := context.Background()
	pops := map[string]func(q ops[*item]){
		"TryPop":      func(q ops[*item]) { q.TryPop() },
		"Pop":         func(q ops[*item]) { q.Pop(ctx) },
		"TryPopBatch": func(q ops[*item]) { q.TryPopBatch(make([]*item, 3)) },
		"PopBatch":    func(q ops[*item]) { q.PopBatch(ctx, make([]*item, 3)) },
	}
	for _, kind := range []string{"SPSC", "MPMC"} {
		for name, pop := range pops {
			t.Run(kind+"/"+name, func(t *testing.T) {
				var q ops[*item]
				if kind == "SPSC" {
					q, _ = NewSPSC[*item](4)
				} else {
					q, _ = NewMPMC[*item](4)
				}
				// Start mid-ring so that batches wrap around the end.
				for range 3 {
					q.TryPush(nil)
					q.TryPop()
				}
				refs := pushFresh(q, 3)
				for q.Len() > 0 {
					pop(q)
				}
				runtime.GC()
				for i, r := range refs {
					if r.Value() != nil {
						t.Errorf("item %d is still reachable after it was popped", i)
					}
				}
				runtime.KeepAlive(q)
			})
		}
	}
}

// pushFresh pushes n newly allocated items and returns weak references to
// them, keeping no strong one.
func pushFresh(q ops[*item], n int) []weak.Pointer[item] {
	refs := make([]weak.Pointer[item], n)
	for i := range refs {
		p := &item{i, i}
		refs[i] = weak.Make(p)
		if err := q.TryPush(p); err != nil {
			panic(err)
		}
	}
	return refs
}
