package pipeline

import (
	"context"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/pad"
)

// node is one stage of a pipeline, without its types: what the run, the
// stats and the errors need to know of it.
type node struct {
	p       *Pipeline
	kind    string // "map", "filter", "source", …
	name    string
	workers int

	// lanes are the stage's counters: one per worker goroutine, or, in a
	// batch group, lane 0 for the dealer, 1 for the emitter and one per
	// batch. Each is written by one goroutine at a time and read by Stats.
	lanes []lane

	// Set when the run starts (by plan), before any stage goroutine.
	// ctx is the run's context with the pprof label stage=name: the
	// goroutines' labels, and the context the stage's functions receive
	// (so pprof.Label(ctx, "stage") names the stage).
	ctx   context.Context
	fused bool                     // runs on the goroutines of the stage before it
	queue func() (n, capacity int) // the input queue's depth, for Stats

	// plan decides how the stage's input is handed to it (a queue, or
	// fusion into the producer); start launches its goroutines. Both are
	// nil for stages that need neither; plan runs for every node, in
	// creation order (upstream first), before any start.
	plan  func()
	start func()
}

// lane is one worker's counters. One goroutine at a time writes them
// (plain load-add-store, no locked instruction; a Tee's or Partition's
// shared lane uses atomic adds); Stats reads them at any time. The padding
// keeps workers of one stage off each other's lines.
type lane struct {
	in, out atomic.Uint64
	busy    atomic.Int64 // ns running the stage's own code
	waitIn  atomic.Int64 // ns blocked on an empty input queue
	waitOut atomic.Int64 // ns blocked on a full output queue
	_       [pad.Size - 40]byte
}

func addU(a *atomic.Uint64, d int)  { a.Store(a.Load() + uint64(d)) }
func addI(a *atomic.Int64, d int64) { a.Store(a.Load() + d) }

// runner is one goroutine of the run, or one batch of a batch group. cur
// is the stage it is running now, which changes as a batch passes through
// fused stages; it names the stage when a panic unwinds. Only its owner
// uses it.
type runner struct {
	cur   *node
	quiet bool // leave the goroutine's labels alone (a scheduler's worker)
	// handoff is the instant a stage ended its stretch to call the stage
	// after it, which starts its own stretch then instead of reading the
	// clock again; zero when no such call is under way (see lend).
	handoff int64
}

// enter makes n the stage the goroutine runs: for the panic report and
// for the CPU profile's stage label.
func (r *runner) enter(n *node) {
	if r.cur != n {
		r.cur = n
		if !r.quiet {
			setLabels(n.ctx)
		}
	}
}

// worker is one worker of a stage, running on goroutine r: it accounts
// the stage's busy time between resume and pause.
type worker struct {
	n     *node
	r     *runner
	idx   int
	st    *lane
	since int64 // when the current stretch of work began; 0: none
}

func (n *node) worker(r *runner, idx int) *worker {
	return &worker{n: n, r: r, idx: idx, st: &n.lanes[idx]}
}

// resume starts (or restarts, after a hand-off downstream) the stage's
// busy time. Reading the clock costs tens of nanoseconds; it happens twice
// per batch per stage.
func (w *worker) resume() {
	w.r.enter(w.n)
	if t := w.r.handoff; t != 0 {
		w.since, w.r.handoff = t, 0
		return
	}
	w.since = w.n.p.clock()
}

// pause ends a stretch of busy time.
func (w *worker) pause() {
	if w.since != 0 {
		addI(&w.st.busy, w.n.p.clock()-w.since)
		w.since = 0
	}
}

// lend ends a stretch of busy time just before the worker hands a batch to
// the stage after it, whose resume then starts at the same instant: one
// clock read serves both. The caller must call reclaim when the hand-off
// returns, so that a later resume (after a wait, say) reads the clock.
func (w *worker) lend() {
	if w.since != 0 {
		t := w.n.p.clock()
		addI(&w.st.busy, t-w.since)
		w.since = 0
		w.r.handoff = t
	}
}

// reclaim ends a hand-off begun by lend.
func (w *worker) reclaim() { w.r.handoff = 0 }

// fail wraps an error of the stage's function with the stage's name.
func (w *worker) fail(err error) error { return stageErr(w.n.name, err) }

func stageLabels(ctx context.Context, name string) context.Context {
	return pprof.WithLabels(ctx, pprof.Labels("stage", name))
}

func setLabels(ctx context.Context) { pprof.SetGoroutineLabels(ctx) }

func newPanic(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }
