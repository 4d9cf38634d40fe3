package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/sched"
)

// Options configure a Pipeline. The zero value is a pipeline whose stages
// run on goroutines of their own, connected by queues of 1024 items,
// moving up to 256 items per hand-off.
type Options struct {
	// Capacity is the number of items each queue between two stages
	// holds, rounded up to a power of two. It bounds the memory in flight:
	// see the package documentation. Zero means 1024.
	Capacity int
	// Batch is the largest number of items a stage hands on at once, and
	// the size of the batches an ordered stage processes. Zero means 256
	// (or Capacity, if smaller); it must not exceed Capacity.
	Batch int
	// Window is the number of batches a parallel stateless stage (Map,
	// Filter, FlatMap, Tap, Unbatch, and the stages fused into it) has in
	// flight at once: queued, being processed, or finished and waiting to
	// be emitted. For an ordered stage it is the reorder window. Zero means
	// four per worker.
	Window int
	// Scheduler, if set, runs the per-batch work of parallel stages
	// (concurrency above 1) of Map, Filter, FlatMap, Tap and Unbatch and
	// the ordered forms: each batch becomes a task on a CPU worker, with
	// up to Window tasks in flight per group of stages, run by as many
	// workers as the scheduler has. Their functions must then not block.
	// The stages' hand-offs still run on goroutines of the pipeline, so no
	// CPU worker ever waits on a queue. The scheduler must outlive the
	// run: once it is closed, the stage fails with sched.ErrClosed, and a
	// Shutdown whose deadline drops the run's queued tasks leaves the run
	// waiting for them.
	Scheduler *sched.Scheduler
	// NoFusion keeps every stage apart. By default a stage whose
	// concurrency equals that of the stage before it runs on that stage's
	// workers, called directly on each batch, saving a hand-off (as stream
	// processors chain operators). Sources are never fused into: they
	// keep their goroutine, producing while the stages work. See
	// docs/perf.md for what fusion saves.
	NoFusion bool
}

const (
	defaultCapacity = 1024
	defaultBatch    = 256
)

// Pipeline is a graph of stages built from sources, run by a sink. Build
// it from one goroutine: sources take the pipeline, stages take the
// streams of the stages before them, and a sink (All, Collect, ForEach,
// Reduce, ToRing) runs the whole pipeline once and returns when every
// stage has stopped.
type Pipeline struct {
	opt Options

	// Written while building, read by the run (which starts after).
	nodes   []*node
	streams []streamInfo
	names   map[string]bool
	err     error // first construction error

	state atomic.Int32 // built, running, done

	// Run state, set by start before any stage goroutine exists.
	ctx     context.Context
	cancel  context.CancelFunc
	failure atomic.Pointer[error] // the first failure; set once
	wg      sync.WaitGroup        // stage goroutines and scheduled tasks
	t0      time.Time
	started atomic.Bool  // t0 and the plan are set (for Stats)
	elapsed atomic.Int64 // run time in ns, set when the run ends
}

const (
	stateBuilt int32 = iota
	stateRunning
	stateDone
)

// New returns an empty pipeline with the given options. It fails with
// ErrInvalid when a field is negative or Batch exceeds Capacity.
func New(opt Options) (*Pipeline, error) {
	switch {
	case opt.Capacity < 0:
		return nil, fmt.Errorf("pipeline: Options.Capacity %d: %w", opt.Capacity, ErrInvalid)
	case opt.Batch < 0:
		return nil, fmt.Errorf("pipeline: Options.Batch %d: %w", opt.Batch, ErrInvalid)
	case opt.Window < 0:
		return nil, fmt.Errorf("pipeline: Options.Window %d: %w", opt.Window, ErrInvalid)
	}
	if opt.Capacity == 0 {
		opt.Capacity = defaultCapacity
	}
	if opt.Batch == 0 {
		opt.Batch = min(defaultBatch, opt.Capacity)
	}
	if opt.Batch > opt.Capacity {
		return nil, fmt.Errorf("pipeline: Options.Batch %d exceeds Capacity %d: %w", opt.Batch, opt.Capacity, ErrInvalid)
	}
	return &Pipeline{opt: opt, names: make(map[string]bool)}, nil
}

// streamInfo is what the pipeline knows of a stream without its type.
type streamInfo interface {
	producer() *node
	consumed() bool
}

// setErr records the first construction error; the sink returns it.
func (p *Pipeline) setErr(err error) {
	if p.err == nil {
		p.err = err
	}
}

// building reports whether stages may still be added.
func (p *Pipeline) building() bool { return p.state.Load() == stateBuilt }

// addNode registers a stage. An empty name becomes kind#index.
func (p *Pipeline) addNode(kind, name string, workers int) *node {
	if name == "" {
		name = fmt.Sprintf("%s#%d", kind, len(p.nodes))
	}
	n := &node{p: p, kind: kind, name: name, workers: workers}
	if p.names[name] {
		p.setErr(stageErr(name, ErrDuplicateName))
	}
	p.names[name] = true
	if workers < 1 {
		p.setErr(stageErr(name, fmt.Errorf("concurrency %d: %w", workers, ErrInvalid)))
		n.workers = 1
	}
	n.lanes = make([]lane, n.workers)
	p.nodes = append(p.nodes, n)
	return n
}

// fail records err as the pipeline's failure if it is the first, and
// cancels the run so that every other stage stops.
func (p *Pipeline) fail(err error) {
	if p.failure.CompareAndSwap(nil, &err) {
		p.cancel()
	}
}

// report handles the error a stage goroutine ended with: a failure of its
// own, or the run's cancellation echoing back (which is not news).
func (p *Pipeline) report(err error) {
	if err == nil {
		return
	}
	if p.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return
	}
	p.fail(err)
}

// start validates the pipeline, plans its hand-offs, and starts every
// stage. sink plans the edge the sink reads; it is called after the stages
// have planned.
func (p *Pipeline) start(ctx context.Context, s streamInfo, sink func()) error {
	if !p.state.CompareAndSwap(stateBuilt, stateRunning) {
		return ErrReused
	}
	if p.err != nil {
		p.state.Store(stateDone)
		return p.err
	}
	if err := ctx.Err(); err != nil {
		p.state.Store(stateDone)
		return err
	}
	for _, st := range p.streams {
		if st != s && !st.consumed() {
			p.state.Store(stateDone)
			return stageErr(st.producer().name, ErrUnconsumed)
		}
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	for _, n := range p.nodes {
		n.ctx = stageLabels(p.ctx, n.name)
		if n.plan != nil {
			n.plan()
		}
	}
	sink()
	p.t0 = time.Now()
	p.started.Store(true)
	// Downstream first: a stage's start may set up what the goroutines
	// before it hand their output to (a batch group's free batches, when
	// the stage before deals them itself).
	for _, n := range slices.Backward(p.nodes) {
		if n.start != nil {
			n.start()
		}
	}
	return nil
}

// finish stops the run, waits for every stage, and returns its result:
// the first failure, else ctx's error if the run did not complete.
func (p *Pipeline) finish(ctx context.Context, completed bool) error {
	p.cancel()
	p.wg.Wait()
	p.elapsed.Store(int64(time.Since(p.t0)))
	p.state.Store(stateDone)
	if e := p.failure.Load(); e != nil {
		return *e
	}
	if !completed {
		return ctx.Err()
	}
	return nil
}

// clock returns the run's time in nanoseconds (monotonic), from 1: zero
// means "not timing" to a worker.
func (p *Pipeline) clock() int64 { return int64(time.Since(p.t0)) + 1 }

// goStage runs body on a new goroutine of the run, under n's labels. A
// panic becomes the failure of the stage the goroutine was running.
func (p *Pipeline) goStage(n *node, body func(r *runner) error) {
	p.wg.Go(func() {
		r := &runner{cur: n}
		setLabels(n.ctx)
		defer func() {
			if v := recover(); v != nil {
				p.fail(stageErr(r.cur.name, newPanic(v)))
			}
		}()
		p.report(body(r))
	})
}
