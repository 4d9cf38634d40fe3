package worker

import (
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func healthTestMonitor(t *testing.T, opt HealthOptions) *HealthMonitor {
	t.Helper()
	m, err := NewHealthMonitor(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func healthMustRegister(t *testing.T, m *HealthMonitor, name string) *TaskRecorder {
	t.Helper()
	r, err := m.Register(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHealthMetricsCounts(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{})
	a, b := healthMustRegister(t, m, "a"), healthMustRegister(t, m, "b")
	// a: 90 tasks of 1..90 ms, every 10th failed; b: 10 tasks of 100ms.
	var sum time.Duration
	for i := 1; i <= 90; i++ {
		d := time.Duration(i) * time.Millisecond
		a.Observe(d, i%10 != 0)
		sum += d
	}
	for range 10 {
		m.RecordTask(b, time.Now().Add(-100*time.Millisecond), true)
		sum += 100 * time.Millisecond
	}
	mt := m.Metrics()
	if mt.TotalTasks != 100 || mt.FailedTasks != 9 || mt.SuccessfulTasks != 91 || mt.SuccessRate != 0.91 {
		t.Fatalf("counts: %+v", mt)
	}
	if mt.ActiveWorkers != 2 || mt.HealthyWorkers != 2 || mt.BusyWorkers != 0 {
		t.Fatalf("workers: %+v", mt)
	}
	// b's durations are measured from time.Now, so at least 100ms each.
	if mt.MaxTaskTime < 100*time.Millisecond || mt.AvgTaskTime < sum/100 {
		t.Fatalf("times: %+v (want avg ≥ %v)", mt, sum/100)
	}
	within := func(name string, got, want time.Duration) {
		t.Helper()
		if d := got - want; d < -want/30 || d > want/30 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	within("p50", mt.P50TaskTime, 50*time.Millisecond)
	within("p90", mt.P90TaskTime, 90*time.Millisecond)
	if mt.P99TaskTime < 100*time.Millisecond*31/32 || mt.P99TaskTime > mt.MaxTaskTime {
		t.Errorf("p99 = %v, max %v", mt.P99TaskTime, mt.MaxTaskTime)
	}

	// Unregistering keeps the totals.
	if err := m.Unregister(b); err != nil {
		t.Fatal(err)
	}
	if mt2 := m.Metrics(); mt2.TotalTasks != 100 || mt2.ActiveWorkers != 1 || mt2.MaxTaskTime != mt.MaxTaskTime {
		t.Fatalf("after unregister: %+v", mt2)
	}
	if err := m.Unregister(b); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("second Unregister = %v", err)
	}
}

func TestHealthEmpty(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{})
	if mt := m.Metrics(); mt != (HealthMetrics{}) {
		t.Fatalf("empty monitor: %+v", mt)
	}
}

func TestHealthStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := healthTestMonitor(t, HealthOptions{StuckAfter: time.Second})
		r, other := healthMustRegister(t, m, "slow"), healthMustRegister(t, m, "idle")
		r.Start()
		time.Sleep(500 * time.Millisecond)
		if h := m.Health(r); !h.Healthy || !h.Busy || h.Running != 500*time.Millisecond {
			t.Fatalf("at 0.5s: %+v", h)
		}
		time.Sleep(time.Second)
		h := m.Health(r)
		if h.Healthy || !h.Stuck || h.Failing {
			t.Fatalf("at 1.5s: %+v", h)
		}
		mt := m.Metrics()
		if mt.HealthyWorkers != 1 || mt.StuckWorkers != 1 || mt.BusyWorkers != 1 {
			t.Fatalf("metrics: %+v", mt)
		}
		if !m.Health(other).Healthy {
			t.Fatal("idle worker unhealthy")
		}
		r.Done(nil)
		if h := m.Health(r); !h.Healthy || h.Busy || h.Tasks != 1 {
			t.Fatalf("after Done: %+v", h)
		}
		if mt := m.Metrics(); mt.MaxTaskTime != 1500*time.Millisecond {
			t.Fatalf("max = %v", mt.MaxTaskTime)
		}
	})
}

func TestHealthFailing(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{Window: 10, MinTasks: 4, FailureRate: 0.3})
	r := healthMustRegister(t, m, "flaky")
	fail := errors.New("boom")
	for range 3 {
		r.Start()
		r.Done(fail)
	}
	if h := m.Health(r); !h.Healthy || h.RecentFailureRate != 1 {
		t.Fatalf("3 failures, below MinTasks: %+v", h)
	}
	r.Done(fail)
	if h := m.Health(r); h.Healthy || !h.Failing || h.Stuck {
		t.Fatalf("4 failures: %+v", h)
	}
	// Successes push the failures out of the window: 4 of 10 is still
	// failing (> 0.3), 3 of 10 is not.
	for range 6 {
		r.Done(nil)
	}
	if h := m.Health(r); !h.Failing || h.RecentFailureRate != 0.4 {
		t.Fatalf("4 of 10: %+v", h)
	}
	r.Done(nil)
	if h := m.Health(r); !h.Healthy || h.RecentFailureRate != 0.3 {
		t.Fatalf("3 of 10: %+v", h)
	}
	if mt := m.Metrics(); mt.FailingWorkers != 0 || mt.FailedTasks != 4 || mt.TotalTasks != 11 {
		t.Fatalf("metrics: %+v", mt)
	}
}

func TestHealthOnUnhealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		m, err := NewHealthMonitor(HealthOptions{
			StuckAfter:    2 * time.Second,
			CheckInterval: time.Second,
			OnUnhealthy: func(h WorkerHealth) {
				mu.Lock()
				got = append(got, fmt.Sprintf("%s stuck=%v failing=%v", h.Name, h.Stuck, h.Failing))
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		stuck, failing := healthMustRegister(t, m, "s"), healthMustRegister(t, m, "f")
		stuck.Start()
		for range 8 {
			failing.Done(errors.New("x"))
		}
		time.Sleep(5500 * time.Millisecond) // five checks: each turn reported once
		stuck.Done(nil)
		for range 32 {
			failing.Done(nil)
		}
		time.Sleep(time.Second) // healthy again at this check
		stuck.Start()
		time.Sleep(3 * time.Second) // stuck again: reported again
		stuck.Done(nil)
		mu.Lock()
		defer mu.Unlock()
		want := []string{"f stuck=false failing=true", "s stuck=true failing=false", "s stuck=true failing=false"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("OnUnhealthy calls:\n got %q\nwant %q", got, want)
		}
	})
}

// TestStressHealth records from several workers while readers take
// metrics; run with -race. Every task is counted.
func TestStressHealth(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{})
	const workers = 4
	n := 20000
	if raceEnabled || testing.Short() {
		n = 2000
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		var last uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			mt := m.Metrics()
			if mt.TotalTasks < last || mt.FailedTasks > mt.TotalTasks {
				t.Errorf("metrics went back: %d after %d (%+v)", mt.TotalTasks, last, mt)
				return
			}
			last = mt.TotalTasks
		}
	}()
	for w := range workers {
		r := healthMustRegister(t, m, fmt.Sprint(w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				r.Start()
				var err error
				if i%4 == 0 {
					err = errors.New("x")
				}
				r.Done(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	mt := m.Metrics()
	if mt.TotalTasks != workers*uint64(n) || mt.FailedTasks != workers*uint64(n)/4 {
		t.Fatalf("totals: %+v", mt)
	}
}

func TestHealthRecordAllocs(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{})
	r := healthMustRegister(t, m, "w")
	err := errors.New("x")
	start := time.Now()
	if a := testing.AllocsPerRun(1000, func() {
		r.Start()
		r.Done(nil)
		r.Start()
		r.Done(err)
		r.Observe(time.Microsecond, true)
		m.RecordTask(r, start, false)
	}); a != 0 {
		t.Fatalf("recording allocates %v per run", a)
	}
}

var healthTestPages atomic.Int64

func TestHealthExpvar(t *testing.T) {
	m := healthTestMonitor(t, HealthOptions{})
	name := fmt.Sprintf("weft-health-test-%d", healthTestPages.Add(1)) // expvar names last the process
	if err := m.Publish(name); err != nil {
		t.Fatal(err)
	}
	if err := m.Publish(name); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second Publish = %v", err)
	}
	r := healthMustRegister(t, m, "w")
	r.Observe(time.Millisecond, true)
	r.Observe(time.Millisecond, false)
	var got HealthMetrics
	if err := json.Unmarshal([]byte(expvar.Get(name).String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.TotalTasks != 2 || got.FailedTasks != 1 || got.SuccessRate != 0.5 || got.MaxTaskTime != time.Millisecond || got.ActiveWorkers != 1 {
		t.Fatalf("expvar page: %+v", got)
	}
	m.Close()
	if s := expvar.Get(name).String(); s != "null" {
		t.Fatalf("after Close the page shows %s", s)
	}
	if err := m.Publish(name + "-2"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v", err)
	}
}

func TestHealthBadInput(t *testing.T) {
	for _, opt := range []HealthOptions{
		{StuckAfter: -1},
		{FailureRate: -0.1},
		{FailureRate: 1},
		{Window: 65},
		{Window: -1},
		{MinTasks: -1},
		{Window: 4, MinTasks: 5},
		{CheckInterval: -time.Second},
	} {
		if _, err := NewHealthMonitor(opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewHealthMonitor(%+v) = %v", opt, err)
		}
	}
	m := healthTestMonitor(t, HealthOptions{})
	other := healthTestMonitor(t, HealthOptions{})
	r := healthMustRegister(t, other, "x")
	if err := m.Unregister(r); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Unregister of another monitor's recorder = %v", err)
	}
	if err := m.Unregister(nil); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Unregister(nil) = %v", err)
	}
	if err := m.Publish(""); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Publish(\"\") = %v", err)
	}
	m.Close()
	if _, err := m.Register("late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Register after Close = %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}
