package bench

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/worker"
)

func init() {
	Register(&Scenario{
		Suite: "worker", Name: "health-record",
		Doc: "one tiny task timed and recorded (duration, outcome, histogram), on every core at once",
		Impls: []Impl{
			{Name: "weft.TaskRecorder", Run: healthWeft},
			{Name: "mutex-recorder", Peer: true, Run: healthMutex},
			{Name: "atomic-shared", Peer: true, Run: healthAtomic},
			{Name: "clock-only", Peer: true, Run: healthClock},
			{Name: "no-recording", Peer: true, Run: healthNone},
		},
	}, &Scenario{
		Suite: "worker", Name: "health-observe",
		Doc: "one task's recording alone (duration given: no clock read), on every core at once",
		Impls: []Impl{
			{Name: "weft.TaskRecorder", Run: observeWeft},
			{Name: "mutex-recorder", Peer: true, Run: observeMutex},
			{Name: "atomic-shared", Peer: true, Run: observeAtomic},
		},
	}, &Scenario{
		Suite: "worker", Name: "health-observe-1",
		Doc: "one task's recording alone, on one goroutine: the uncontended cost",
		Impls: []Impl{
			{Name: "weft.TaskRecorder", Run: healthOne(observeWeft)},
			{Name: "mutex-recorder", Peer: true, Run: healthOne(observeMutex)},
			{Name: "atomic-shared", Peer: true, Run: healthOne(observeAtomic)},
		},
	})
}

// healthGoroutines is how many goroutines healthSplit uses (0: one per
// core). Set only by healthOne, while no scenario runs concurrently.
var healthGoroutines int

// healthOne runs an implementation on a single goroutine.
func healthOne(run func(int, *Recorder)) func(int, *Recorder) {
	return func(n int, r *Recorder) {
		healthGoroutines = 1
		defer func() { healthGoroutines = 0 }()
		run(n, r)
	}
}

// healthDuration is a made-up task time for the observe scenario, spread
// over a few histogram buckets.
func healthDuration(i int) time.Duration { return time.Duration(500 + i&1023) }

func observeWeft(n int, _ *Recorder) {
	m, err := worker.NewHealthMonitor(worker.HealthOptions{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	recs := make([]*worker.TaskRecorder, max(healthGoroutines, workers()))
	for i := range recs {
		if recs[i], err = m.Register("bench"); err != nil {
			panic(err)
		}
	}
	healthSplit(n, func(g, k int) {
		r := recs[g]
		for i := range k {
			r.Observe(healthDuration(i), i%16 != 0)
		}
	})
	if got := m.Metrics().TotalTasks; got != uint64(n) {
		panic("health-observe: tasks lost")
	}
}

func observeMutex(n int, _ *Recorder) {
	var m mutexRecorder
	healthSplit(n, func(_, k int) {
		for i := range k {
			m.record(healthDuration(i), i%16 != 0)
		}
	})
	if m.tasks != uint64(n) {
		panic("health-observe: tasks lost")
	}
}

func observeAtomic(n int, _ *Recorder) {
	var m atomicRecorder
	healthSplit(n, func(_, k int) {
		for i := range k {
			m.record(healthDuration(i), i%16 != 0)
		}
	})
	if m.tasks.Load() != uint64(n) {
		panic("health-observe: tasks lost")
	}
}

// healthSplit runs n tasks on one goroutine per core, task(g, k) running k
// of them on goroutine g.
func healthSplit(n int, task func(g, k int)) {
	g := healthGoroutines
	if g == 0 {
		g = workers()
	}
	var wg sync.WaitGroup
	for i := range g {
		k := n / g
		if i < n%g {
			k++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			task(i, k)
		}()
	}
	wg.Wait()
}

// healthTask is the task being recorded; every 16th fails.
func healthTask(i int) bool { return tiny(uint64(i)+1) != 0 && i%16 != 0 }

func healthWeft(n int, _ *Recorder) {
	m, err := worker.NewHealthMonitor(worker.HealthOptions{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	recs := make([]*worker.TaskRecorder, workers())
	for i := range recs {
		if recs[i], err = m.Register("bench"); err != nil {
			panic(err)
		}
	}
	healthSplit(n, func(g, k int) {
		r := recs[g]
		for i := range k {
			r.Start()
			if healthTask(i) {
				r.Done(nil)
			} else {
				r.Done(errHealthTask)
			}
		}
	})
	if got := m.Metrics().TotalTasks; got != uint64(n) {
		panic("health-record: tasks lost")
	}
}

var errHealthTask = &healthErr{}

type healthErr struct{}

func (*healthErr) Error() string { return "task failed" }

// mutexRecorder is the straightforward monitor: one set of counters and a
// log2 histogram behind one lock, as the guide's recordTask keeps them.
type mutexRecorder struct {
	mu                     sync.Mutex
	tasks, failed, sum, mx uint64
	hist                   [64]uint64
}

func (m *mutexRecorder) record(d time.Duration, ok bool) {
	v := uint64(d)
	m.mu.Lock()
	m.tasks++
	if !ok {
		m.failed++
	}
	m.sum += v
	m.mx = max(m.mx, v)
	m.hist[bits.Len64(v)&63]++
	m.mu.Unlock()
}

func healthMutex(n int, _ *Recorder) {
	var m mutexRecorder
	healthSplit(n, func(_, k int) {
		for i := range k {
			start := time.Since(healthEpoch)
			ok := healthTask(i)
			m.record(time.Since(healthEpoch)-start, ok)
		}
	})
	if m.tasks != uint64(n) {
		panic("health-record: tasks lost")
	}
}

// atomicRecorder is lock-free but shared: every core adds to the same
// counters, so their cache lines move between cores at every task.
type atomicRecorder struct {
	tasks, failed, sum, mx atomic.Uint64
	hist                   [64]atomic.Uint64
}

func (m *atomicRecorder) record(d time.Duration, ok bool) {
	v := uint64(d)
	m.tasks.Add(1)
	if !ok {
		m.failed.Add(1)
	}
	m.sum.Add(v)
	for {
		old := m.mx.Load()
		if v <= old || m.mx.CompareAndSwap(old, v) {
			break
		}
	}
	m.hist[bits.Len64(v)&63].Add(1)
}

func healthAtomic(n int, _ *Recorder) {
	var m atomicRecorder
	healthSplit(n, func(_, k int) {
		for i := range k {
			start := time.Since(healthEpoch)
			ok := healthTask(i)
			m.record(time.Since(healthEpoch)-start, ok)
		}
	})
	if m.tasks.Load() != uint64(n) {
		panic("health-record: tasks lost")
	}
}

var healthSink atomic.Uint64

// healthEpoch is the peers' time origin: they read the monotonic clock as
// TaskRecorder does (time.Since of a fixed time, cheaper than time.Now,
// which reads the wall clock too), so that only the recording differs.
var healthEpoch = time.Now()

// healthClock reads the clock around every task as the recorders do, and
// records nothing: what is left of their cost is the recording's.
func healthClock(n int, _ *Recorder) {
	healthSplit(n, func(_, k int) {
		var sum time.Duration
		ok := 0
		for i := range k {
			start := time.Since(healthEpoch)
			if healthTask(i) {
				ok++
			}
			sum += time.Since(healthEpoch) - start
		}
		healthSink.Add(uint64(ok) + uint64(sum&1))
	})
}

func healthNone(n int, _ *Recorder) {
	healthSplit(n, func(_, k int) {
		ok := 0
		for i := range k {
			if healthTask(i) {
				ok++
			}
		}
		healthSink.Add(uint64(ok))
	})
}
