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

// Between claiming a position and publishing its slot, an MPMC producer can
// be descheduled; so can a consumer between claiming an item and freeing its
// slot. The tests here oversubscribe the processors (more Ps than cores, so
// the OS preempts threads at arbitrary instructions) and yield at random, to
// catch the queues in those windows.

// oversubscribe raises GOMAXPROCS to 8 for the rest of the test.
func oversubscribe(t *testing.T) {
	prev := runtime.GOMAXPROCS(8)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

func TestStressSlowProducers(t *testing.T) {
	oversubscribe(t)
	for _, c := range []int{2, 16, 256} {
		for _, pc := range [][2]int{{16, 4}, {4, 16}} {
			t.Run(fmt.Sprintf("%dP%dC/cap%d", pc[0], pc[1], c), func(t *testing.T) {
				q, _ := NewMPMC[uint64](c)
				runStress(t, q, stressRun{
					producers:   pc[0],
					consumers:   pc[1],
					perProducer: scaled(400_000) / pc[0],
					preempt:     true,
				})
			})
		}
	}
}

// TestStressNoFalseEmpty checks that TryPop and TryPopBatch never report
// ErrEmpty while an item whose push has returned is still queued. Producers
// count their completed pushes after each returns; the single consumer reads
// that count before each pop, so if the count exceeds what it has popped, an
// item is queued for the whole pop and ErrEmpty is wrong. Other producers'
// claimed-but-unpublished slots may sit ahead of that item.
func TestStressNoFalseEmpty(t *testing.T) {
	oversubscribe(t)
	for _, k := range kinds {
		producers := 12
		if k.spsc {
			producers = 1
		}
		for _, c := range []int{2, 64} {
			t.Run(fmt.Sprintf("%s/%dP1C/cap%d", k.name, producers, c), func(t *testing.T) {
				noFalseEmpty(t, k.new(t, c), producers, scaled(300_000)/producers)
			})
		}
	}
}

func noFalseEmpty(t *testing.T, q queue, producers, perProducer int) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout*2)
	defer cancel()
	var completed atomic.Int64
	seed := rand.Uint64()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(p)))
			batch := make([]uint64, 3)
			for seq := 0; seq < perProducer; {
				if rng.IntN(8) == 0 {
					runtime.Gosched()
				}
				var n int
				var err error
				switch rng.IntN(3) {
				case 0:
					if err = q.Push(ctx, stressValue(p, seq)); err == nil {
						n = 1
					}
				case 1:
					if err = q.TryPush(stressValue(p, seq)); err == nil {
						n = 1
					}
				default:
					k := min(1+rng.IntN(len(batch)), perProducer-seq)
					for i := range k {
						batch[i] = stressValue(p, seq+i)
					}
					n, err = q.TryPushBatch(batch[:k])
				}
				if err == ErrFull {
					runtime.Gosched()
					continue
				}
				if err != nil {
					t.Errorf("producer %d: %v", p, err)
					q.Close()
					return
				}
				seq += n
				completed.Add(int64(n))
			}
		})
	}

	total := producers * perProducer
	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	dst := make([]uint64, 4)
	falseEmpty := 0
	for popped := 0; popped < total; {
		if ctx.Err() != nil {
			t.Fatalf("popped %d of %d items before the deadline", popped, total)
		}
		done := completed.Load()
		var n int
		var err error
		if popped%2 == 0 {
			dst[0], err = q.TryPop()
			n = 1
		} else {
			n, err = q.TryPopBatch(dst)
		}
		if err == ErrEmpty {
			if int64(popped) < done {
				falseEmpty++
			}
			runtime.Gosched()
			continue
		}
		if err != nil {
			t.Fatalf("pop: %v", err)
		}
		for _, v := range dst[:n] {
			p, seq := splitValue(v)
			if p >= producers || seq != last[p]+1 {
				t.Fatalf("popped producer %d's item %d after its item %d", p, seq, last[p])
			}
			last[p] = seq
		}
		popped += n
	}
	wg.Wait()
	if falseEmpty > 0 {
		t.Fatalf("%d pops reported ErrEmpty while a pushed item was queued", falseEmpty)
	}
	q.Close()
	if _, err := q.TryPop(); err != ErrClosed {
		t.Fatalf("TryPop after draining: %v, want ErrClosed", err)
	}
}

// TestStressNoFalseFull is the mirror image: TryPush and TryPushBatch never
// report ErrFull while fewer than Cap() items are queued. Consumers count
// their completed pops; the single producer reads that count before each
// push, so if it has pushed fewer than Cap() items more than that, a slot is
// free for the whole push. Other consumers' claimed-but-unfreed slots may
// sit ahead of it.
func TestStressNoFalseFull(t *testing.T) {
	oversubscribe(t)
	for _, k := range kinds {
		consumers := 12
		if k.spsc {
			consumers = 1
		}
		for _, c := range []int{2, 64} {
			t.Run(fmt.Sprintf("%s/1P%dC/cap%d", k.name, consumers, c), func(t *testing.T) {
				noFalseFull(t, k.new(t, c), consumers, scaled(300_000))
			})
		}
	}
}

func noFalseFull(t *testing.T, q queue, consumers, total int) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout*2)
	defer cancel()
	var completed atomic.Int64
	seed := rand.Uint64()
	received := make([]int, consumers)
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			dst := make([]uint64, 3)
			last := -1
			for {
				if rng.IntN(8) == 0 {
					runtime.Gosched()
				}
				var n int
				var err error
				switch rng.IntN(3) {
				case 0:
					dst[0], err = q.Pop(ctx)
					n = 1
				case 1:
					dst[0], err = q.TryPop()
					n = 1
				default:
					n, err = q.TryPopBatch(dst[:1+rng.IntN(len(dst))])
				}
				if err == ErrEmpty {
					runtime.Gosched()
					continue
				}
				if err == ErrClosed {
					return
				}
				if err != nil {
					t.Errorf("consumer %d: %v", c, err)
					return
				}
				for _, v := range dst[:n] {
					if int(v) <= last {
						t.Errorf("consumer %d: popped %d after %d", c, v, last)
						return
					}
					last = int(v)
				}
				received[c] += n
				completed.Add(int64(n))
			}
		})
	}

	rng := rand.New(rand.NewPCG(seed, 999))
	batch := make([]uint64, 3)
	falseFull := 0
	for pushed := 0; pushed < total; {
		if ctx.Err() != nil {
			t.Errorf("pushed %d of %d items before the deadline", pushed, total)
			break
		}
		done := completed.Load()
		var n int
		var err error
		if rng.IntN(2) == 0 {
			if err = q.TryPush(uint64(pushed)); err == nil {
				n = 1
			}
		} else {
			k := min(1+rng.IntN(len(batch)), total-pushed)
			for i := range k {
				batch[i] = uint64(pushed + i)
			}
			n, err = q.TryPushBatch(batch[:k])
		}
		if err == ErrFull {
			if int64(pushed)-done < int64(q.Cap()) {
				falseFull++
			}
			runtime.Gosched()
			continue
		}
		if err != nil {
			t.Errorf("push: %v", err)
			break
		}
		pushed += n
	}
	q.Close()
	wg.Wait()
	if falseFull > 0 {
		t.Fatalf("%d pushes reported ErrFull while a slot was free", falseFull)
	}
	sum := 0
	for _, n := range received {
		sum += n
	}
	if !t.Failed() && sum != total {
		t.Fatalf("consumers received %d items, want %d", sum, total)
	}
}
