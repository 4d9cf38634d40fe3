package worker

import (
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
)

// TaskRecorder records the tasks of one worker for a HealthMonitor — the
// handle the guide's registerWorker returns. It belongs to its worker: one
// task at a time, Start and Done (or Observe) called by whoever runs that
// task. A pool's per-worker state is the natural home for it (see
// NewStatefulPool); a recorder shared by goroutines that run tasks at the
// same time would lose counts.
//
// Recording takes no lock, allocates nothing and uses no locked
// instruction: the worker is the only writer of every field below, and
// publishes each with a release store (barrier.StoreRelease), which on
// x86-64 is a plain MOV. Readers (Metrics, the expvar page, the health
// check) use atomic loads and so see every count exact as of some moment.
type TaskRecorder struct {
	_ pad.Line
	// Written by the worker only; read by anyone.
	started atomic.Int64  // start of the task in flight, in ns since m.epoch, plus 1; 0 when idle
	tasks   atomic.Uint64 // tasks finished
	failed  atomic.Uint64 // of which failed; bumped after tasks, so a reader loading failed first never sees failed > tasks
	sum     atomic.Uint64 // total task time, ns
	max     atomic.Uint64 // longest task, ns
	recent  atomic.Uint64 // outcomes of the last 64 tasks, newest in bit 0, 1 = failed
	hist    latHistogram
	_       pad.Line

	// Set by Register, read-only afterwards.
	m    *HealthMonitor
	id   int
	name string

	gone    atomic.Bool // unregistered
	flagged bool        // reported unhealthy to OnUnhealthy; the check goroutine's own
}

// ID returns the recorder's number, unique within its monitor.
func (r *TaskRecorder) ID() int { return r.id }

// Name returns the name it was registered with.
func (r *TaskRecorder) Name() string { return r.name }

// Start marks the beginning of a task; Done ends it. While the task runs,
// the monitor can see how long it has been running, and reports the
// worker stuck once that passes HealthOptions.StuckAfter.
func (r *TaskRecorder) Start() {
	barrier.StoreReleaseInt64(&r.started, int64(time.Since(r.m.epoch))+1)
}

// Done ends the task begun by Start, recording its duration and outcome
// (err == nil is a success). A Done without a Start records a task of
// zero duration.
func (r *TaskRecorder) Done(err error) {
	var d time.Duration
	if s := r.started.Load(); s != 0 {
		d = time.Since(r.m.epoch) - time.Duration(s-1)
		barrier.StoreReleaseInt64(&r.started, 0)
	}
	r.Observe(d, err == nil)
}

// Observe records a task measured by the caller: its duration and whether
// it succeeded. It does not touch the task-in-flight mark of Start.
func (r *TaskRecorder) Observe(d time.Duration, ok bool) {
	v := uint64(max(d, 0))
	barrier.StoreRelease(&r.tasks, r.tasks.Load()+1)
	var bit uint64
	if !ok {
		bit = 1
		barrier.StoreRelease(&r.failed, r.failed.Load()+1)
	}
	barrier.StoreRelease(&r.recent, r.recent.Load()<<1|bit)
	barrier.StoreRelease(&r.sum, r.sum.Load()+v)
	if v > r.max.Load() {
		barrier.StoreRelease(&r.max, v)
	}
	r.hist.record(v)
}

// WorkerHealth is one worker's state as the monitor judges it.
type WorkerHealth struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Healthy bool   `json:"healthy"`
	Busy    bool   `json:"busy"` // a task is in flight
	// Stuck: the task in flight has run for longer than StuckAfter.
	Stuck bool `json:"stuck"`
	// Failing: the failure rate of the last Window tasks is above
	// FailureRate (judged once at least MinTasks of them are known).
	Failing           bool          `json:"failing"`
	Tasks             uint64        `json:"tasks"`
	Failed            uint64        `json:"failed"`
	RecentFailureRate float64       `json:"recentFailureRate"`
	Running           time.Duration `json:"runningNs"` // how long the task in flight has run; 0 when idle
}

// health judges r as of now (ns since the monitor's epoch).
func (r *TaskRecorder) health(o *HealthOptions, now time.Duration) WorkerHealth {
	failed := r.failed.Load() // before tasks: see the field's comment
	tasks := r.tasks.Load()
	h := WorkerHealth{ID: r.id, Name: r.name, Tasks: tasks, Failed: failed}
	if s := r.started.Load(); s != 0 {
		h.Busy = true
		h.Running = max(now-time.Duration(s-1), 0)
		h.Stuck = h.Running > o.StuckAfter
	}
	if n := min(tasks, uint64(o.Window)); n > 0 {
		mask := ^uint64(0) >> (64 - n)
		h.RecentFailureRate = float64(bits.OnesCount64(r.recent.Load()&mask)) / float64(n)
		h.Failing = n >= uint64(o.MinTasks) && h.RecentFailureRate > o.FailureRate
	}
	h.Healthy = !h.Stuck && !h.Failing
	return h
}
