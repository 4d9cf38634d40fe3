package worker

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HealthOptions configure a HealthMonitor. The zero value judges a worker
// stuck after 30s on one task, and failing when more than half of its last
// 32 tasks failed (once 8 are known); it runs no background check.
type HealthOptions struct {
	// StuckAfter is how long one task may run before its worker is
	// unhealthy (0: 30s).
	StuckAfter time.Duration
	// FailureRate is the recent failure rate, in [0, 1), above which a
	// worker is unhealthy (0: 0.5).
	FailureRate float64
	// Window is how many of a worker's latest tasks its recent failure
	// rate counts, 1 to 64 (0: 32).
	Window int
	// MinTasks is how many tasks of the window must be known before the
	// failure rate is judged, 1 to Window (0: min(8, Window)).
	MinTasks int
	// OnUnhealthy, if set, is called when a worker turns unhealthy (once
	// per turn: it is called again only after the worker has been healthy
	// at a check in between). A goroutine checks every CheckInterval and
	// makes the calls, one at a time; Close stops it.
	OnUnhealthy func(WorkerHealth)
	// CheckInterval is the period of that check (0: 1s).
	CheckInterval time.Duration
}

func (o *HealthOptions) validate() error {
	switch {
	case o.StuckAfter < 0:
		return fmt.Errorf("%w: StuckAfter = %v", ErrInvalidOptions, o.StuckAfter)
	case o.FailureRate < 0 || o.FailureRate >= 1 || o.FailureRate != o.FailureRate:
		return fmt.Errorf("%w: FailureRate = %v, want [0, 1)", ErrInvalidOptions, o.FailureRate)
	case o.Window < 0 || o.Window > 64:
		return fmt.Errorf("%w: Window = %d, want 0 to 64", ErrInvalidOptions, o.Window)
	case o.MinTasks < 0:
		return fmt.Errorf("%w: MinTasks = %d", ErrInvalidOptions, o.MinTasks)
	case o.CheckInterval < 0:
		return fmt.Errorf("%w: CheckInterval = %v", ErrInvalidOptions, o.CheckInterval)
	}
	if o.StuckAfter == 0 {
		o.StuckAfter = 30 * time.Second
	}
	if o.FailureRate == 0 {
		o.FailureRate = 0.5
	}
	if o.Window == 0 {
		o.Window = 32
	}
	if o.MinTasks == 0 {
		o.MinTasks = min(8, o.Window)
	}
	if o.MinTasks > o.Window {
		return fmt.Errorf("%w: MinTasks = %d > Window = %d", ErrInvalidOptions, o.MinTasks, o.Window)
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = time.Second
	}
	return nil
}

// HealthMonitor keeps per-worker task statistics and judges each worker's
// health — the guide's WorkerHealthMonitor. Workers record through their
// own TaskRecorder (Register), at a cost of a few plain stores per task;
// Metrics, Workers and the expvar page (Publish) read every recorder.
type HealthMonitor struct {
	opt   HealthOptions
	epoch time.Time // recorders time tasks in ns since epoch (monotonic clock)

	// mu serialises registration and guards gone; recording never takes it.
	mu      sync.Mutex
	workers atomic.Pointer[[]*TaskRecorder] // copy-on-write under mu
	nextID  int
	gone    healthTotals // the counts of unregistered recorders
	closed  atomic.Bool

	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	published []*expvarPage // expvar pages, blanked by Close
}

// healthTotals are counts summed over recorders.
type healthTotals struct {
	tasks, failed, sum, max uint64
	hist                    latCounts
}

func (t *healthTotals) add(r *TaskRecorder) {
	t.failed += r.failed.Load() // before tasks: see TaskRecorder.failed
	t.tasks += r.tasks.Load()
	t.sum += r.sum.Load()
	t.max = max(t.max, r.max.Load())
	t.hist.add(&r.hist)
}

// NewHealthMonitor returns a monitor with no workers.
func NewHealthMonitor(opt HealthOptions) (*HealthMonitor, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	m := &HealthMonitor{opt: opt, epoch: time.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	m.workers.Store(new([]*TaskRecorder))
	if opt.OnUnhealthy != nil {
		go m.checkLoop()
	} else {
		close(m.done)
	}
	return m, nil
}

// Register adds a worker and returns its recorder — the guide's
// registerWorker. The name is a label for Metrics and the expvar page;
// it need not be unique.
func (m *HealthMonitor) Register(name string) (*TaskRecorder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return nil, fmt.Errorf("worker: health monitor register %q: %w", name, ErrClosed)
	}
	r := &TaskRecorder{m: m, id: m.nextID, name: name}
	m.nextID++
	ws := append(slices.Clone(*m.workers.Load()), r)
	m.workers.Store(&ws)
	return r, nil
}

// Unregister removes a retired worker. Its counts stay in the totals of
// Metrics; it no longer counts as active or healthy. Call it after the
// worker's last task: what it records afterwards is lost.
func (m *HealthMonitor) Unregister(r *TaskRecorder) error {
	if r == nil || r.m != m {
		return fmt.Errorf("worker: health monitor unregister: %w", ErrNotRegistered)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ws := *m.workers.Load()
	i := slices.Index(ws, r)
	if i < 0 {
		return fmt.Errorf("worker: health monitor unregister %q: %w", r.name, ErrNotRegistered)
	}
	r.gone.Store(true)
	m.gone.add(r)
	ws = slices.Delete(slices.Clone(ws), i, i+1)
	m.workers.Store(&ws)
	return nil
}

// RecordTask records a task of worker r that began at start and has just
// ended — the guide's recordTask(worker, startTime, success). It is
// r.Observe(time.Since(start), success).
func (m *HealthMonitor) RecordTask(r *TaskRecorder, start time.Time, success bool) {
	r.Observe(time.Since(start), success)
}

// HealthMetrics is the guide's getMetrics result, plus percentiles. Task
// times are those recorded, in every unit: a Duration marshals to JSON as
// nanoseconds.
type HealthMetrics struct {
	TotalTasks      uint64  `json:"totalTasks"`
	SuccessfulTasks uint64  `json:"successfulTasks"`
	FailedTasks     uint64  `json:"failedTasks"`
	SuccessRate     float64 `json:"successRate"` // successful / total; 0 before the first task
	// AvgTaskTime is exact; the percentiles come from a log-linear
	// histogram and are within 3.2% of the true sample; MaxTaskTime is
	// exact.
	AvgTaskTime    time.Duration `json:"avgTaskTimeNs"`
	P50TaskTime    time.Duration `json:"p50TaskTimeNs"`
	P90TaskTime    time.Duration `json:"p90TaskTimeNs"`
	P99TaskTime    time.Duration `json:"p99TaskTimeNs"`
	MaxTaskTime    time.Duration `json:"maxTaskTimeNs"`
	ActiveWorkers  int           `json:"activeWorkers"`  // registered
	BusyWorkers    int           `json:"busyWorkers"`    // with a task in flight
	HealthyWorkers int           `json:"healthyWorkers"` // neither stuck nor failing
	StuckWorkers   int           `json:"stuckWorkers"`
	FailingWorkers int           `json:"failingWorkers"`
}

// Metrics returns the totals over every worker ever registered and the
// health of those registered now. It takes no lock the recorders take;
// each count is exact as of some moment during the call.
func (m *HealthMonitor) Metrics() HealthMetrics {
	ws := *m.workers.Load()
	now := time.Since(m.epoch)
	var t healthTotals
	mt := HealthMetrics{ActiveWorkers: len(ws)}
	for _, r := range ws {
		h := r.health(&m.opt, now)
		if h.Busy {
			mt.BusyWorkers++
		}
		switch {
		case h.Healthy:
			mt.HealthyWorkers++
		case h.Stuck:
			mt.StuckWorkers++
			if h.Failing {
				mt.FailingWorkers++
			}
		default:
			mt.FailingWorkers++
		}
		t.add(r)
	}
	m.mu.Lock()
	t.tasks += m.gone.tasks
	t.failed += m.gone.failed
	t.sum += m.gone.sum
	t.max = max(t.max, m.gone.max)
	t.hist.merge(&m.gone.hist)
	m.mu.Unlock()

	mt.TotalTasks, mt.FailedTasks = t.tasks, min(t.failed, t.tasks)
	mt.SuccessfulTasks = mt.TotalTasks - mt.FailedTasks
	if t.tasks > 0 {
		mt.SuccessRate = float64(mt.SuccessfulTasks) / float64(t.tasks)
		mt.AvgTaskTime = time.Duration(t.sum / t.tasks)
	}
	var ps [3]time.Duration
	t.hist.quantiles(t.max, []float64{0.50, 0.90, 0.99}, ps[:])
	mt.P50TaskTime, mt.P90TaskTime, mt.P99TaskTime = ps[0], ps[1], ps[2]
	mt.MaxTaskTime = time.Duration(t.max)
	return mt
}

// Workers returns the health of every registered worker, in registration
// order.
func (m *HealthMonitor) Workers() []WorkerHealth {
	ws := *m.workers.Load()
	now := time.Since(m.epoch)
	out := make([]WorkerHealth, len(ws))
	for i, r := range ws {
		out[i] = r.health(&m.opt, now)
	}
	return out
}

// Health returns r's health now.
func (m *HealthMonitor) Health(r *TaskRecorder) WorkerHealth {
	return r.health(&m.opt, time.Since(m.epoch))
}

// checkLoop calls OnUnhealthy for workers that turned unhealthy.
func (m *HealthMonitor) checkLoop() {
	defer close(m.done)
	tick := time.NewTicker(m.opt.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-tick.C:
			now := time.Since(m.epoch)
			for _, r := range *m.workers.Load() {
				h := r.health(&m.opt, now)
				switch {
				case h.Healthy:
					r.flagged = false
				case !r.flagged:
					r.flagged = true
					m.opt.OnUnhealthy(h)
				}
			}
		}
	}
}

// Close stops the background check, if any, and takes the monitor off its
// expvar pages (they then show null); Register fails with ErrClosed from
// now on. Recorders may go on recording, and Metrics go on reading them.
// It is idempotent — the guide's cleanup.
func (m *HealthMonitor) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed.Store(true)
		for _, pg := range m.published {
			expvarPagesOf.blank(pg)
		}
		m.mu.Unlock()
		close(m.quit)
	})
	<-m.done
	return nil
}
