package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/weftlabs/weft/sched"
)

// SystemOptions configure a System — the guide's WorkerSystem options. The
// zero value is a CPU pool of one worker per physical core, without health
// checks, memory limit or task timeout.
type SystemOptions struct {
	// Pool is the system's pool: kind, workers, queue, pinning, name.
	// Pool.Timeout is every task's default deadline (the guide's
	// timeoutMs). Pool.Health must be nil: the system has its own monitor.
	Pool PoolOptions
	// HealthChecks turns on the health monitor (the guide's
	// enableHealthChecks), configured by Health; Metrics then include it.
	HealthChecks bool
	Health       HealthOptions
	// MemoryLimit, if positive, is the live Go heap in bytes above which
	// the system takes no new task (the guide's memoryLimitMB): Execute,
	// Submit and ProcessBatch wait for the heap to come back under it,
	// and TrySubmit fails with ErrMemoryLimit. The heap is the whole
	// process's, as the last GC measured it; see Metrics.HeapLive.
	MemoryLimit int64
	// Publish, if not empty, puts Metrics on the expvar page
	// (/debug/vars) under this name.
	Publish string
}

// System is the guide's WorkerSystem: one object that runs a handler on a
// pool with health checks, a memory limit and a default task timeout,
// processes batches, broadcasts to every worker, owns the resources the
// workers share, and shuts down gracefully. S is the type of each
// worker's own state (NoState for a stateless handler).
type System[S, In, Out any] struct {
	pool      *Pool[In, Out]
	health    *HealthMonitor // nil without HealthChecks
	gate      memoryGate
	resources Resources
	start     time.Time
	page      *expvarPage // SystemOptions.Publish's, nil without

	shutOnce sync.Once
	report   ShutdownReport
	shutErr  error
}

// NoState is the worker state of a System whose handler keeps none.
type NoState = struct{}

// NewSystem starts a system that runs a stateless handler.
func NewSystem[In, Out any](handler func(ctx context.Context, in In) (Out, error), opt SystemOptions) (*System[NoState, In, Out], error) {
	if handler == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalidOptions)
	}
	return newSystem[NoState](opt, nil, func(ctx context.Context, _ *poolState, in In) (Out, error) {
		return handler(ctx, in)
	})
}

// NewStatefulSystem starts a system whose handler keeps state of its own
// per worker (see NewStatefulPool); Broadcast reaches that state.
func NewStatefulSystem[S, In, Out any](newState func(id int) *S, handler func(ctx context.Context, st *S, in In) (Out, error), opt SystemOptions) (*System[S, In, Out], error) {
	if handler == nil || newState == nil {
		return nil, fmt.Errorf("%w: nil handler or state constructor", ErrInvalidOptions)
	}
	return newSystem[S](opt, func(id int) any { return newState(id) }, func(ctx context.Context, st *poolState, in In) (Out, error) {
		return handler(ctx, st.v.(*S), in)
	})
}

func newSystem[S, In, Out any](opt SystemOptions, newState func(int) any, handler func(context.Context, *poolState, In) (Out, error)) (*System[S, In, Out], error) {
	switch {
	case opt.Pool.Health != nil:
		return nil, fmt.Errorf("%w: Pool.Health is the system's own; use HealthChecks", ErrInvalidOptions)
	case opt.MemoryLimit < 0:
		return nil, fmt.Errorf("%w: MemoryLimit = %d", ErrInvalidOptions, opt.MemoryLimit)
	}
	sys := &System[S, In, Out]{start: time.Now()}
	if opt.Publish != "" {
		page, err := expvarPagesOf.claim(opt.Publish, func() any { return sys.Metrics() })
		if err != nil {
			return nil, err
		}
		sys.page = page
	}
	fail := func(err error) (*System[S, In, Out], error) {
		if sys.page != nil {
			expvarPagesOf.free(sys.page)
		}
		return nil, err
	}
	sys.gate.init(opt.MemoryLimit)
	if opt.HealthChecks {
		h, err := NewHealthMonitor(opt.Health)
		if err != nil {
			return fail(err)
		}
		sys.health = h
		opt.Pool.Health = h
	}
	if opt.Pool.Name == "" {
		opt.Pool.Name = "system"
	}
	p, err := newPool(opt.Pool, newState, handler)
	if err != nil {
		if sys.health != nil {
			sys.health.Close()
		}
		return fail(err)
	}
	sys.pool = p
	if sys.page != nil {
		expvarPagesOf.open(sys.page)
	}
	return sys, nil
}

// Execute runs one task and returns its result (see Pool.Execute), after
// waiting for the memory limit.
func (sys *System[S, In, Out]) Execute(ctx context.Context, in In) (Out, error) {
	if err := sys.gate.wait(ctx, true, sys.pool.closed.Load); err != nil {
		var zero Out
		return zero, err
	}
	return sys.pool.Execute(ctx, in)
}

// Submit queues one task and returns its future (see Pool.Submit).
func (sys *System[S, In, Out]) Submit(ctx context.Context, in In) (*sched.Future[Out], error) {
	if err := sys.gate.wait(ctx, true, sys.pool.closed.Load); err != nil {
		return nil, err
	}
	return sys.pool.Submit(ctx, in)
}

// TrySubmit queues one task without waiting: ErrQueueFull when the queue is
// full, ErrMemoryLimit when the heap is over the limit.
func (sys *System[S, In, Out]) TrySubmit(ctx context.Context, in In) (*sched.Future[Out], error) {
	if err := sys.gate.wait(ctx, false, sys.pool.closed.Load); err != nil {
		return nil, err
	}
	return sys.pool.TrySubmit(ctx, in)
}

// ProcessBatch runs every input — the guide's processBatch — and returns
// the outputs in input order. Every input runs even when some fail; the
// error joins the failures, each naming its index, and the outputs of the
// inputs that succeeded are returned with it.
func (sys *System[S, In, Out]) ProcessBatch(ctx context.Context, ins []In) ([]Out, error) {
	if err := sys.gate.wait(ctx, true, sys.pool.closed.Load); err != nil {
		return nil, err
	}
	return sys.pool.Map(ctx, ins, MapOptions{CollectErrors: true})
}

// Broadcast calls fn once for every worker, with that worker's state — the
// guide's broadcast of a message (a configuration update) to all workers —
// and returns when every call has returned, with their errors joined.
//
// For a CPU system each call runs on its own worker, between two of its
// tasks (or while a task of it waits inside sched.Await), so fn may touch
// the state without locking. For an IO system "every worker" means every
// state that exists: each call holds its state exclusively, as a task
// does; a stateless IO system has none, and Broadcast calls nothing.
//
// When ctx ends first, Broadcast returns ctx's error and the calls that
// have not started by then never will: a broadcast may reach only some
// workers. Shutdown waits for a Broadcast in progress.
//
// Do not call Broadcast from inside a task that runs on the system's
// workers: a CPU call would wait for its own worker, an IO call for the
// state its task holds. With the task's own context Broadcast detects
// this and fails with ErrInvalidOptions; with any other context it waits
// until that context ends.
func (sys *System[S, In, Out]) Broadcast(ctx context.Context, fn func(ctx context.Context, st *S) error) error {
	if fn == nil {
		return fmt.Errorf("%w: nil function", ErrInvalidOptions)
	}
	p := sys.pool
	if taskOwner(ctx) == any(p) {
		return fmt.Errorf("%w: Broadcast from inside one of the system's own tasks", ErrInvalidOptions)
	}
	// A broadcast counts as a task of the pool while it runs, so that
	// Shutdown waits for it before retiring the states it touches.
	if err := p.enter(); err != nil {
		return err
	}
	defer p.release()
	var bc broadcastCalls
	defer bc.finish()
	state := func(st *poolState) *S {
		if s, ok := st.v.(*S); ok {
			return s
		}
		return new(S) // a stateless system's workers: nothing to share
	}
	if p.kind == CPU {
		err := p.s.Broadcast(ctx, func(w *sched.Worker) {
			if !bc.start() {
				return // Broadcast has returned: too late
			}
			defer bc.done()
			if err := fn(p.threads.context(ctx, w), state(p.states.of(w))); err != nil {
				bc.fail(fmt.Errorf("worker %d: %w", w.ID(), err))
			}
		})
		return errors.Join(mapSchedErr(err), bc.errs())
	}
	if p.states.newState == nil {
		return nil
	}
	var futures []*sched.Future[struct{}]
	for _, st := range p.states.states() {
		futures = append(futures, sched.GoBlocking(ctx, p.s, func(ctx context.Context) (struct{}, error) {
			// The state first: a task may hold it, and Broadcast must not
			// wait for that task once its ctx has ended (start fails then).
			st.mu.Lock()
			defer st.mu.Unlock()
			if st.dead || !bc.start() {
				return struct{}{}, nil // retired since, or too late
			}
			defer bc.done()
			if err := fn(p.threads.ioContext(ctx), state(st)); err != nil {
				bc.fail(fmt.Errorf("state %d: %w", st.id, err))
			}
			return struct{}{}, nil
		}))
	}
	var errs []error
	for _, f := range futures {
		if _, err := f.Wait(ctx); err != nil {
			errs = append(errs, mapSchedErr(err))
			break // ctx ended: the rest are cut off by finish
		}
	}
	return errors.Join(errors.Join(errs...), bc.errs())
}

// broadcastCalls tracks the calls of one Broadcast, so that none starts
// after Broadcast has returned, and Broadcast does not return while one
// runs (a call may outlive ctx: it sits in a worker's mailbox).
type broadcastCalls struct {
	mu      sync.Mutex
	idle    sync.Cond
	running int
	over    bool
	failed  []error
}

func (bc *broadcastCalls) start() bool {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.over {
		return false
	}
	bc.running++
	return true
}

func (bc *broadcastCalls) done() {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.running--; bc.running == 0 && bc.idle.L != nil {
		bc.idle.Broadcast()
	}
}

func (bc *broadcastCalls) fail(err error) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.failed = append(bc.failed, err)
}

func (bc *broadcastCalls) errs() error {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return errors.Join(bc.failed...)
}

// finish stops calls from starting and waits for those running.
func (bc *broadcastCalls) finish() {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.over = true
	bc.idle.L = &bc.mu
	for bc.running > 0 {
		bc.idle.Wait()
	}
}

// Resources returns the registry of resources the system's workers share
// (connections, caches); Shutdown closes them after the last task.
func (sys *System[S, In, Out]) Resources() *Resources { return &sys.resources }

// Health returns the system's health monitor, nil without HealthChecks.
func (sys *System[S, In, Out]) Health() *HealthMonitor { return sys.health }

// SystemMetrics is a System's state: the pool's statistics, the health
// monitor's metrics, and the memory limit's figures.
type SystemMetrics struct {
	Pool   PoolStats
	Health HealthMetrics // zero without HealthChecks
	// HeapLive is the live Go heap as the last GC measured it (bytes; 0
	// before the first GC).
	HeapLive    uint64
	MemoryLimit int64
	// Throttled counts submissions held back (or, for TrySubmit, refused)
	// because the heap was over MemoryLimit.
	Throttled uint64
	Uptime    time.Duration
}

// Metrics returns the system's metrics now — the guide's getMetrics.
func (sys *System[S, In, Out]) Metrics() SystemMetrics {
	m := SystemMetrics{
		Pool:        sys.pool.Stats(),
		HeapLive:    sys.gate.live(),
		MemoryLimit: sys.gate.heap.limit,
		Throttled:   sys.gate.throttled.Load(),
		Uptime:      time.Since(sys.start),
	}
	if sys.health != nil {
		m.Health = sys.health.Metrics()
	}
	return m
}

// ShutdownReport says what a graceful shutdown left undone.
type ShutdownReport struct {
	// Unfinished is the number of accepted tasks that had not finished
	// when the deadline passed: those not started were dropped, those
	// running were left to finish on their own (Go cannot stop them).
	Unfinished int
	// Resources is the error of closing the shared resources (joined,
	// each naming its resource), nil when all closed cleanly.
	Resources error
}

// Shutdown stops the system gracefully — the guide's shutdown: it stops
// taking tasks (ErrClosed from now on), lets the accepted ones finish
// while ctx allows, closes the shared resources and the health monitor,
// and takes the metrics off expvar. When ctx ends first it returns ctx's
// error, and the report counts what did not finish; the resources are
// closed then all the same, under the tasks still running (Go cannot stop
// them), and the workers' states are retired when the last of those ends.
// It is idempotent: later calls return the first call's outcome.
func (sys *System[S, In, Out]) Shutdown(ctx context.Context) (ShutdownReport, error) {
	sys.shutOnce.Do(func() {
		n, err := sys.pool.Shutdown(ctx)
		sys.report.Unfinished = n
		sys.report.Resources = sys.resources.Close()
		if sys.health != nil {
			sys.health.Close()
		}
		if sys.page != nil {
			expvarPagesOf.free(sys.page)
		}
		sys.shutErr = err
	})
	return sys.report, sys.shutErr
}

// Close is Shutdown without a deadline.
func (sys *System[S, In, Out]) Close() error {
	rep, err := sys.Shutdown(context.Background())
	return errors.Join(err, rep.Resources)
}
