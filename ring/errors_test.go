package ring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestErrCapacity(t *testing.T) {
	for _, c := range []int{0, -1, math.MinInt, MaxCapacity + 1, math.MaxInt} {
		spsc, err := NewSPSC[int](c)
		checkCapacityErr(t, "NewSPSC", c, err, spsc == nil)
		mpmc, err := NewMPMC[int](c)
		checkCapacityErr(t, "NewMPMC", c, err, mpmc == nil)
	}
}

func checkCapacityErr(t *testing.T, ctor string, c int, err error, isNil bool) {
	t.Helper()
	if !errors.Is(err, ErrCapacity) {
		t.Errorf("%s(%d): err = %v, want ErrCapacity", ctor, c, err)
		return
	}
	if !strings.Contains(err.Error(), strconv.Itoa(c)) {
		t.Errorf("%s(%d): error %q does not mention the capacity", ctor, c, err)
	}
	if !isNil {
		t.Errorf("%s(%d) returned a queue with its error", ctor, c)
	}
}

func TestCapacityRounding(t *testing.T) {
	cases := []struct{ in, spsc, mpmc int }{
		{1, 1, 2},
		{2, 2, 2},
		{3, 4, 4},
		{4, 4, 4},
		{5, 8, 8},
		{1000, 1024, 1024},
		{1024, 1024, 1024},
		{1025, 2048, 2048},
	}
	for _, c := range cases {
		if s, err := NewSPSC[int](c.in); err != nil {
			t.Errorf("NewSPSC(%d): %v", c.in, err)
		} else if s.Cap() != c.spsc {
			t.Errorf("NewSPSC(%d): Cap() = %d, want %d", c.in, s.Cap(), c.spsc)
		}
		if m, err := NewMPMC[int](c.in); err != nil {
			t.Errorf("NewMPMC(%d): %v", c.in, err)
		} else if m.Cap() != c.mpmc {
			t.Errorf("NewMPMC(%d): Cap() = %d, want %d", c.in, m.Cap(), c.mpmc)
		}
	}
}

// TestMaxCapacity allocates a queue of MaxCapacity slots of a zero-size type,
// which costs no memory for the SPSC ring. MPMC slots carry an 8-byte
// sequence number whatever the item type, so its bound is checked through
// roundCapacity rather than by allocating 8 GiB.
func TestMaxCapacity(t *testing.T) {
	s, err := NewSPSC[struct{}](MaxCapacity)
	if err != nil || s.Cap() != MaxCapacity {
		t.Fatalf("NewSPSC(MaxCapacity): %v", err)
	}
	if err := s.TryPush(struct{}{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryPop(); err != nil {
		t.Fatal(err)
	}
	if n, err := roundCapacity(MaxCapacity, 2); n != MaxCapacity || err != nil {
		t.Fatalf("roundCapacity(MaxCapacity, 2) = %d, %v", n, err)
	}
	if n, err := roundCapacity(MaxCapacity-1, 2); n != MaxCapacity || err != nil {
		t.Fatalf("roundCapacity(MaxCapacity-1, 2) = %d, %v", n, err)
	}
}

// TestTryErrors triggers each documented error of each non-blocking method.
// The errors are compared with ==: they are sentinel values.
func TestTryErrors(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := k.new(t, 4)
			dst := make([]uint64, 8)

			if _, err := q.TryPop(); err != ErrEmpty {
				t.Errorf("TryPop on empty: %v, want ErrEmpty", err)
			}
			if n, err := q.TryPopBatch(dst); n != 0 || err != ErrEmpty {
				t.Errorf("TryPopBatch on empty: %d, %v, want 0, ErrEmpty", n, err)
			}
			if n, err := q.TryPopBatch(nil); n != 0 || err != nil {
				t.Errorf("TryPopBatch(nil) on empty: %d, %v, want 0, nil", n, err)
			}
			if n, err := q.TryPushBatch(nil); n != 0 || err != nil {
				t.Errorf("TryPushBatch(nil) on open queue: %d, %v, want 0, nil", n, err)
			}

			// A batch larger than the free space pushes the prefix that fits.
			if err := q.TryPush(0); err != nil {
				t.Fatal(err)
			}
			if n, err := q.TryPushBatch([]uint64{1, 2, 3, 4, 5}); n != 3 || err != nil {
				t.Errorf("TryPushBatch(5 items) with 3 free: %d, %v, want 3, nil", n, err)
			}
			if q.Len() != 4 || q.Cap() != 4 {
				t.Fatalf("Len, Cap = %d, %d, want 4, 4", q.Len(), q.Cap())
			}
			if err := q.TryPush(9); err != ErrFull {
				t.Errorf("TryPush on full: %v, want ErrFull", err)
			}
			if n, err := q.TryPushBatch([]uint64{9}); n != 0 || err != ErrFull {
				t.Errorf("TryPushBatch on full: %d, %v, want 0, ErrFull", n, err)
			}
			if n, err := q.TryPushBatch(nil); n != 0 || err != nil {
				t.Errorf("TryPushBatch(nil) on full: %d, %v, want 0, nil", n, err)
			}
			if n, err := q.TryPopBatch(nil); n != 0 || err != nil {
				t.Errorf("TryPopBatch(nil) on full: %d, %v, want 0, nil", n, err)
			}
			if q.Len() != 4 {
				t.Fatalf("failed pushes changed Len to %d", q.Len())
			}

			// A batch pop larger than the queue takes everything, in order.
			if n, err := q.TryPopBatch(dst[:2]); n != 2 || err != nil || dst[0] != 0 || dst[1] != 1 {
				t.Errorf("TryPopBatch(2) = %d, %v, %v, want 2, nil, [0 1]", n, err, dst[:2])
			}
			if q.Len() != 2 {
				t.Fatalf("Len() = %d, want 2", q.Len())
			}

			q.Close()
			if err := q.TryPush(9); err != ErrClosed {
				t.Errorf("TryPush on closed: %v, want ErrClosed", err)
			}
			if n, err := q.TryPushBatch([]uint64{9}); n != 0 || err != ErrClosed {
				t.Errorf("TryPushBatch on closed: %d, %v, want 0, ErrClosed", n, err)
			}
			if n, err := q.TryPushBatch(nil); n != 0 || err != ErrClosed {
				t.Errorf("TryPushBatch(nil) on closed: %d, %v, want 0, ErrClosed", n, err)
			}
			if q.Len() != 2 {
				t.Fatalf("Len() = %d after Close, want 2", q.Len())
			}
			if n, err := q.TryPopBatch(dst); n != 2 || err != nil || dst[0] != 2 || dst[1] != 3 {
				t.Errorf("TryPopBatch on closed = %d, %v, %v, want 2, nil, [2 3]", n, err, dst[:n])
			}
			if _, err := q.TryPop(); err != ErrClosed {
				t.Errorf("TryPop on closed, drained: %v, want ErrClosed", err)
			}
			if n, err := q.TryPopBatch(dst); n != 0 || err != ErrClosed {
				t.Errorf("TryPopBatch on closed, drained: %d, %v, want 0, ErrClosed", n, err)
			}
			if q.Len() != 0 || q.Cap() != 4 {
				t.Fatalf("Len, Cap = %d, %d, want 0, 4", q.Len(), q.Cap())
			}
		})
	}
}

// TestBlockingEmptyBatches checks the blocking batch forms with empty
// slices: they return at once, whatever the queue's state.
func TestBlockingEmptyBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	for _, k := range kinds {
		for _, state := range []string{"empty", "full", "closed"} {
			t.Run(k.name+"/"+state, func(t *testing.T) {
				q := k.new(t, 2)
				switch state {
				case "full":
					q.TryPush(1)
					q.TryPush(2)
				case "closed":
					q.Close()
				}
				if n, err := q.PopBatch(ctx, nil); n != 0 || err != nil {
					t.Errorf("PopBatch(nil) = %d, %v, want 0, nil", n, err)
				}
				var want error
				if state == "closed" {
					want = ErrClosed // as TryPushBatch(nil) reports
				}
				if n, err := q.PushBatch(ctx, nil); n != 0 || err != want {
					t.Errorf("PushBatch(nil) = %d, %v, want 0, %v", n, err, want)
				}
			})
		}
	}
}

// TestLenWrapAround checks Len and FIFO order while the positions run many
// laps around a small ring, with single and batch operations.
func TestLenWrapAround(t *testing.T) {
	for _, k := range kinds {
		for _, c := range []int{1, 2, 8} {
			t.Run(fmt.Sprintf("%s/cap%d", k.name, c), func(t *testing.T) {
				q := k.new(t, c)
				var next, want uint64
				dst := make([]uint64, q.Cap()+1)
				vs := make([]uint64, q.Cap()+1)
				for i := range 1000 {
					// Fill up, alternating single and batch pushes.
					for q.Len() < q.Cap() {
						if i%2 == 0 {
							if err := q.TryPush(next); err != nil {
								t.Fatal(err)
							}
							next++
							continue
						}
						for j := range vs {
							vs[j] = next + uint64(j)
						}
						free := q.Cap() - q.Len()
						n, err := q.TryPushBatch(vs)
						if err != nil || n != free {
							t.Fatalf("TryPushBatch(%d items) with %d free: %d, %v", len(vs), free, n, err)
						}
						next += uint64(n)
					}
					if q.Len() != q.Cap() {
						t.Fatalf("Len() = %d, want %d", q.Len(), q.Cap())
					}
					// Drain part or all of it.
					k := 1 + i%q.Cap()
					n, err := q.TryPopBatch(dst[:k])
					if n != k || err != nil {
						t.Fatalf("TryPopBatch(%d) = %d, %v", k, n, err)
					}
					for _, v := range dst[:n] {
						if v != want {
							t.Fatalf("popped %d, want %d", v, want)
						}
						want++
					}
					if q.Len() != q.Cap()-k {
						t.Fatalf("Len() = %d, want %d", q.Len(), q.Cap()-k)
					}
				}
			})
		}
	}
}
