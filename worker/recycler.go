package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
)

// Recycler lends out long-lived workers and replaces them as they wear
// out — the guide's WorkerRecycler. A worker here is the state a task
// needs (a connection, a parser, buffers, an arena) made by a constructor,
// with its accounting; the task runs on the goroutine that acquired it.
// At most MaxWorkers exist at once; Acquire takes an idle one, or makes
// one, or waits. A worker is retired — its state closed, if it is an
// io.Closer — after MaxTasks tasks, after MaxAge, after MaxIdle without
// a task, when its state reports more than StateLimit bytes, or when the
// process's heap is over the heap limit.
//
// Memory is measured in two ways, and only these. The process's Go heap:
// the live bytes of the last completed GC (runtime/metrics
// /gc/heap/live:bytes), compared with HeapLimit and with
// HeapLimitFraction of the runtime's soft limit (/gc/gomemlimit:bytes),
// sampled at most once a millisecond. It counts every goroutine's live
// objects, not only the workers'; it does not count garbage not yet
// collected, goroutine stacks, runtime metadata, memory off the Go heap
// (shm arenas, cgo, kernel buffers), or what was allocated since the last
// GC. And each worker's state, as it reports itself through MemorySizer,
// compared with StateLimit at every release: an account the state keeps,
// which may include memory off the heap that only it knows of. Nothing
// else — Go cannot attribute heap bytes to the goroutine or object that
// holds them without walking the heap.
//
// Acquire and Release take no lock: each worker has a slot, and an idle
// worker sits in its slot until an acquirer takes it with a
// compare-and-swap. Acquirers try the lowest slots first, so a lightly
// loaded recycler keeps reusing the same few workers and lets the others
// go idle and be retired.
type Recycler[S any] struct {
	opt      RecyclerOptions
	newState func(ctx context.Context, id int) (S, error)
	epoch    time.Time
	slots    []recyclerSlot[S]
	sizer    int8 // 1: S implements MemorySizer; -1: it does not; 0: unknown until a state is made

	_ pad.Line
	// live counts workers that exist or are being made; it never exceeds
	// MaxWorkers. An acquirer raises it before making a worker, and
	// retire lowers it after freeing the worker's slot, so a slot is free
	// for every acquirer that has raised it.
	live    atomic.Int64
	_       [pad.Size - 8]byte
	waiters park.Waiters // acquirers waiting for an idle worker or room for a new one
	closed  atomic.Bool
	heap    recyclerHeap

	made, waits, makeErrs, closeErrs atomic.Uint64
	retired                          [recycleReasons]atomic.Uint64
	stateBytes                       atomic.Int64

	closeErr  error // the idle states' Close errors, set inside closeOnce
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// recyclerSlot is one worker's place. Its worker is idle when idle holds
// it: whoever swaps it out (an acquirer, the check, Close) owns the worker
// until it stores it back. Only the owner of the slot's worker writes idle
// with a non-nil value, and that store publishes everything the owner did
// with the worker (its state, its counts) to the next owner.
type recyclerSlot[S any] struct {
	idle     atomic.Pointer[RecycledWorker[S]]
	owned    atomic.Bool   // a worker (idle, on loan, or being made) holds the slot
	acquires atomic.Uint64 // loans of this slot's workers; bumped by their owner
	_        [pad.Size - 24]byte
}

// RecycledWorker is a worker on loan from a Recycler: its state and its
// accounting. Only the goroutine that acquired it may use it, until
// Release or Retire.
type RecycledWorker[S any] struct {
	r      *Recycler[S]
	state  S
	slot   int
	serial uint64
	born   time.Duration // ns since the recycler's epoch
	tasks  int           // written by the owner
	size   int64         // the state's last reported size; written by the owner
	leased atomic.Bool
	// idleSince is when the worker was last released, ns since the epoch;
	// written by the releasing owner before the worker is stored in its
	// slot, read by the check, which may look at an idle worker it does
	// not own.
	idleSince atomic.Int64
}

// State returns the worker's state, made by the recycler's constructor.
func (w *RecycledWorker[S]) State() S { return w.state }

// ID returns the worker's slot, 0 ≤ ID < MaxWorkers: the id its state was
// made with. A retired worker's successor may get the same id.
func (w *RecycledWorker[S]) ID() int { return w.slot }

// Serial returns the worker's number among all the workers the recycler
// has made, from 1.
func (w *RecycledWorker[S]) Serial() uint64 { return w.serial }

// Tasks returns how many tasks the worker has finished (released).
func (w *RecycledWorker[S]) Tasks() int { return w.tasks }

// Age returns how long ago the worker was made.
func (w *RecycledWorker[S]) Age() time.Duration { return time.Since(w.r.epoch) - w.born }

// Why a worker was retired.
const (
	recycleTasks = iota
	recycleAge
	recycleIdle
	recycleHeap
	recycleStateSize
	recycleRetire // Retire was called
	recycleClosed
	recycleReasons
)

// NewRecycler returns a recycler whose workers' states are made by
// newState (id is the worker's slot, see RecycledWorker.ID). It makes no
// worker until the first Acquire.
func NewRecycler[S any](newState func(ctx context.Context, id int) (S, error), opt RecyclerOptions) (*Recycler[S], error) {
	if newState == nil {
		return nil, fmt.Errorf("%w: nil state constructor", ErrInvalidOptions)
	}
	if err := opt.validate(); err != nil {
		return nil, err
	}
	r := &Recycler[S]{
		opt: opt, newState: newState, epoch: time.Now(),
		slots: make([]recyclerSlot[S], opt.MaxWorkers),
		quit:  make(chan struct{}), done: make(chan struct{}),
	}
	var zero S
	if _, ok := any(zero).(MemorySizer); ok {
		r.sizer = 1 // a pointer type with the method: known without a state
	}
	r.heap.init(opt.HeapLimit, opt.HeapLimitFraction)
	if opt.CheckInterval > 0 {
		go r.checkLoop()
	} else {
		close(r.done)
	}
	return r, nil
}

func (r *Recycler[S]) now() time.Duration { return time.Since(r.epoch) }

// Acquire lends out a worker: an idle one, or a new one while fewer than
// MaxWorkers exist, or else the first one released, waiting while ctx
// allows. It fails with ErrClosed once the recycler is closed, with ctx's
// error, or with the constructor's error (wrapped).
func (r *Recycler[S]) Acquire(ctx context.Context) (*RecycledWorker[S], error) {
	waited := false // counted in waits once
	for {
		if r.closed.Load() {
			return nil, fmt.Errorf("worker: recycler acquire: %w", ErrClosed)
		}
		if w := r.takeIdle(); w != nil {
			// Recheck: Close may have swept the slots before this worker
			// was taken; it is retired here instead.
			if r.closed.Load() {
				r.retire(w, recycleClosed)
				return nil, fmt.Errorf("worker: recycler acquire: %w", ErrClosed)
			}
			return r.lend(w), nil
		}
		if n := r.live.Load(); n < int64(len(r.slots)) {
			if !r.live.CompareAndSwap(n, n+1) {
				continue
			}
			w, err := r.make(ctx)
			if err != nil {
				return nil, err
			}
			if r.closed.Load() { // closed while the state was being made
				r.retire(w, recycleClosed)
				return nil, fmt.Errorf("worker: recycler acquire: %w", ErrClosed)
			}
			return r.lend(w), nil
		}
		// Every worker is on loan: announce, recheck, sleep. A release
		// stores its worker in its slot (or lowers live) before it
		// notifies, so the recheck sees it or the notification wakes us.
		t := r.waiters.Prepare()
		if r.closed.Load() || r.live.Load() < int64(len(r.slots)) || r.anyIdle() {
			r.waiters.Cancel(t)
			continue
		}
		if !waited {
			waited = true
			r.waits.Add(1)
		}
		if err := r.waiters.Park(ctx, t); err != nil {
			return nil, fmt.Errorf("worker: recycler acquire: %w", err)
		}
	}
}

func (r *Recycler[S]) lend(w *RecycledWorker[S]) *RecycledWorker[S] {
	r.slots[w.slot].acquires.Add(1) // on the slot's line, which the acquirer holds already
	w.leased.Store(true)
	return w
}

// takeIdle swaps out the idle worker of the lowest slot that has one,
// retiring on the way those past MaxIdle or MaxAge.
func (r *Recycler[S]) takeIdle() *RecycledWorker[S] {
	for i := range r.slots {
		s := &r.slots[i]
		w := s.idle.Load()
		if w == nil || !s.idle.CompareAndSwap(w, nil) {
			continue
		}
		if why, ok := r.idleExpired(w, r.now()); ok {
			r.retire(w, why)
			continue
		}
		return w
	}
	return nil
}

func (r *Recycler[S]) anyIdle() bool {
	for i := range r.slots {
		if r.slots[i].idle.Load() != nil {
			return true
		}
	}
	return false
}

// idleExpired reports whether idle worker w is past MaxIdle or MaxAge.
func (r *Recycler[S]) idleExpired(w *RecycledWorker[S], now time.Duration) (int, bool) {
	if r.opt.MaxIdle > 0 && now-time.Duration(w.idleSince.Load()) >= r.opt.MaxIdle {
		return recycleIdle, true
	}
	if r.opt.MaxAge > 0 && now-w.born >= r.opt.MaxAge {
		return recycleAge, true
	}
	return 0, false
}

// make makes a worker for an acquirer that has raised live.
func (r *Recycler[S]) make(ctx context.Context) (*RecycledWorker[S], error) {
	slot := -1
	var b park.Backoff
	for slot < 0 {
		for i := range r.slots {
			if !r.slots[i].owned.Load() && r.slots[i].owned.CompareAndSwap(false, true) {
				slot = i
				break
			}
		}
		if slot < 0 {
			// Fewer slots are owned than live counts (retire frees the
			// slot before lowering live, we raised live before looking),
			// so one is free; the scan missed it because it was freed
			// behind it while another acquirer took one ahead. Retry.
			b.Spin()
		}
	}
	fail := func(err error) (*RecycledWorker[S], error) {
		r.slots[slot].owned.Store(false)
		r.live.Add(-1)
		r.waiters.Notify(1)
		return nil, err
	}
	st, err := r.newState(ctx, slot)
	if err != nil {
		r.makeErrs.Add(1)
		return fail(fmt.Errorf("worker: recycler: making worker %d: %w", slot, err))
	}
	if r.opt.StateLimit > 0 && r.sizer <= 0 {
		if _, ok := any(st).(MemorySizer); !ok {
			if c, ok := any(st).(io.Closer); ok {
				c.Close()
			}
			return fail(fmt.Errorf("%w: StateLimit set but the state (%T) does not implement MemorySizer", ErrInvalidOptions, st))
		}
	}
	return &RecycledWorker[S]{r: r, state: st, slot: slot, serial: r.made.Add(1), born: r.now()}, nil
}

// Release returns a worker after a task. The worker is then retired if it
// has done MaxTasks tasks, is older than MaxAge, its state reports more
// than StateLimit, or the heap limit asks for one — or if the recycler is
// closed; otherwise it goes back to idle. Release returns the state's
// Close error when it retires the worker, and ErrNotAcquired for a worker
// not on loan from r.
func (r *Recycler[S]) Release(w *RecycledWorker[S]) error {
	return r.release(w, false)
}

// Retire returns a worker after a task and retires it whatever its
// counts: for a worker whose state the task found broken.
func (r *Recycler[S]) Retire(w *RecycledWorker[S]) error {
	return r.release(w, true)
}

func (r *Recycler[S]) release(w *RecycledWorker[S], retire bool) error {
	if w == nil || w.r != r || !w.leased.CompareAndSwap(true, false) {
		return fmt.Errorf("worker: recycler release: %w", ErrNotAcquired)
	}
	w.tasks++
	now := r.now()
	if r.opt.StateLimit > 0 {
		if ms, ok := any(w.state).(MemorySizer); ok {
			sz := ms.MemorySize()
			r.stateBytes.Add(sz - w.size)
			w.size = sz
		}
	}
	why := -1
	switch {
	case retire:
		why = recycleRetire
	case r.closed.Load():
		why = recycleClosed
	case r.opt.MaxTasks > 0 && w.tasks >= r.opt.MaxTasks:
		why = recycleTasks
	case r.opt.MaxAge > 0 && now-w.born >= r.opt.MaxAge:
		why = recycleAge
	case r.opt.StateLimit > 0 && w.size > r.opt.StateLimit:
		why = recycleStateSize
	case r.heap.shed(now):
		why = recycleHeap
	}
	if why >= 0 {
		return r.retire(w, why)
	}
	w.idleSince.Store(int64(now))
	s := &r.slots[w.slot]
	s.idle.Store(w) // publishes w to its next owner
	// Close sets closed, then sweeps the slots; we stored w, then load
	// closed: one of us sees the other (both sequentially consistent).
	if r.closed.Load() && s.idle.CompareAndSwap(w, nil) {
		return r.retire(w, recycleClosed)
	}
	r.waiters.Notify(1)
	return nil
}

// retire closes a worker its caller owns and frees its slot.
func (r *Recycler[S]) retire(w *RecycledWorker[S], why int) error {
	var err error
	if c, ok := any(w.state).(io.Closer); ok {
		if cerr := c.Close(); cerr != nil {
			r.closeErrs.Add(1)
			err = fmt.Errorf("worker: recycler: closing worker %d (#%d): %w", w.slot, w.serial, cerr)
		}
	}
	r.stateBytes.Add(-w.size)
	r.retired[why].Add(1)
	r.slots[w.slot].owned.Store(false) // before live: see Recycler.live
	r.live.Add(-1)
	r.waiters.Notify(1)
	return err
}

// Do acquires a worker, runs fn with its state, and releases it (retires
// it if fn panics, then re-panics). It returns fn's error, or the
// acquisition's.
func (r *Recycler[S]) Do(ctx context.Context, fn func(ctx context.Context, state S) error) error {
	w, err := r.Acquire(ctx)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			r.Retire(w)
		}
	}()
	err = fn(ctx, w.state)
	ok = true
	if rerr := r.Release(w); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Close retires every idle worker and stops the background check;
// Acquire fails with ErrClosed from now on, and workers still on loan are
// retired when released. It returns the idle states' Close errors, joined.
// It is idempotent — the guide's terminateAll.
func (r *Recycler[S]) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.waiters.NotifyAll()
		close(r.quit)
		<-r.done
		var errs []error
		for i := range r.slots {
			s := &r.slots[i]
			if w := s.idle.Load(); w != nil && s.idle.CompareAndSwap(w, nil) {
				if err := r.retire(w, recycleClosed); err != nil {
					errs = append(errs, err)
				}
			}
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}
