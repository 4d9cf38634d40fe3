package ring

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCloseIdempotent(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := k.new(t, 4)
			if q.Closed() {
				t.Fatal("Closed() = true before Close")
			}
			if err := q.TryPush(1); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(q.Close)
			}
			wg.Wait()
			q.Close()
			if !q.Closed() {
				t.Fatal("Closed() = false after Close")
			}
			if n := q.Len(); n != 1 {
				t.Fatalf("Len() = %d after Close, want 1", n)
			}
			if v, err := q.TryPop(); v != 1 || err != nil {
				t.Fatalf("TryPop() = %d, %v, want 1, nil", v, err)
			}
			if _, err := q.TryPop(); err != ErrClosed {
				t.Fatalf("TryPop() on closed empty queue: %v, want ErrClosed", err)
			}
		})
	}
}

func TestPushAfterClose(t *testing.T) {
	ctx := context.Background()
	for _, k := range kinds {
		for _, full := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/full=%v", k.name, full), func(t *testing.T) {
				q := k.new(t, 4)
				want := 1
				if full {
					want = q.Cap()
				}
				for i := range want {
					if err := q.TryPush(uint64(i)); err != nil {
						t.Fatal(err)
					}
				}
				q.Close()
				if err := q.TryPush(100); err != ErrClosed {
					t.Errorf("TryPush: %v, want ErrClosed", err)
				}
				if err := q.Push(ctx, 100); err != ErrClosed {
					t.Errorf("Push: %v, want ErrClosed", err)
				}
				if n, err := q.TryPushBatch([]uint64{100, 101}); n != 0 || err != ErrClosed {
					t.Errorf("TryPushBatch: %d, %v, want 0, ErrClosed", n, err)
				}
				if n, err := q.PushBatch(ctx, []uint64{100, 101}); n != 0 || err != ErrClosed {
					t.Errorf("PushBatch: %d, %v, want 0, ErrClosed", n, err)
				}
				if n := q.Len(); n != want {
					t.Fatalf("Len() = %d, want %d: a push after Close landed", n, want)
				}
				for i := range want {
					if v, err := q.TryPop(); v != uint64(i) || err != nil {
						t.Fatalf("TryPop() = %d, %v, want %d, nil", v, err, i)
					}
				}
				if _, err := q.TryPop(); err != ErrClosed {
					t.Fatalf("TryPop() after drain: %v, want ErrClosed", err)
				}
			})
		}
	}
}

// TestCloseDrain fills a queue across its wrap-around point, closes it and
// drains it with each pop method: all items come out in order, then every
// method reports ErrClosed, repeatedly.
func TestCloseDrain(t *testing.T) {
	ctx := context.Background()
	methods := []string{"TryPop", "Pop", "TryPopBatch", "PopBatch"}
	for _, k := range kinds {
		for _, m := range methods {
			t.Run(k.name+"/"+m, func(t *testing.T) {
				q := k.new(t, 8)
				// Move head and tail past the end of the ring first.
				for i := range 5 {
					q.TryPush(uint64(i))
					q.TryPop()
				}
				for i := range 8 {
					if err := q.TryPush(uint64(i)); err != nil {
						t.Fatal(err)
					}
				}
				q.Close()
				var got []uint64
				dst := make([]uint64, 3)
				for len(got) < 8 {
					var n int
					var err error
					switch m {
					case "TryPop":
						dst[0], err = q.TryPop()
						n = 1
					case "Pop":
						dst[0], err = q.Pop(ctx)
						n = 1
					case "TryPopBatch":
						n, err = q.TryPopBatch(dst)
					case "PopBatch":
						n, err = q.PopBatch(ctx, dst)
					}
					if err != nil || n < 1 {
						t.Fatalf("%s after %d items: %d, %v", m, len(got), n, err)
					}
					got = append(got, dst[:n]...)
				}
				if want := []uint64{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
					t.Fatalf("drained %v, want %v", got, want)
				}
				for range 2 {
					if _, err := q.TryPop(); err != ErrClosed {
						t.Errorf("TryPop: %v, want ErrClosed", err)
					}
					if _, err := q.Pop(ctx); err != ErrClosed {
						t.Errorf("Pop: %v, want ErrClosed", err)
					}
					if n, err := q.TryPopBatch(dst); n != 0 || err != ErrClosed {
						t.Errorf("TryPopBatch: %d, %v, want 0, ErrClosed", n, err)
					}
					if n, err := q.PopBatch(ctx, dst); n != 0 || err != ErrClosed {
						t.Errorf("PopBatch: %d, %v, want 0, ErrClosed", n, err)
					}
				}
			})
		}
	}
}

// TestCloseWakesBlocked parks a goroutine in each blocking method and checks
// that Close wakes it with ErrClosed.
func TestCloseWakesBlocked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	type blocked struct {
		name     string
		producer bool
		run      func(q queue) (int, error)
		wantN    int
	}
	cases := []blocked{
		{"Push", true, func(q queue) (int, error) { return 0, q.Push(ctx, 99) }, 0},
		{"PushBatch", true, func(q queue) (int, error) { return q.PushBatch(ctx, []uint64{97, 98, 99}) }, 0},
		{"Pop", false, func(q queue) (int, error) { _, err := q.Pop(ctx); return 0, err }, 0},
		{"PopBatch", false, func(q queue) (int, error) { return q.PopBatch(ctx, make([]uint64, 4)) }, 0},
	}
	for _, k := range kinds {
		for _, c := range cases {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				q := k.new(t, 4)
				if c.producer {
					for i := range q.Cap() {
						q.TryPush(uint64(i))
					}
				}
				done := make(chan error, 1)
				go func() {
					n, err := c.run(q)
					if n != c.wantN {
						err = fmt.Errorf("n = %d, want %d (err %v)", n, c.wantN, err)
					}
					done <- err
				}()
				if c.producer {
					waitParked(t, q, 0, 1)
				} else {
					waitParked(t, q, 1, 0)
				}
				q.Close()
				if err := <-done; err != ErrClosed {
					t.Fatalf("%s woken by Close: %v, want ErrClosed", c.name, err)
				}
				waitParked(t, q, 0, 0)
				if c.producer && q.Len() != q.Cap() {
					t.Fatalf("Len() = %d, want %d", q.Len(), q.Cap())
				}
			})
		}
	}
}

// TestClosePushBatchPartial closes a queue while PushBatch waits with part
// of its batch pushed: it reports exactly the pushed prefix, and that prefix
// is what a consumer drains.
func TestClosePushBatchPartial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := k.new(t, 4)
			q.TryPush(0)
			q.TryPush(1)
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := q.PushBatch(ctx, []uint64{2, 3, 4, 5, 6})
				done <- result{n, err}
			}()
			waitParked(t, q, 0, 1)
			q.Close()
			r := <-done
			if r.n != 2 || r.err != ErrClosed {
				t.Fatalf("PushBatch = %d, %v, want 2, ErrClosed", r.n, r.err)
			}
			var got []uint64
			for {
				v, err := q.Pop(ctx)
				if err == ErrClosed {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if want := []uint64{0, 1, 2, 3}; !slices.Equal(got, want) {
				t.Fatalf("drained %v, want %v", got, want)
			}
		})
	}
}

// TestStressCloseRace closes queues while producers and consumers are in
// full swing, with every kind of operation. Every push that reported success
// must be popped exactly once; once a producer has seen ErrClosed every
// later push fails too; consumers end with ErrClosed only after the queue
// is drained.
func TestStressCloseRace(t *testing.T) {
	rounds := scaled(400)
	for _, k := range kinds {
		for _, capacity := range []int{1, 4, 64} {
			t.Run(fmt.Sprintf("%s/cap%d", k.name, capacity), func(t *testing.T) {
				producers, consumers := 3, 3
				if k.spsc {
					producers, consumers = 1, 1
				}
				for round := range rounds {
					closeRace(t, k.new(t, capacity), producers, consumers, rand.Uint64())
					if t.Failed() {
						t.Fatalf("round %d failed", round)
					}
				}
			})
		}
	}
}

func closeRace(t *testing.T, q queue, producers, consumers int, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	const perProducer = 200
	maxBatch := 2*q.Cap() + 1
	pushed := make([][]uint64, producers)   // values whose push succeeded
	rejected := make([][]uint64, producers) // values whose push returned ErrClosed
	popped := make([][]uint64, consumers)
	var started atomic.Int32
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(p)))
			started.Add(1)
			closed := false
			batch := make([]uint64, maxBatch)
			for seq := 0; seq < perProducer; {
				var ok, all []uint64
				var err error
				switch mode := rng.IntN(4); mode {
				case 0:
					v := stressValue(p, seq)
					seq++
					all = []uint64{v}
					if err = q.TryPush(v); err == nil {
						ok = all
					}
					if err == ErrFull {
						runtime.Gosched()
					}
				case 1:
					v := stressValue(p, seq)
					seq++
					all = []uint64{v}
					if err = q.Push(ctx, v); err == nil {
						ok = all
					}
				case 2, 3:
					k := 1 + rng.IntN(maxBatch)
					vs := batch[:k]
					for i := range vs {
						vs[i] = stressValue(p, seq+i)
					}
					seq += k
					var n int
					if mode == 2 {
						n, err = q.TryPushBatch(vs)
						if err == ErrFull {
							runtime.Gosched()
						}
					} else {
						n, err = q.PushBatch(ctx, vs)
						if err == nil && n != k {
							t.Errorf("PushBatch(%d items) = %d, nil", k, n)
						}
					}
					if n < 0 || n > k || (err != nil && err != ErrClosed && n != 0) {
						t.Errorf("batch push of %d = %d, %v", k, n, err)
						return
					}
					ok, all = vs[:n], vs
				}
				switch {
				case err == ErrClosed:
					closed = true
				case closed && len(ok) > 0:
					t.Errorf("producer %d: a push succeeded after an earlier one returned ErrClosed", p)
					return
				case err != nil && err != ErrFull:
					t.Errorf("producer %d: %v", p, err)
					return
				}
				pushed[p] = append(pushed[p], ok...)
				if err == ErrClosed {
					rejected[p] = append(rejected[p], all[len(ok):]...)
				}
			}
			if !closed {
				return
			}
			if err := q.TryPush(0); err != ErrClosed {
				t.Errorf("TryPush after ErrClosed: %v", err)
			}
		})
	}
	for c := range consumers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(100+c)))
			dst := make([]uint64, maxBatch)
			for {
				var n int
				var err error
				switch rng.IntN(4) {
				case 0:
					dst[0], err = q.TryPop()
					n = 1
					if err == ErrEmpty {
						n = 0
						runtime.Gosched()
					}
				case 1:
					dst[0], err = q.Pop(ctx)
					n = 1
				case 2:
					n, err = q.TryPopBatch(dst[:1+rng.IntN(maxBatch)])
					if err == ErrEmpty {
						runtime.Gosched()
					}
				case 3:
					n, err = q.PopBatch(ctx, dst[:1+rng.IntN(maxBatch)])
				}
				if err == ErrClosed {
					if !q.Closed() {
						t.Errorf("consumer %d: ErrClosed but Closed() = false", c)
					}
					if _, err := q.TryPop(); err != ErrClosed {
						t.Errorf("consumer %d: TryPop after ErrClosed: %v", c, err)
					}
					return
				}
				if err != nil && err != ErrEmpty {
					t.Errorf("consumer %d: %v", c, err)
					return
				}
				popped[c] = append(popped[c], dst[:n]...)
			}
		})
	}
	// Close at a random moment: before anything ran, mid-way, or late.
	rng := rand.New(rand.NewPCG(seed, 999))
	for range rng.IntN(3) * rng.IntN(200) {
		runtime.Gosched()
	}
	q.Close()
	if !q.Closed() {
		t.Error("Closed() = false after Close returned")
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	count := map[uint64]int{}
	for _, vs := range pushed {
		for _, v := range vs {
			count[v]++
		}
	}
	wasRejected := map[uint64]bool{}
	for _, vs := range rejected {
		for _, v := range vs {
			wasRejected[v] = true
		}
	}
	for _, vs := range popped {
		for _, v := range vs {
			p, seq := splitValue(v)
			switch {
			case wasRejected[v]:
				t.Fatalf("popped producer %d's item %d, whose push returned ErrClosed", p, seq)
			case count[v] != 1:
				t.Fatalf("popped producer %d's item %d, which was not pushed or was popped twice", p, seq)
			}
			count[v]--
		}
	}
	for v, n := range count {
		if n != 0 {
			p, seq := splitValue(v)
			t.Fatalf("producer %d's item %d was pushed but never popped", p, seq)
		}
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len() = %d after drain", n)
	}
}

// TestStressClosedEmptyPop races Close against a consumer that keeps
// popping from an empty queue. Once Closed() has reported true no item can
// ever arrive, so every later pop must report ErrClosed, not ErrEmpty. The
// consumer also calls Close itself once it sees Closed(): after its own
// Close has returned, ErrEmpty is wrong all the more.
func TestStressClosedEmptyPop(t *testing.T) {
	rounds := scaled(4000)
	for _, k := range kinds {
		for _, batch := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/batch=%v", k.name, batch), func(t *testing.T) {
				var afterClosed, afterClose, badRounds int
				dst := make([]uint64, 2)
				for range rounds {
					q := k.new(t, 4)
					var wg sync.WaitGroup
					wg.Go(q.Close)
					closedCalled := false
					bad := 0
					for {
						closed := q.Closed()
						var err error
						if batch {
							_, err = q.TryPopBatch(dst)
						} else {
							_, err = q.TryPop()
						}
						if err == ErrClosed {
							break
						}
						if err != ErrEmpty {
							t.Fatalf("pop from an empty queue: %v", err)
						}
						switch {
						case closedCalled:
							afterClose++
							bad++
						case closed:
							afterClosed++
							bad++
						}
						if closed && !closedCalled {
							q.Close()
							closedCalled = true
						}
					}
					wg.Wait()
					if bad > 0 {
						badRounds++
					}
				}
				if badRounds > 0 {
					t.Errorf("in %d of %d rounds, pops from an empty queue returned ErrEmpty after Closed() reported true "+
						"(%d times) and after the consumer's own Close() returned (%d times)",
						badRounds, rounds, afterClosed, afterClose)
				}
			})
		}
	}
}

// TestStressClosePushOutcome races one push against Close and a consumer
// that drains the queue, many times: the push must report success exactly
// when its items are delivered. A background garbage collector stops the
// goroutines at arbitrary instructions, which stretches the moment between
// a push publishing its items and settling its outcome against Close.
func TestStressClosePushOutcome(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	var stop atomic.Bool
	var gc sync.WaitGroup
	gc.Go(func() {
		for !stop.Load() {
			runtime.GC()
		}
	})
	defer gc.Wait()
	defer stop.Store(true)

	pushes := []struct {
		name string
		push func(q queue) (int, error)
	}{
		{"Push", func(q queue) (int, error) { return countPush(q.Push(ctx, 7)) }},
		{"TryPush", func(q queue) (int, error) { return countPush(q.TryPush(7)) }},
		{"PushBatch", func(q queue) (int, error) { return q.PushBatch(ctx, []uint64{7, 8}) }},
		{"TryPushBatch", func(q queue) (int, error) { return q.TryPushBatch([]uint64{7, 8}) }},
	}
	rounds := scaled(40_000)
	for _, k := range kinds {
		for _, p := range pushes {
			t.Run(k.name+"/"+p.name, func(t *testing.T) {
				bad := 0
				for range rounds {
					q := k.new(t, 2)
					var n int
					var err error
					var wg sync.WaitGroup
					wg.Go(func() { n, err = p.push(q) })
					wg.Go(q.Close)
					popped := 0
					for {
						_, perr := q.Pop(ctx)
						if perr == ErrClosed {
							break
						}
						if perr != nil {
							t.Fatal(perr)
						}
						popped++
					}
					wg.Wait()
					if err != nil && err != ErrClosed {
						t.Fatalf("push: %v", err)
					}
					if popped != n {
						bad++
						if bad == 1 {
							t.Errorf("push returned %d, %v, but %d items were popped", n, err, popped)
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d rounds: the push's result disagreed with what was delivered", bad, rounds)
				}
			})
		}
	}
}

// countPush turns a single push's result into an item count.
func countPush(err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return 1, nil
}
