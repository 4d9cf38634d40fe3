package pipeline

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestStats checks the counters while a pipeline runs and at the end.
func TestStats(t *testing.T) {
	p := mustNew(t, Options{Capacity: 256, Batch: 32})
	n := 20_000
	a := Map(FromSlice(p, "src", ints(n)), "double", 1, func(_ context.Context, v int) (int, error) { return 2 * v, nil })
	h := Filter(a, "half", 2, func(_ context.Context, v int) (bool, error) { return v%4 == 0, nil })
	b := Tap(h, "tap", 2, func(context.Context, int) error { return nil })
	c := OrderedMap(b, "slow", 2, func(_ context.Context, v int) (int, error) {
		spin(time.Microsecond)
		return v, nil
	})
	if st := p.Stats(); len(st) != 5 || st[0].Name != "src" || st[4].Out != 0 {
		t.Fatalf("before the run: %+v", st)
	}
	var mid []StageStats
	count := 0
	err := ForEach(context.Background(), c, func(int) error {
		if count++; count == n/4 {
			mid = p.Stats()
			time.Sleep(time.Millisecond) // let the queues fill behind the sink
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if mid[4].Out < uint64(n/4) || mid[4].Out > uint64(n/2) {
		t.Errorf("midway, slow has emitted %d items", mid[4].Out)
	}
	if mid[0].Elapsed <= 0 || mid[4].Throughput <= 0 {
		t.Errorf("midway: %+v", mid[4])
	}
	end := p.Stats()
	want := []struct {
		name    string
		in, out uint64
		fused   bool
	}{
		{"src", 0, uint64(n), false},
		{"double", uint64(n), uint64(n), false},
		{"half", uint64(n), uint64(n / 2), false},
		{"tap", uint64(n / 2), uint64(n / 2), true},
		{"slow", uint64(n / 2), uint64(n / 2), true},
	}
	for i, w := range want {
		s := end[i]
		if s.Name != w.name || s.In != w.in || s.Out != w.out || s.Fused != w.fused {
			t.Errorf("stage %d: %+v, want %+v", i, s, w)
		}
		if s.Queue > s.QueueCap {
			t.Errorf("%s: queue %d of %d", s.Name, s.Queue, s.QueueCap)
		}
		t.Logf("%+v", s)
	}
	// double reads a queue; half, fed by double alone, is dealt its
	// batches by double's goroutine; tap is fused into half.
	if end[1].QueueCap != 256 || end[2].QueueCap != 0 || end[3].QueueCap != 0 {
		t.Errorf("queue capacities %d, %d, %d", end[1].QueueCap, end[2].QueueCap, end[3].QueueCap)
	}
	if end[4].Busy < time.Duration(n/2)*time.Microsecond/2 {
		t.Errorf("slow was busy %v for %d items of 1µs", end[4].Busy, n/2)
	}
	// Busy time excludes the time spent handing on: double's busy time
	// and its output wait are apart.
	if s := end[1]; s.Busy+s.WaitOut > s.Elapsed {
		t.Errorf("double: busy %v + waiting %v > elapsed %v", s.Busy, s.WaitOut, s.Elapsed)
	}
	if end[0].Elapsed != p.Stats()[0].Elapsed {
		t.Error("the elapsed time still moves after the run")
	}
	if end[4].Workers != 2 || end[4].Kind != "map" {
		t.Errorf("%+v", end[4])
	}
}

// TestStatsWaits: a slow sink shows as the stages' output wait, a slow
// source as the next stage's input wait.
func TestStatsWaits(t *testing.T) {
	p := mustNew(t, Options{Capacity: 16, Batch: 4, NoFusion: true})
	a := Map(FromSlice(p, "src", ints(400)), "m", 1, ident[int])
	err := ForEach(context.Background(), a, func(int) error {
		time.Sleep(20 * time.Microsecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st[0].WaitOut == 0 || st[1].WaitOut == 0 {
		t.Errorf("no backpressure seen: %+v", st)
	}

	p = mustNew(t, Options{})
	slow := Generate(p, "slow", func(_ context.Context, emit func(int) error) error {
		for i := range 20 {
			time.Sleep(100 * time.Microsecond)
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := Collect(context.Background(), Map(Batch(slow, "b", 1, 1, 0), "m", 2, func(_ context.Context, g []int) (int, error) { return g[0], nil })); err != nil {
		t.Fatal(err)
	}
	// m's two workers wait for the groups of one item each.
	if st := p.Stats(); st[2].WaitIn == 0 {
		t.Errorf("no input wait seen: %+v", st[2])
	}
}

// TestLabels: stage functions run under the pprof label stage=NAME, on
// the goroutine (for CPU profiles) and in their context.
func TestLabels(t *testing.T) {
	p := mustNew(t, Options{})
	inside := make(chan struct{})
	release := make(chan struct{})
	var ctxLabel string
	m := Map(FromSlice(p, "src", ints(3)), "labelled", 2, func(ctx context.Context, v int) (int, error) {
		if v == 0 {
			ctxLabel, _ = pprof.Label(ctx, "stage")
			close(inside)
			<-release
		}
		return v, nil
	})
	done := make(chan error)
	go func() {
		_, err := Collect(context.Background(), m)
		done <- err
	}()
	<-inside
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ctxLabel != "labelled" {
		t.Errorf("the context's stage label is %q", ctxLabel)
	}
	if !strings.Contains(buf.String(), `"stage":"labelled"`) {
		t.Errorf("no goroutine labelled stage=labelled in\n%s", buf.String())
	}
}
