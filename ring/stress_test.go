package ring

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Stress values carry their producer in the high 32 bits and the producer's
// sequence number in the low 32.
func stressValue(p, seq int) uint64 { return uint64(p)<<32 | uint64(seq) }

func splitValue(v uint64) (p, seq int) { return int(v >> 32), int(v & (1<<32 - 1)) }

// stressRun describes one exactly-once run.
type stressRun struct {
	producers, consumers int
	perProducer          int  // items each producer pushes
	preempt              bool // yield at random between operations
}

// runStress drives q with the run's producers and consumers, each switching
// at random between blocking, non-blocking (retried) and batch operations
// with batch sizes up to twice the capacity. Once every producer is done it
// closes q, and the consumers drain it until ErrClosed. It then checks that
// every value was delivered exactly once, and that each consumer saw each
// producer's values in the order they were pushed.
func runStress(t *testing.T, q queue, r stressRun) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout*4)
	defer cancel()

	var failed atomic.Bool
	fail := func(format string, args ...any) {
		if failed.CompareAndSwap(false, true) {
			t.Errorf(format, args...)
			q.Close() // release everyone
			cancel()
		}
	}
	maxBatch := 2*q.Cap() + 3
	seed := rand.Uint64()

	var producers sync.WaitGroup
	for p := range r.producers {
		producers.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(p)))
			batch := make([]uint64, maxBatch)
			seq := 0
			for seq < r.perProducer && !failed.Load() {
				if r.preempt && rng.IntN(4) == 0 {
					runtime.Gosched()
				}
				mode := rng.IntN(4)
				// Single-item modes run for a random stretch of items.
				stretch := min(1+rng.IntN(64), r.perProducer-seq)
				switch mode {
				case 0:
					for range stretch {
						if err := q.Push(ctx, stressValue(p, seq)); err != nil {
							fail("producer %d: Push(%d): %v", p, seq, err)
							return
						}
						seq++
					}
				case 1:
					for range stretch {
						for {
							err := q.TryPush(stressValue(p, seq))
							if err == nil {
								break
							}
							if err != ErrFull || ctx.Err() != nil {
								fail("producer %d: TryPush(%d): %v (ctx %v)", p, seq, err, ctx.Err())
								return
							}
							runtime.Gosched()
						}
						seq++
					}
				case 2, 3:
					k := min(1+rng.IntN(maxBatch), r.perProducer-seq)
					vs := batch[:k]
					for i := range vs {
						vs[i] = stressValue(p, seq+i)
					}
					if mode == 2 {
						n, err := q.PushBatch(ctx, vs)
						if n != k || err != nil {
							fail("producer %d: PushBatch(%d items) = %d, %v", p, k, n, err)
							return
						}
					} else {
						for len(vs) > 0 {
							n, err := q.TryPushBatch(vs)
							switch {
							case err == nil && n >= 1 && n <= len(vs):
								vs = vs[n:]
							case err == ErrFull && n == 0 && ctx.Err() == nil:
								runtime.Gosched()
							default:
								fail("producer %d: TryPushBatch(%d items) = %d, %v (ctx %v)", p, len(vs), n, err, ctx.Err())
								return
							}
						}
					}
					seq += k
				}
			}
		})
	}

	received := make([][]uint64, r.consumers)
	var consumers sync.WaitGroup
	for c := range r.consumers {
		consumers.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(1000+c)))
			dst := make([]uint64, maxBatch)
			last := make([]int, r.producers)
			for i := range last {
				last[i] = -1
			}
			got := make([]uint64, 0, r.producers*r.perProducer/r.consumers+1)
			record := func(vs ...uint64) bool {
				for _, v := range vs {
					p, seq := splitValue(v)
					if p >= r.producers || seq >= r.perProducer {
						fail("consumer %d: popped unknown value %#x", c, v)
						return false
					}
					if seq <= last[p] {
						fail("consumer %d: producer %d's item %d popped after its item %d", c, p, seq, last[p])
						return false
					}
					last[p] = seq
				}
				got = append(got, vs...)
				return true
			}
			defer func() { received[c] = got }()
			for {
				if r.preempt && rng.IntN(4) == 0 {
					runtime.Gosched()
				}
				switch mode := rng.IntN(4); mode {
				case 0:
					v, err := q.Pop(ctx)
					if err == ErrClosed {
						return
					}
					if err != nil {
						fail("consumer %d: Pop: %v", c, err)
						return
					}
					if !record(v) {
						return
					}
				case 1:
					v, err := q.TryPop()
					switch {
					case err == ErrClosed:
						return
					case err == ErrEmpty && ctx.Err() == nil:
						runtime.Gosched()
					case err != nil:
						fail("consumer %d: TryPop: %v (ctx %v)", c, err, ctx.Err())
						return
					case !record(v):
						return
					}
				case 2, 3:
					k := 1 + rng.IntN(maxBatch)
					var n int
					var err error
					if mode == 2 {
						n, err = q.PopBatch(ctx, dst[:k])
					} else {
						n, err = q.TryPopBatch(dst[:k])
					}
					switch {
					case err == ErrClosed && n == 0:
						return
					case err == ErrEmpty && n == 0 && mode == 3 && ctx.Err() == nil:
						runtime.Gosched()
					case err != nil || n < 1 || n > k:
						fail("consumer %d: batch pop of %d (mode %d) = %d, %v (ctx %v)", c, k, mode, n, err, ctx.Err())
						return
					case !record(dst[:n]...):
						return
					}
				}
			}
		})
	}

	producers.Wait()
	q.Close()
	consumers.Wait()
	if failed.Load() {
		return
	}

	seen := make([][]uint8, r.producers)
	for p := range seen {
		seen[p] = make([]uint8, r.perProducer)
	}
	total := 0
	for _, got := range received {
		total += len(got)
		for _, v := range got {
			p, seq := splitValue(v)
			if seen[p][seq]++; seen[p][seq] > 1 {
				t.Fatalf("producer %d's item %d delivered more than once", p, seq)
			}
		}
	}
	for p := range seen {
		for seq, n := range seen[p] {
			if n != 1 {
				t.Fatalf("producer %d's item %d delivered %d times", p, seq, n)
			}
		}
	}
	if want := r.producers * r.perProducer; total != want {
		t.Fatalf("delivered %d items, want %d", total, want)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len() = %d after drain, want 0", n)
	}
	if c, p := waiters(q); c != 0 || p != 0 {
		t.Fatalf("%d consumers and %d producers still registered after the run", c, p)
	}
}

// stressCapacities are used by every configuration: tiny rings force the
// full and empty paths nearly every operation, 1024 lets batches run.
var stressCapacities = []int{2, 8, 64, 1024}

// stressItems is the number of items a configuration moves at each
// capacity, before scaling.
func stressItems(capacity int) int {
	if capacity < 64 {
		return 1_000_000
	}
	return 2_000_000
}

func TestStressSPSC(t *testing.T) {
	for _, c := range append([]int{1}, stressCapacities...) {
		t.Run(fmt.Sprintf("1P1C/cap%d", c), func(t *testing.T) {
			q, _ := NewSPSC[uint64](c)
			runStress(t, q, stressRun{producers: 1, consumers: 1, perProducer: scaled(stressItems(c))})
		})
	}
}

func TestStressMPMC(t *testing.T) {
	for _, pc := range [][2]int{{1, 1}, {2, 2}, {4, 4}, {8, 1}, {1, 8}} {
		for _, c := range stressCapacities {
			t.Run(fmt.Sprintf("%dP%dC/cap%d", pc[0], pc[1], c), func(t *testing.T) {
				q, _ := NewMPMC[uint64](c)
				runStress(t, q, stressRun{
					producers:   pc[0],
					consumers:   pc[1],
					perProducer: scaled(stressItems(c)) / pc[0],
				})
			})
		}
	}
}
