package pipeline

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
)

// TestReorderWindow holds the first item of an ordered stage: the other
// workers go on with at most Window-1 batches, then wait, so what waits to
// be emitted in order is bounded.
func TestReorderWindow(t *testing.T) {
	const window = 4
	for _, onSched := range []bool{false, true} {
		opt := Options{Batch: 1, Window: window}
		if onSched {
			s, err := sched.New(sched.Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			opt.Scheduler = s
		}
		p := mustNew(t, opt)
		release := make(chan struct{})
		var done atomic.Int64
		m := OrderedMap(FromSlice(p, "src", ints(100)), "om", 2, func(_ context.Context, v int) (int, error) {
			if v == 0 {
				<-release
			} else {
				done.Add(1)
			}
			return v, nil
		})
		result := make(chan []int)
		go func() {
			got, err := Collect(context.Background(), m)
			if err != nil {
				t.Error(err)
			}
			result <- got
		}()
		deadline := time.Now().Add(hangTimeout)
		for done.Load() < window-1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // room for a bug to run ahead
		if k := done.Load(); k != window-1 {
			t.Errorf("sched=%v: %d items processed behind a held one, want %d", onSched, k, window-1)
		}
		close(release)
		got := <-result
		for i, v := range got {
			if v != i {
				t.Fatalf("item %d is %d", i, v)
			}
		}
		if len(got) != 100 {
			t.Fatalf("%d items", len(got))
		}
	}
}

// TestRunsOnScheduler: a parallel stage's batches run as the scheduler's
// tasks.
func TestRunsOnScheduler(t *testing.T) {
	s, err := sched.New(sched.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.Stats().Done
	p := mustNew(t, Options{Scheduler: s, Batch: 10})
	if _, err := Collect(context.Background(), Map(FromSlice(p, "src", ints(1000)), "m", 2, ident[int])); err != nil {
		t.Fatal(err)
	}
	if tasks := s.Stats().Done - before; tasks < 100 {
		t.Fatalf("%d tasks ran on the scheduler for 100 batches", tasks)
	}
}

// TestWindowOne: a window of one batch still runs every stage (one batch
// in flight at a time), on goroutines and on a scheduler.
func TestWindowOne(t *testing.T) {
	for _, sch := range []bool{false, true} {
		c := config{name: "w1", opt: Options{Window: 1, Batch: 3}, sch: sch}
		p := newPipeline(t, c)
		got, err := Collect(context.Background(), OrderedMap(Map(FromSlice(p, "src", ints(1000)), "m", 2, ident[int]), "om", 3, ident[int]))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if !slices.Equal(got, ints(1000)) {
			t.Fatal("lost items")
		}
	}
}
