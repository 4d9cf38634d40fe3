package pipeline

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestBatchBySize cuts a stream into groups of the given size, the last
// one short, in order, and Unbatch restores the stream.
func TestBatchBySize(t *testing.T) {
	for _, c := range configs {
		for _, size := range []int{1, 3, 7, 128, 1000} {
			p := newPipeline(t, c)
			n := 1001
			groups, err := Collect(context.Background(), Batch(FromSlice(p, "src", ints(n)), "batch", 1, size, 0))
			if err != nil {
				t.Fatal(err)
			}
			next := 0
			for i, g := range groups {
				want := min(size, n-next)
				if len(g) != want {
					t.Fatalf("%s size %d: group %d has %d items, want %d", c.name, size, i, len(g), want)
				}
				for _, v := range g {
					if v != next {
						t.Fatalf("%s size %d: got %d, want %d", c.name, size, v, next)
					}
					next++
				}
			}
			if next != n {
				t.Fatalf("%s size %d: %d items, want %d", c.name, size, next, n)
			}

			p = newPipeline(t, c)
			flat, err := Collect(context.Background(), Unbatch(Batch(FromSlice(p, "src", ints(n)), "batch", 1, size, 0), "unbatch", 1))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flat, ints(n)) {
				t.Fatalf("%s size %d: Unbatch(Batch(xs)) != xs", c.name, size)
			}
		}
	}
}

// TestBatchGroupsOwned: each group is a slice of its own.
func TestBatchGroupsOwned(t *testing.T) {
	p := mustNew(t, Options{})
	groups, err := Collect(context.Background(), Batch(FromSlice(p, "src", ints(100)), "b", 1, 10, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range groups {
		g[0] = -1
		if i+1 < len(groups) && groups[i+1][0] == -1 {
			t.Fatal("groups share memory")
		}
	}
}

// timed is a group and when (on the bubble's clock) it arrived.
type timed struct {
	at time.Duration
	g  []int
}

// chanQueue is a queue over a channel, for the timer tests: inside a
// synctest bubble a goroutine blocked on a channel of the bubble is
// durably blocked, so fake time advances. (A ring parks on channels it
// recycles across tests, which a bubble cannot count on.)
type chanQueue[T any] struct{ ch chan T }

func (q *chanQueue[T]) TryPopBatch(dst []T) (int, error) {
	n := 0
	for n < len(dst) {
		select {
		case v, ok := <-q.ch:
			if !ok {
				if n == 0 {
					return 0, errClosed
				}
				return n, nil
			}
			dst[n] = v
			n++
		default:
			if n == 0 {
				return 0, errEmpty
			}
			return n, nil
		}
	}
	return n, nil
}

func (q *chanQueue[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	select {
	case v, ok := <-q.ch:
		if !ok {
			return 0, errClosed
		}
		dst[0] = v
		k, _ := q.TryPopBatch(dst[1:])
		return 1 + k, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (q *chanQueue[T]) TryPushBatch([]T) (int, error)               { panic("unused") }
func (q *chanQueue[T]) PushBatch(context.Context, []T) (int, error) { panic("unused") }
func (q *chanQueue[T]) Close()                                      { panic("unused") }
func (q *chanQueue[T]) Len() int                                    { return len(q.ch) }
func (q *chanQueue[T]) Cap() int                                    { return cap(q.ch) }

// recorder is an emitter that records when each group arrives.
type recorder struct {
	start time.Time
	got   []timed
	ended bool
}

func (r *recorder) put(_ context.Context, gs [][]int) error {
	for _, g := range gs {
		r.got = append(r.got, timed{time.Since(r.start), g})
	}
	return nil
}

func (r *recorder) end(context.Context) error {
	r.ended = true
	return nil
}

// runTimed runs, inside a synctest bubble, the loop of a Batch(size,
// maxWait) worker over a queue fed by feed, recording when each group
// comes out.
func runTimed(t *testing.T, size int, maxWait time.Duration, feed func(ch chan<- int)) []timed {
	var got []timed
	synctest.Test(t, func(t *testing.T) {
		q := &chanQueue[int]{ch: make(chan int)}
		go func() {
			feed(q.ch)
			close(q.ch)
		}()
		p := mustNew(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p.ctx, p.cancel, p.t0 = ctx, cancel, time.Now()
		n := p.addNode("batch", "batch", 1)
		n.ctx = ctx
		w := n.worker(&runner{cur: n}, 0)
		rec := &recorder{start: time.Now()}
		op := &batchOp[int]{w: w, size: size, wait: maxWait, o: newOut[[]int](w, rec)}
		if err := runHead(ctx, w, &edge[int]{q: q}, op); err != nil {
			t.Fatal(err)
		}
		if !rec.ended {
			t.Fatal("the stream was not ended")
		}
		got = rec.got
	})
	return got
}

func checkTimed(t *testing.T, got, want []timed) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d groups %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i].at != want[i].at || !slices.Equal(got[i].g, want[i].g) {
			t.Fatalf("group %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestBatchByTime: a partial group goes out maxWait after its first item
// arrived, measured on a fake clock.
func TestBatchByTime(t *testing.T) {
	got := runTimed(t, 10, 20*time.Millisecond, func(ch chan<- int) {
		for i := range 3 {
			ch <- i
		}
		time.Sleep(50 * time.Millisecond)
		ch <- 3
		time.Sleep(5 * time.Millisecond)
		ch <- 4
		time.Sleep(100 * time.Millisecond)
	})
	checkTimed(t, got, []timed{
		{20 * time.Millisecond, []int{0, 1, 2}},
		{70 * time.Millisecond, []int{3, 4}}, // 20ms after item 3 arrived at 50ms
	})
}

// TestBatchSizeBeforeTime: a group that fills goes out at once; the rest
// waits for the timer; the end of the input flushes what is left.
func TestBatchSizeBeforeTime(t *testing.T) {
	got := runTimed(t, 4, 30*time.Millisecond, func(ch chan<- int) {
		for i := range 6 {
			ch <- i
		}
		time.Sleep(40 * time.Millisecond)
		ch <- 6
		time.Sleep(10 * time.Millisecond)
	})
	checkTimed(t, got, []timed{
		{0, []int{0, 1, 2, 3}},
		{30 * time.Millisecond, []int{4, 5}},
		{50 * time.Millisecond, []int{6}}, // the input ended first
	})
}

// TestBatchTimerSteadyTrickle: items that keep arriving more slowly than a
// group fills still go out on time, never later than maxWait after the
// group's first item.
func TestBatchTimerSteadyTrickle(t *testing.T) {
	got := runTimed(t, 100, 25*time.Millisecond, func(ch chan<- int) {
		for i := range 10 {
			ch <- i
			time.Sleep(10 * time.Millisecond)
		}
	})
	checkTimed(t, got, []timed{
		{25 * time.Millisecond, []int{0, 1, 2}},
		{55 * time.Millisecond, []int{3, 4, 5}},
		{85 * time.Millisecond, []int{6, 7, 8}},
		{100 * time.Millisecond, []int{9}},
	})
}

// TestBatchByTimeLive runs Batch with a timer in a real pipeline: a
// partial group comes out while the source is still waiting (the test
// waits for it before sending more, so only the timer can release it).
func TestBatchByTimeLive(t *testing.T) {
	p := mustNew(t, Options{})
	ch := make(chan int)
	arrived := make(chan []int)
	go func() {
		defer close(ch)
		for round := range 3 {
			for i := range 3 {
				ch <- 3*round + i
			}
			select {
			case <-arrived:
			case <-time.After(hangTimeout):
				return // the test fails below
			}
		}
	}()
	var groups [][]int
	err := ForEach(context.Background(), Batch(FromChan(p, "src", ch), "batch", 1, 100, time.Millisecond), func(g []int) error {
		groups = append(groups, g)
		arrived <- g
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}
	if !slices.EqualFunc(groups, want, slices.Equal) {
		t.Fatalf("groups %v, want %v", groups, want)
	}
}
