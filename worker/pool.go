package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/sched"
)

// Kind says where a pool's tasks run.
type Kind uint8

const (
	// CPU tasks run on the scheduler's CPU workers — one per physical
	// core, pinned when the scheduler pins. A CPU task must not block: it
	// would keep its core from every other task.
	CPU Kind = iota
	// IO tasks run on the scheduler's elastic pool for blocking calls
	// (sched.GoBlocking): they may wait on files, sockets and locks.
	IO
)

func (k Kind) String() string {
	switch k {
	case CPU:
		return "cpu"
	case IO:
		return "io"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// PoolOptions configure a Pool. The zero value is a CPU pool with its own
// scheduler, one worker per physical core, and a queue of 1024 tasks.
type PoolOptions struct {
	// Kind is CPU (the default) or IO.
	Kind Kind
	// Workers is the pool's concurrency. For a CPU pool that owns its
	// scheduler it is the scheduler's worker count (0: the physical cores
	// the process may use, capped by GOMAXPROCS); for an IO pool, the
	// most tasks that run at once (0: 64; with a shared Scheduler its
	// Options.MaxBlocking is a cap shared with every other user).
	Workers int
	// QueueSize is how many accepted tasks may wait for a worker beyond
	// those running (0: 1024). When the queue is full, Execute and Submit
	// wait and TrySubmit fails with ErrQueueFull.
	QueueSize int
	// Timeout, if positive, is every task's default deadline: the
	// handler's context ends after it (the caller's own deadline still
	// applies when earlier).
	Timeout time.Duration
	// Scheduler, if set, is where the pool runs its tasks; the pool does
	// not close it. Otherwise the pool starts its own and closes it on
	// Close.
	Scheduler *sched.Scheduler
	// Pin pins the CPU workers of a scheduler the pool starts itself.
	Pin bool
	// Name labels the pool's scheduler for pprof (default "pool") and
	// its workers in Health.
	Name string
	// Health, if set, records every task of the pool: each worker
	// registers a TaskRecorder (named NAME/cpu-ID or NAME/io-N) the first
	// time it runs one, and records its duration and outcome. The pool
	// does not close the monitor.
	Health *HealthMonitor
	// StateLimit, if positive, bounds the size that a worker's state
	// (NewStatefulPool) reports through MemorySizer: after a task, a
	// state that reports more is replaced by a fresh one from newState,
	// and the old one is closed if it is an io.Closer. States that do
	// not implement MemorySizer are never replaced.
	StateLimit int64
}

// Pool runs one typed handler over inputs, on CPU workers or on I/O
// workers — the guide's WorkerPool. Tasks wait in a bounded queue when
// every worker is busy; a task that panics fails with an error matching
// sched.ErrPanic, and its worker is replaced.
// A handler's context says where it runs (Thread, CurrentWorker).
type Pool[In, Out any] struct {
	s       *sched.Scheduler
	own     bool
	kind    Kind
	limit   int64 // tasks admitted at once: workers + queue
	workers int
	timeout time.Duration
	handler func(ctx context.Context, st *poolState, in In) (Out, error)
	states  poolStates
	threads threadContexts // handler contexts that carry the worker (thread.go)

	_ pad.Line
	// admitted counts tasks accepted and not finished; it never exceeds
	// limit. Incremented by submitters, decremented by finishing tasks.
	admitted atomic.Int64
	_        [pad.Size - 8]byte
	running  atomic.Int64
	_        [pad.Size - 8]byte
	room     park.Waiters // submitters waiting for admitted < limit
	drained  park.Waiters // Close waiting for admitted == 0
	closed   atomic.Bool
	// abandoned is set when Shutdown's deadline passed with tasks still
	// running: the last of them to end finishes the close.
	abandoned atomic.Bool

	releaseFn func() // p.release, made once: OnDone takes it without allocating a method value

	completed, failed, panics atomic.Uint64
	closeOnce                 sync.Once
	closeErr                  error
}

const defaultIOWorkers = 64

// NewPool starts a pool that runs handler.
func NewPool[In, Out any](handler func(ctx context.Context, in In) (Out, error), opt PoolOptions) (*Pool[In, Out], error) {
	if handler == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalidOptions)
	}
	return newPool(opt, nil, func(ctx context.Context, _ *poolState, in In) (Out, error) {
		return handler(ctx, in)
	})
}

// NewStatefulPool starts a pool whose handler keeps state of its own per
// worker — the guide's BaseWorker subclass with fields. newState makes a
// worker's state the first time that worker runs a task (id is the
// sched worker id for a CPU pool, a slot number for an IO pool); a worker
// only ever sees its own state, so the handler needs no locking for it.
func NewStatefulPool[S, In, Out any](newState func(id int) *S, handler func(ctx context.Context, st *S, in In) (Out, error), opt PoolOptions) (*Pool[In, Out], error) {
	if handler == nil || newState == nil {
		return nil, fmt.Errorf("%w: nil handler or state constructor", ErrInvalidOptions)
	}
	return newPool(opt, func(id int) any { return newState(id) }, func(ctx context.Context, st *poolState, in In) (Out, error) {
		return handler(ctx, st.v.(*S), in)
	})
}

func newPool[In, Out any](opt PoolOptions, newState func(int) any, handler func(context.Context, *poolState, In) (Out, error)) (*Pool[In, Out], error) {
	switch {
	case opt.Kind != CPU && opt.Kind != IO:
		return nil, fmt.Errorf("%w: Kind = %v", ErrInvalidOptions, opt.Kind)
	case opt.Workers < 0:
		return nil, fmt.Errorf("%w: Workers = %d", ErrInvalidOptions, opt.Workers)
	case opt.QueueSize < 0:
		return nil, fmt.Errorf("%w: QueueSize = %d", ErrInvalidOptions, opt.QueueSize)
	case opt.StateLimit < 0:
		return nil, fmt.Errorf("%w: StateLimit = %d", ErrInvalidOptions, opt.StateLimit)
	case opt.Timeout < 0:
		return nil, fmt.Errorf("%w: Timeout = %v", ErrInvalidOptions, opt.Timeout)
	case opt.Scheduler != nil && opt.Kind == CPU && opt.Workers != 0:
		return nil, fmt.Errorf("%w: Workers is the shared scheduler's; leave it 0", ErrInvalidOptions)
	}
	if opt.QueueSize == 0 {
		opt.QueueSize = 1024
	}
	if opt.Name == "" {
		opt.Name = "pool"
	}
	p := &Pool[In, Out]{kind: opt.Kind, timeout: opt.Timeout, handler: handler, s: opt.Scheduler}
	if p.s == nil {
		so := sched.Options{Name: opt.Name, Pin: opt.Pin}
		if opt.Kind == CPU {
			so.Workers = opt.Workers
		} else {
			// An IO pool's tasks run on the blocking pool, capped at its
			// concurrency; one CPU worker is enough for the rest.
			so.Workers = 1
			so.MaxBlocking = cmp.Or(opt.Workers, defaultIOWorkers)
		}
		s, err := sched.New(so)
		if err != nil {
			return nil, fmt.Errorf("worker: pool scheduler: %w", err)
		}
		p.s, p.own = s, true
	}
	p.workers = p.s.Workers()
	if opt.Kind == IO {
		p.workers = cmp.Or(opt.Workers, defaultIOWorkers)
	}
	p.limit = int64(p.workers + opt.QueueSize)
	p.releaseFn = p.release
	p.states.init(p.s, opt, p.workers, newState)
	p.threads.init(p, opt.Kind, p.s)
	return p, nil
}

// admit reserves room for one task, waiting while the pool is full.
func (p *Pool[In, Out]) admit(ctx context.Context, wait bool) error {
	for {
		if p.closed.Load() {
			return ErrClosed
		}
		n := p.admitted.Load()
		if n < p.limit {
			if p.admitted.CompareAndSwap(n, n+1) {
				// Recheck: Close may have begun after the first check and
				// be waiting for admitted to reach zero; it sees this
				// task either way, and the task is refused here.
				if p.closed.Load() {
					p.release()
					return ErrClosed
				}
				return nil
			}
			continue
		}
		if !wait {
			return ErrQueueFull
		}
		t := p.room.Prepare()
		if p.admitted.Load() < p.limit || p.closed.Load() {
			p.room.Cancel(t)
			continue
		}
		if err := p.room.Park(ctx, t); err != nil {
			return err
		}
	}
}

// enter counts work that is not a queued task (a System's Broadcast) as
// admitted, beyond the limit, so that Shutdown waits for it.
func (p *Pool[In, Out]) enter() error {
	p.admitted.Add(1)
	if p.closed.Load() {
		p.release()
		return ErrClosed
	}
	return nil
}

// release returns a task's room.
func (p *Pool[In, Out]) release() {
	if p.admitted.Add(-1) == 0 && p.closed.Load() {
		p.drained.NotifyAll()
		if p.abandoned.Load() {
			// Shutdown gave up waiting: the last task to end finishes the
			// close, off the worker it ran on (a state's Close is user
			// code, and closing the scheduler waits for that worker).
			go p.finish()
		}
	}
	p.room.Notify(1)
}

// finish closes the pool's own scheduler and retires the states, once.
func (p *Pool[In, Out]) finish() {
	p.closeOnce.Do(func() {
		if p.own {
			p.closeErr = p.s.Close()
		}
		p.states.closeAll()
	})
}

// Execute runs in on a worker and returns the handler's result, waiting
// for room in the queue and for the task while ctx allows. If ctx ends
// first, Execute returns ctx's error; a task already started runs on and
// sees ctx end.
func (p *Pool[In, Out]) Execute(ctx context.Context, in In) (Out, error) {
	f, err := p.submit(ctx, in, true)
	if err != nil {
		var zero Out
		return zero, err
	}
	out, err := f.Wait(ctx)
	return out, mapSchedErr(err) // a task dropped at shutdown: ErrClosed too
}

// Submit queues in and returns the task's future, waiting for room while
// ctx allows.
func (p *Pool[In, Out]) Submit(ctx context.Context, in In) (*sched.Future[Out], error) {
	return p.submit(ctx, in, true)
}

// TrySubmit queues in without waiting: ErrQueueFull when the queue is full.
func (p *Pool[In, Out]) TrySubmit(ctx context.Context, in In) (*sched.Future[Out], error) {
	return p.submit(ctx, in, false)
}

func (p *Pool[In, Out]) submit(ctx context.Context, in In, wait bool) (*sched.Future[Out], error) {
	if err := p.admit(ctx, wait); err != nil {
		return nil, err
	}
	var started atomic.Bool
	var f *sched.Future[Out]
	if p.kind == IO {
		f = sched.GoBlocking(ctx, p.s, func(ctx context.Context) (Out, error) {
			started.Store(true)
			st := p.states.take()
			defer p.states.give(st)
			return p.run(p.threads.ioContext(ctx), st, in)
		})
	} else {
		f = sched.Go(ctx, p.s, func(w *sched.Worker) (Out, error) {
			started.Store(true)
			return p.run(p.threads.context(ctx, w), p.states.of(w), in)
		})
	}
	// The task's room is returned when its future completes, whether it
	// ran or not: refused at once, dropped by a shutdown, or — an I/O
	// task — given up because ctx ended while it waited for a goroutine.
	f.OnDone(p.releaseFn)
	if f.Done() && !started.Load() {
		_, err := f.Wait(ctx)
		return nil, mapSchedErr(err)
	}
	return f, nil
}

func mapSchedErr(err error) error {
	if errors.Is(err, sched.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// run is one task: the default deadline, the accounting, the health
// record, the handler, and the state's size check.
func (p *Pool[In, Out]) run(ctx context.Context, st *poolState, in In) (out Out, err error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	p.running.Add(1)
	t := p.states.begin(st)
	defer func() {
		p.running.Add(-1)
		if v := recover(); v != nil {
			// Counted here; re-raised so the scheduler turns it into a
			// *sched.PanicError and replaces the worker.
			p.panics.Add(1)
			p.failed.Add(1)
			p.states.end(st, t, sched.ErrPanic)
			panic(v)
		}
		if err != nil {
			p.failed.Add(1)
		} else {
			p.completed.Add(1)
		}
		p.states.end(st, t, err)
	}()
	return p.handler(ctx, st, in)
}

// MapOptions tune Pool.Map.
type MapOptions struct {
	// Concurrency caps how many of the inputs run at once (0: the pool's
	// workers).
	Concurrency int
	// CollectErrors runs every input even when some fail, and returns all
	// the failures joined (errors.Join), each naming its index. By
	// default the first failure cancels the inputs not yet started and is
	// the only error returned.
	CollectErrors bool
}

// Map runs every input and returns the outputs in input order. On failure
// it returns the outputs of the inputs that succeeded (zero values
// elsewhere) with the error, which names the failing index.
func (p *Pool[In, Out]) Map(ctx context.Context, ins []In, opt MapOptions) ([]Out, error) {
	if opt.Concurrency < 0 {
		return nil, fmt.Errorf("%w: Concurrency = %d", ErrInvalidOptions, opt.Concurrency)
	}
	lanes := opt.Concurrency
	if lanes == 0 {
		lanes = p.workers
	}
	lanes = min(lanes, len(ins))
	out := make([]Out, len(ins))
	if lanes == 0 {
		return out, nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		stopped atomic.Bool // a lane left inputs behind: ctx ended
		next    atomic.Int64
		mu      sync.Mutex
		errs    []error
		first   error
	)
	fail := func(i int, err error) {
		err = fmt.Errorf("worker: input %d: %w", i, err)
		mu.Lock()
		if first == nil {
			first = err
		}
		errs = append(errs, err)
		mu.Unlock()
		if !opt.CollectErrors {
			cancel()
		}
	}
	// Each lane is one task of the pool that runs inputs one after the
	// other, taking the next index from a shared counter: at most lanes
	// run at once, and a lane stops at the first failure (fail fast).
	// Lanes claim chunks of indices, so that the shared counter is not
	// touched per input; chunks are small enough to balance the lanes.
	chunk := int64(min(256, max(1, len(ins)/(lanes*16))))
	lane := func(ctx context.Context, st *poolState) (struct{}, error) {
		for {
			lo := int(next.Add(chunk) - chunk)
			if lo >= len(ins) {
				return struct{}{}, nil
			}
			for i := lo; i < min(lo+int(chunk), len(ins)); i++ {
				if !opt.CollectErrors && ctx.Err() != nil {
					stopped.Store(true)
					return struct{}{}, nil
				}
				v, err := p.run(ctx, st, ins[i])
				if err != nil {
					fail(i, err)
					continue
				}
				out[i] = v
			}
		}
	}
	futures := make([]*sched.Future[struct{}], 0, lanes)
	for range lanes {
		if err := p.admit(ctx, true); err != nil {
			// The lanes already admitted take every input between them;
			// with none, nothing runs.
			if len(futures) == 0 {
				return out, err
			}
			break
		}
		var f *sched.Future[struct{}]
		if p.kind == IO {
			f = sched.GoBlocking(ctx, p.s, func(ctx context.Context) (struct{}, error) {
				st := p.states.take()
				defer p.states.give(st)
				return lane(p.threads.ioContext(ctx), st)
			})
		} else {
			f = sched.Go(ctx, p.s, func(w *sched.Worker) (struct{}, error) {
				return lane(p.threads.context(ctx, w), p.states.of(w))
			})
		}
		f.OnDone(p.releaseFn) // ran or not, as in submit
		futures = append(futures, f)
	}
	for _, f := range futures {
		// Wait without ctx: every lane must have stopped writing out
		// before Map returns it. A lane returns no error of its own; an
		// error here is a lane the scheduler did not run.
		if _, err := f.Wait(context.Background()); err != nil {
			mu.Lock()
			if first == nil {
				first = mapSchedErr(err)
			}
			errs = append(errs, mapSchedErr(err))
			mu.Unlock()
			cancel()
		}
	}
	if first == nil && stopped.Load() {
		// The lanes stopped before running every input, and no input
		// failed: the caller's context ended.
		if err := parent.Err(); err != nil {
			return out, err
		}
	}
	if opt.CollectErrors {
		return out, errors.Join(errs...)
	}
	return out, first
}

// PoolStats is a snapshot of a pool: the guide's getStats, plus counters.
type PoolStats struct {
	TotalWorkers int // the pool's concurrency
	IdleWorkers  int // workers not running one of its tasks
	BusyWorkers  int // workers running one of its tasks
	QueuedTasks  int // accepted, not started
	ActiveTasks  int // running
	Completed    uint64
	Failed       uint64 // returned an error or panicked
	Panics       uint64
	// StatesReplaced counts worker states replaced for StateLimit.
	StatesReplaced uint64
	Sched          sched.Stats // the scheduler underneath (shared, if the pool shares one)
}

// Scheduler returns the scheduler the pool runs on: its own, or
// PoolOptions.Scheduler. Use it for what is keyed by scheduler worker
// (NewThreadLocal, sched.NewWorkerLocal) or to run other work beside the
// pool's; a pool's own scheduler is closed by the pool's Close.
func (p *Pool[In, Out]) Scheduler() *sched.Scheduler { return p.s }

// Stats returns a snapshot of the pool's state and counters.
func (p *Pool[In, Out]) Stats() PoolStats {
	active := int(p.running.Load())
	st := PoolStats{
		TotalWorkers:   p.workers,
		ActiveTasks:    active,
		BusyWorkers:    min(active, p.workers),
		QueuedTasks:    max(0, int(p.admitted.Load())-active),
		Completed:      p.completed.Load(),
		Failed:         p.failed.Load(),
		Panics:         p.panics.Load(),
		StatesReplaced: p.states.replaced.Load(),
		Sched:          p.s.Stats(),
	}
	st.IdleWorkers = st.TotalWorkers - st.BusyWorkers
	return st
}

// Close stops accepting tasks (ErrClosed from now on), waits for every
// accepted task to finish, closes the pool's own scheduler, and retires
// the workers' states (those that are io.Closers are closed; recorders
// leave PoolOptions.Health). It is idempotent; the guide's terminate.
func (p *Pool[In, Out]) Close() error {
	_, err := p.Shutdown(context.Background())
	return err
}

// Shutdown is Close with a deadline: when ctx ends first it returns ctx's
// error and the number of accepted tasks still unfinished (an owned
// scheduler drops those not started; a running task cannot be stopped).
func (p *Pool[In, Out]) Shutdown(ctx context.Context) (unfinished int, err error) {
	p.closed.Store(true)
	p.room.NotifyAll() // waiting submitters see the pool closed
	for p.admitted.Load() > 0 {
		t := p.drained.Prepare()
		if p.admitted.Load() == 0 {
			p.drained.Cancel(t)
			break
		}
		if err := p.drained.Park(ctx, t); err != nil {
			n := int(p.admitted.Load())
			if p.own {
				p.s.Shutdown(ctx) // drops what has not started
			}
			// What still runs finishes the close when it ends (release);
			// if it all ended meanwhile, finish here.
			p.abandoned.Store(true)
			if p.admitted.Load() == 0 {
				p.finish()
			}
			return n, err
		}
	}
	p.finish()
	return 0, p.closeErr
}
