package sched

import (
	"context"
	"errors"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/ring"
)

// blockingPool is the scheduler's elastic pool for blocking calls (the
// guide's IOWorker): plain goroutines, started on demand up to a maximum
// and ended after an idle spell, so that a task that waits on a file, a
// socket or a lock never occupies one of the scheduler's CPU workers.
//
// Its liveness rests on one rule: a queued call always has a goroutine
// coming for it. A submitter queues, then starts a goroutine if fewer are
// idle than calls are queued; a goroutine that times out stops counting
// itself idle and running, then looks at the queue once more and takes
// up the work again if any is there. Both sides write, then read what the
// other writes (sequentially consistent atomics), so one of them sees the
// other: a call is never left queued with nobody to run it.
type blockingPool struct {
	q        *ring.MPMC[*job]
	max      int32
	idleFor  time.Duration
	running  atomic.Int32 // goroutines alive
	idle     atomic.Int32 // goroutines waiting for a call
	wg       sync.WaitGroup
	stop     context.Context // cancelled when Shutdown gives up: calls see it in their ctx
	cancel   context.CancelFunc
	done     atomic.Uint64 // calls finished
	panics   atomic.Uint64
	notRun   atomic.Uint64
	accepted atomic.Uint64
}

func newBlockingPool(queue, maxG int, idleFor time.Duration) (*blockingPool, error) {
	q, err := ring.NewMPMC[*job](queue)
	if err != nil {
		return nil, err
	}
	p := &blockingPool{q: q, max: int32(maxG), idleFor: idleFor}
	p.stop, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// blockingCall is a queued call of GoBlocking or SubmitBlocking.
type blockingCall struct {
	job
	ctx context.Context
	fn  func(ctx context.Context) // runs the call and completes its future
}

func (c *blockingCall) run(*Worker) { c.fn(c.ctx) }

// abandon completes the call's future with ErrClosed (see GoBlocking).
func (c *blockingCall) abandon() { c.fn(nil) }

// submit queues c, waiting for room while ctx allows.
func (p *blockingPool) submit(ctx context.Context, c *blockingCall, s *Scheduler) error {
	if s.state.Load() == stateAbandon {
		return ErrClosed
	}
	if err := p.q.Push(ctx, &c.job); err != nil {
		if errors.Is(err, ring.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	p.accepted.Add(1)
	if int(p.idle.Load()) < p.q.Len() {
		p.start(s)
	}
	return nil
}

// start starts a goroutine unless max are running.
func (p *blockingPool) start(s *Scheduler) {
	if !p.reserve() {
		return
	}
	p.wg.Add(1)
	go p.loop(s)
}

// reserve counts one more running goroutine, if there is room.
func (p *blockingPool) reserve() bool {
	for {
		r := p.running.Load()
		if r >= p.max {
			return false
		}
		if p.running.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (p *blockingPool) loop(s *Scheduler) {
	defer p.wg.Done()
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
		pprof.Labels("sched", s.name, "worker", "blocking")))
	for {
		p.idle.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), p.idleFor)
		j, err := p.q.Pop(ctx)
		cancel()
		p.idle.Add(-1)
		switch {
		case err == nil:
			p.run(j.r.(*blockingCall), s)
		case errors.Is(err, ring.ErrClosed):
			p.running.Add(-1)
			return
		default: // idle for idleFor
			p.running.Add(-1)
			if p.q.Len() == 0 || !p.reserve() {
				return
			}
		}
	}
}

func (p *blockingPool) run(c *blockingCall, s *Scheduler) {
	defer p.done.Add(1)
	// The call itself recovers its panics; what can still panic here is
	// an OnDone hook of its future, re-raised after the others ran.
	defer func() {
		if v := recover(); v != nil {
			p.recovered(v, s)
		}
	}()
	if s.state.Load() == stateAbandon {
		p.notRun.Add(1)
		c.fn(nil) // completes the future with ErrClosed
		return
	}
	c.fn(c.ctx)
}

// recovered records a panic in a blocking call.
func (p *blockingPool) recovered(v any, s *Scheduler) *PanicError {
	e := &PanicError{Value: v, Stack: debug.Stack(), Worker: -1}
	p.panics.Add(1)
	if h := s.opt.PanicHandler; h != nil {
		h(-1, v, e.Stack)
	}
	return e
}

// close stops accepting calls; the goroutines run what is queued and
// exit. A goroutine is started if calls are queued and none is running.
func (p *blockingPool) close(s *Scheduler) {
	p.q.Close()
	if p.q.Len() > 0 {
		p.start(s)
	}
}

// GoBlocking runs fn on the scheduler's pool for blocking calls — plain
// goroutines, started on demand up to Options.MaxBlocking and ended after
// Options.BlockingIdle without work — and returns its future. Use it for
// anything that waits (files, sockets, locks, sleeps): a blocking call on
// a CPU worker would keep the worker's core from running tasks.
//
// fn receives a context that ends when ctx does, and also when Shutdown's
// deadline passes. ctx also bounds the wait for room in the queue; if the
// call cannot be queued, or the scheduler gives up on it, the future
// completes with the error (ErrClosed, ctx's error). A panic in fn
// completes the future with a *PanicError (Worker -1). Calls are accepted
// until Close or Shutdown has let the CPU workers finish, so a closing
// scheduler's tasks can still make blocking calls.
func GoBlocking[R any](ctx context.Context, s *Scheduler, fn func(ctx context.Context) (R, error)) *Future[R] {
	f, _ := goBlocking(ctx, s, fn)
	return f
}

// goBlocking is GoBlocking that also returns the error of queueing.
func goBlocking[R any](ctx context.Context, s *Scheduler, fn func(ctx context.Context) (R, error)) (*Future[R], error) {
	f := &Future[R]{}
	if fn == nil {
		f.complete(*new(R), ErrNilFunc)
		return f, ErrNilFunc
	}
	p := s.blocking
	c := &blockingCall{ctx: ctx}
	c.r = c
	c.fn = func(ctx context.Context) {
		if ctx == nil {
			f.complete(*new(R), ErrClosed)
			return
		}
		if err := ctx.Err(); err != nil {
			f.complete(*new(R), err)
			return
		}
		v, err := callBlocking(ctx, p, s, fn)
		f.complete(v, err) // outside the call's recover: a hook's panic is not the call's result
	}
	err := p.submit(ctx, c, s)
	if err != nil {
		f.complete(*new(R), err)
	}
	return f, err
}

// callBlocking runs fn with a context that also ends when Shutdown gives
// up, turning a panic into a *PanicError.
func callBlocking[R any](ctx context.Context, p *blockingPool, s *Scheduler, fn func(ctx context.Context) (R, error)) (v R, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(p.stop, cancel)()
	defer func() {
		if r := recover(); r != nil {
			v, err = *new(R), p.recovered(r, s)
		}
	}()
	return fn(ctx)
}

// SubmitBlocking queues fn on the pool for blocking calls (see
// GoBlocking), waiting for room while ctx allows. It fails with ErrClosed
// once the pool no longer accepts calls.
func (s *Scheduler) SubmitBlocking(ctx context.Context, fn func(ctx context.Context)) error {
	if fn == nil {
		return ErrNilFunc
	}
	_, err := goBlocking(ctx, s, func(ctx context.Context) (struct{}, error) {
		fn(ctx)
		return struct{}{}, nil
	})
	return err
}
