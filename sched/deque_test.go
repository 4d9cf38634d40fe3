package sched

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// scaled returns n reduced for -short and for the race detector, never
// below 1.
func scaled(n int) int {
	if raceEnabled {
		n /= 8
	}
	if testing.Short() {
		n /= 8
	}
	return max(n, 1)
}

func TestDequeSequential(t *testing.T) {
	d := newDeque[int](4)
	if d.pop() != nil {
		t.Fatal("pop on empty deque returned an item")
	}
	if x, ok := d.steal(); x != nil || ok {
		t.Fatal("steal on empty deque returned an item or claimed non-empty")
	}
	v := []int{0, 1, 2, 3, 4}
	for i := range 4 {
		if !d.push(&v[i]) {
			t.Fatalf("push %d failed on a deque with room", i)
		}
	}
	if d.push(&v[4]) {
		t.Fatal("push succeeded on a full deque")
	}
	if n := d.len(); n != 4 {
		t.Fatalf("len = %d, want 4", n)
	}
	if x, _ := d.steal(); x != &v[0] {
		t.Fatal("steal did not take the oldest item")
	}
	if x := d.pop(); x != &v[3] {
		t.Fatal("pop did not take the newest item")
	}
	if !d.push(&v[4]) || !d.push(&v[0]) {
		t.Fatal("push after freeing room failed")
	}
	want := []*int{&v[0], &v[4], &v[2], &v[1]}
	for i, w := range want {
		if x := d.pop(); x != w {
			t.Fatalf("pop %d = %v, want %v", i, x, w)
		}
	}
	if d.pop() != nil || d.len() != 0 {
		t.Fatal("deque not empty after popping everything")
	}
}

// TestStressDequeExactlyOnce has the owner push and pop while thieves
// steal, and checks that every item is taken exactly once.
func TestStressDequeExactlyOnce(t *testing.T) {
	for _, thieves := range []int{1, 3, 7} {
		for _, capacity := range []int{2, 64, 256} {
			n := scaled(1_000_000)
			items := make([]int, n)
			taken := make([]atomic.Int32, n)
			d := newDeque[int](capacity)
			var stop atomic.Bool
			var wg sync.WaitGroup
			var stolen atomic.Int64
			for range thieves {
				wg.Go(func() {
					for !stop.Load() || d.len() > 0 {
						if x, _ := d.steal(); x != nil {
							taken[*x].Add(1)
							stolen.Add(1)
						} else {
							runtime.Gosched()
						}
					}
				})
			}
			rng := rand.New(rand.NewPCG(uint64(thieves), uint64(capacity)))
			for i := range n {
				items[i] = i
				for !d.push(&items[i]) {
					if x := d.pop(); x != nil {
						taken[*x].Add(1)
					}
				}
				if rng.IntN(3) == 0 {
					if x := d.pop(); x != nil {
						taken[*x].Add(1)
					}
				}
			}
			for x := d.pop(); x != nil; x = d.pop() {
				taken[*x].Add(1)
			}
			stop.Store(true)
			wg.Wait()
			for i := range taken {
				if c := taken[i].Load(); c != 1 {
					t.Fatalf("thieves=%d cap=%d: item %d taken %d times", thieves, capacity, i, c)
				}
			}
			t.Logf("thieves=%d cap=%d: %d items, %d stolen", thieves, capacity, n, stolen.Load())
		}
	}
}

// TestStressDequeLastItem races the owner and thieves over a deque that
// holds exactly one item, the case settled by a CAS on top.
func TestStressDequeLastItem(t *testing.T) {
	n := scaled(200_000)
	d := newDeque[int](8)
	items := make([]int, n)
	var got atomic.Int64
	var wg sync.WaitGroup
	var round atomic.Int64
	var stop atomic.Bool
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				if x, _ := d.steal(); x != nil {
					got.Add(1)
				}
			}
		})
	}
	for i := range n {
		items[i] = i
		d.push(&items[i])
		if d.pop() != nil {
			got.Add(1)
		}
		round.Add(1)
	}
	for d.len() > 0 {
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
	if g := got.Load(); g != int64(n) {
		t.Fatalf("%d items taken, want %d", g, n)
	}
}
