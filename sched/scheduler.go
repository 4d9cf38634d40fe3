package sched

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/affinity"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/ring"
)

// Options configure a Scheduler. The zero value is a scheduler with one
// worker per physical core, capped by GOMAXPROCS.
type Options struct {
	// Name labels the workers' goroutines for pprof (label "sched").
	// Zero means "sched".
	Name string
	// Workers is the number of workers. Zero means the number of physical
	// cores, capped by GOMAXPROCS; negative is an error.
	Workers int
	// QueueSize is the capacity of the queue that takes submissions from
	// outside the scheduler, rounded up to a power of two. Zero means 4096.
	QueueSize int
	// LocalQueueSize is the capacity of each worker's deque, a power of
	// two. Zero means 256. A task that spawns into a full deque spills
	// into the submission queue.
	LocalQueueSize int
	// PanicHandler, if set, is called on the worker's goroutine after a
	// task panics, with the recovered value and the stack. The worker is
	// then replaced by a fresh goroutine on a fresh OS thread.
	PanicHandler func(worker int, value any, stack []byte)
	// StuckAfter, if positive, makes a monitor report (in Stats.Stuck) the
	// workers whose current task has run longer than this. Go cannot
	// preempt a task; this only makes it visible.
	StuckAfter time.Duration
	// Pin pins each worker's thread to a CPU of its own: the CPUs listed
	// in CPUs, or else those affinity's Plan picks (one per physical core
	// first, only CPUs the process may use). New fails if a CPU cannot be
	// used or there are not enough of them; on a platform without
	// affinity it fails with an error matching affinity.ErrUnsupported.
	Pin bool
	// CPUs, with Pin, are the CPUs for workers 0, 1, … in order; it must
	// have exactly Workers entries (or, with Workers zero, sets it).
	CPUs []int
	// MaxBlocking caps the goroutines of the pool for blocking calls
	// (GoBlocking). Zero means 256.
	MaxBlocking int
	// BlockingIdle is how long a goroutine of that pool waits for a call
	// before it ends. Zero means 10s.
	BlockingIdle time.Duration
}

// Scheduler runs tasks on a fixed set of workers, each a goroutine locked
// to its own OS thread with its own work-stealing deque. Tasks submitted
// from outside go through a shared lock-free queue; tasks spawned by a
// running task go onto its worker's deque, from which idle workers steal.
type Scheduler struct {
	name     string
	workers  []*Worker
	inject   *ring.MPMC[task]
	blocking *blockingPool
	opt      Options

	_ pad.Line
	// submitted counts top-level tasks accepted from outside. Written by
	// submitters (never by workers, which count in their own lines).
	submitted atomic.Uint64
	_         [pad.Size - 8]byte
	// searching is the number of workers looking for work to steal; a
	// submission wakes a parked worker only when it is zero.
	searching atomic.Int32
	_         [pad.Size - 4]byte

	idle     park.Waiters  // parked workers
	state    atomic.Int32  // one of the state… constants below
	quit     chan struct{} // closed when Close or Shutdown returns: stops the monitor
	quitOnce sync.Once
	wg       sync.WaitGroup
	mon      sync.WaitGroup // the stuck-task monitor

	replaced atomic.Uint64
	stuck    atomic.Int32
	notRun   atomic.Uint64
	closeMu  sync.Mutex // serialises Close and Shutdown
}

const (
	stateOpen    = iota // accepting tasks
	stateClosing        // not accepting; draining
	stateAbandon        // not accepting; dropping queued work
)

// New starts a scheduler.
func New(opt Options) (*Scheduler, error) {
	if opt.Workers < 0 {
		return nil, fmt.Errorf("%w: Workers = %d", ErrInvalidOptions, opt.Workers)
	}
	if len(opt.CPUs) > 0 && !opt.Pin {
		return nil, fmt.Errorf("%w: CPUs without Pin", ErrInvalidOptions)
	}
	if opt.Workers == 0 && len(opt.CPUs) > 0 {
		opt.Workers = len(opt.CPUs)
	}
	if opt.Workers == 0 {
		opt.Workers = DefaultWorkers()
	}
	cpus, err := placement(opt)
	if err != nil {
		return nil, err
	}
	if opt.QueueSize < 0 || opt.QueueSize > ring.MaxCapacity {
		return nil, fmt.Errorf("%w: QueueSize = %d", ErrInvalidOptions, opt.QueueSize)
	}
	if opt.QueueSize == 0 {
		opt.QueueSize = 4096
	}
	if opt.LocalQueueSize == 0 {
		opt.LocalQueueSize = 256
	}
	if l := opt.LocalQueueSize; l < 2 || l > 1<<20 || l&(l-1) != 0 {
		return nil, fmt.Errorf("%w: LocalQueueSize = %d (want a power of two in 2..2^20)", ErrInvalidOptions, l)
	}
	if opt.StuckAfter < 0 {
		return nil, fmt.Errorf("%w: StuckAfter = %v", ErrInvalidOptions, opt.StuckAfter)
	}
	if opt.MaxBlocking < 0 {
		return nil, fmt.Errorf("%w: MaxBlocking = %d", ErrInvalidOptions, opt.MaxBlocking)
	}
	if opt.MaxBlocking == 0 {
		opt.MaxBlocking = 256
	}
	if opt.BlockingIdle < 0 {
		return nil, fmt.Errorf("%w: BlockingIdle = %v", ErrInvalidOptions, opt.BlockingIdle)
	}
	if opt.BlockingIdle == 0 {
		opt.BlockingIdle = 10 * time.Second
	}
	if opt.Name == "" {
		opt.Name = "sched"
	}
	inject, err := ring.NewMPMC[task](opt.QueueSize)
	if err != nil {
		return nil, fmt.Errorf("%w: QueueSize: %w", ErrInvalidOptions, err)
	}
	blocking, err := newBlockingPool(opt.QueueSize, opt.MaxBlocking, opt.BlockingIdle)
	if err != nil {
		return nil, fmt.Errorf("%w: QueueSize: %w", ErrInvalidOptions, err)
	}
	s := &Scheduler{name: opt.Name, inject: inject, blocking: blocking, opt: opt, quit: make(chan struct{})}
	s.workers = make([]*Worker, opt.Workers)
	for i := range s.workers {
		s.workers[i] = newWorker(s, i, opt.LocalQueueSize)
		if cpus != nil {
			s.workers[i].cpu = cpus[i]
		}
	}
	s.wg.Add(len(s.workers))
	if cpus == nil {
		for _, w := range s.workers {
			go w.loop(nil)
		}
	} else {
		// Each worker pins its own thread and reports; New returns only
		// once every worker is pinned, or fails as a whole.
		pinned := make(chan error, len(s.workers))
		for _, w := range s.workers {
			go w.loop(pinned)
		}
		var errs []error
		for range s.workers {
			if err := <-pinned; err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			s.Close()
			return nil, fmt.Errorf("sched: pinning workers: %w", errors.Join(errs...))
		}
	}
	if opt.StuckAfter > 0 {
		s.mon.Go(s.monitor)
	}
	return s, nil
}

// DefaultWorkers is the worker count New uses when Options.Workers is zero:
// the physical cores the process may use (its affinity mask, which
// reflects cpusets and containers), capped by GOMAXPROCS, at least 1.
func DefaultWorkers() int {
	n := 0
	if t, err := topology(); err == nil {
		n = t.PhysicalCoresAllowed()
	}
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return max(1, min(n, runtime.GOMAXPROCS(0)))
}

// topology is the machine's, read once: reading sysfs costs milliseconds,
// and the topology of a running machine does not change.
var topology = sync.OnceValues(affinity.Detect)

// placement returns the CPU of each worker, or nil when not pinning.
func placement(opt Options) ([]int, error) {
	if !opt.Pin {
		return nil, nil
	}
	if len(opt.CPUs) > 0 {
		if len(opt.CPUs) != opt.Workers {
			return nil, fmt.Errorf("%w: %d CPUs for %d workers", ErrInvalidOptions, len(opt.CPUs), opt.Workers)
		}
		allowed, err := affinity.Allowed()
		if err != nil {
			return nil, fmt.Errorf("%w: Pin: %w", ErrInvalidOptions, err)
		}
		for _, c := range opt.CPUs {
			if !allowed.Has(c) {
				return nil, fmt.Errorf("%w: CPUs: %w: %d is not among the allowed CPUs %v", ErrInvalidOptions, affinity.ErrInvalidCPU, c, allowed)
			}
		}
		return slices.Clone(opt.CPUs), nil
	}
	t, err := topology()
	if err != nil {
		return nil, fmt.Errorf("%w: Pin: %w", ErrInvalidOptions, err)
	}
	cpus, err := t.Plan(opt.Workers)
	if err != nil {
		return nil, fmt.Errorf("%w: Pin: %w", ErrInvalidOptions, err)
	}
	return cpus, nil
}

// Workers returns the number of workers.
func (s *Scheduler) Workers() int { return len(s.workers) }

// Submit queues fn to run on some worker, waiting while the submission
// queue is full. It fails with ErrClosed once the scheduler is closing,
// and with ctx's error if ctx ends first. A panic in fn is recovered,
// counted in Stats and passed to Options.PanicHandler.
func (s *Scheduler) Submit(ctx context.Context, fn func(w *Worker)) error {
	if fn == nil {
		return ErrNilFunc
	}
	return s.submit(ctx, task{fn: fn}, true)
}

// TrySubmit queues fn without waiting. It fails with ErrQueueFull when the
// submission queue is full and ErrClosed once the scheduler is closing.
func (s *Scheduler) TrySubmit(fn func(w *Worker)) error {
	if fn == nil {
		return ErrNilFunc
	}
	return s.submit(context.Background(), task{fn: fn}, false)
}

// submit accounts for j and queues it. With wait false it never blocks.
func (s *Scheduler) submit(ctx context.Context, t task, wait bool) error {
	// Count first, then check the state: a closing worker that sees the
	// state change also sees this count, so it cannot conclude that all
	// work is done while this submission is in flight.
	s.submitted.Add(1)
	if s.state.Load() != stateOpen {
		s.submitted.Add(^uint64(0))
		return ErrClosed
	}
	var err error
	if wait {
		err = s.inject.Push(ctx, t)
	} else {
		err = s.inject.TryPush(t)
	}
	if err != nil {
		s.submitted.Add(^uint64(0))
		switch err {
		case ring.ErrFull:
			return ErrQueueFull
		case ring.ErrClosed:
			return ErrClosed
		}
		return err
	}
	s.wake()
	return nil
}

// wake makes sure some worker will look for the work just queued: if no
// worker is searching and one is parked, wake it. The woken worker counts
// itself as searching, so that a burst of submissions does not wake every
// sleeper; once it finds work it wakes the next if it was the last
// searcher, so a burst still spreads to every worker.
func (s *Scheduler) wake() {
	if s.idle.Waiting() && s.searching.Load() == 0 {
		s.idle.Notify(1)
	}
}

// pending reports whether some accepted top-level task has not finished.
// Completions are read before spawns: a task that spawned another is
// counted complete only after its spawn, so the sums can overstate the
// work left but never understate it.
func (s *Scheduler) pending() bool {
	var done, spawned uint64
	for _, w := range s.workers {
		done += w.completed.Load()
	}
	for _, w := range s.workers {
		spawned += w.spawned.Load()
	}
	return s.submitted.Load()+spawned != done
}

// Close stops accepting tasks (submissions fail with ErrClosed from now
// on), runs every task already accepted, including those they spawn, then
// every blocking call accepted (see GoBlocking), and returns when every
// worker and every goroutine of the blocking pool has exited. It is
// idempotent.
func (s *Scheduler) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.state.CompareAndSwap(stateOpen, stateClosing)
	s.idle.NotifyAll()
	s.wg.Wait()
	s.seal(false) // nothing is left to drop: the workers ran it all
	s.blocking.close(s)
	s.blocking.wg.Wait()
	s.blocking.cancel()
	s.stopMonitor()
	return nil
}

// Shutdown is Close with a deadline: when ctx ends before the accepted
// tasks have run, workers drop what is still queued (futures complete with
// ErrClosed) and Shutdown returns ctx's error with the number of accepted
// tasks that did not run. A task that is running cannot be interrupted;
// its worker exits when it returns, dropping what its own deque still
// holds then — those tasks are not in the count Shutdown returns, but in
// Stats.NotRun once dropped.
func (s *Scheduler) Shutdown(ctx context.Context) (notRun int, err error) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.state.CompareAndSwap(stateOpen, stateClosing)
	s.idle.NotifyAll()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.blocking.close(s)
		s.blocking.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.blocking.cancel()
		s.stopMonitor()
		return s.notRunTotal(), nil
	case <-ctx.Done():
	}
	s.state.CompareAndSwap(stateClosing, stateAbandon)
	s.blocking.cancel() // blocking calls see their context end
	s.blocking.close(s) // queued calls complete with ErrClosed
	s.idle.NotifyAll()
	// Drop what is still queued (workers drop their deques; each pop is
	// exclusive, so nothing is counted twice). Closing the queues first
	// fails submitters still waiting for room with ErrClosed, so that
	// nothing gets in after the last look.
	s.seal(true)
	// Workers not inside a task exit promptly, counting what they drop;
	// queued blocking calls complete with ErrClosed. Wait for them, but
	// not for a task or call that does not return.
	deadline := time.NewTimer(100 * time.Millisecond)
	defer deadline.Stop()
	select {
	case <-done:
	case <-deadline.C:
	}
	s.stopMonitor()
	return s.notRunTotal(), ctx.Err()
}

// seal closes the submission queue and the workers' mailboxes and drops
// what is in them: futures complete with ErrClosed, and every top-level
// task dropped is counted as not run. With blocking set (Shutdown past
// its deadline) it also drops the blocking calls still queued, which no
// goroutine may be free to take. Tasks in the deque of a worker still
// inside a long task stay there until it returns; the worker drops them
// then.
func (s *Scheduler) seal(blocking bool) {
	s.inject.Close()
	dropped := s.dropInjected(s.abandon)
	for _, w := range s.workers {
		w.mail.Close()
		dropped += w.dropMail(s.abandon)
	}
	s.notRun.Add(dropped)
	s.submitted.Add(-dropped) // dropped tasks will never complete
	if !blocking {
		return
	}
	p := s.blocking
	for {
		j, err := p.q.TryPop()
		if err != nil {
			break
		}
		s.abandon(j)
		p.notRun.Add(1)
		p.done.Add(1)
	}
}

// dropInjected empties the submission queue without running what it
// holds, abandoning each job with abandon, and returns the number of
// top-level tasks dropped.
func (s *Scheduler) dropInjected(abandon func(*job)) (dropped uint64) {
	for {
		t, err := s.inject.TryPop()
		if err != nil {
			return dropped
		}
		if t.fn != nil {
			dropped++ // a submitted func: nobody waits for it
			continue
		}
		abandon(t.j)
		if t.j.counted {
			dropped++
		}
	}
}

// dropMail empties w's mailbox the same way (every mail job is top-level).
func (w *Worker) dropMail(abandon func(*job)) (dropped uint64) {
	for {
		j, err := w.mail.TryPop()
		if err != nil {
			return dropped
		}
		abandon(j)
		dropped++
	}
}

// abandon drops j off any worker. A panic in one of its future's OnDone
// hooks is reported as a blocking call's would be (PanicHandler, worker
// -1), not raised in the caller of Close or Shutdown.
func (s *Scheduler) abandon(j *job) {
	defer func() {
		if v := recover(); v != nil {
			s.blocking.recovered(v, s)
		}
	}()
	j.r.abandon()
}

func (s *Scheduler) notRunTotal() int { return int(s.notRun.Load() + s.blocking.notRun.Load()) }

func (s *Scheduler) stopMonitor() {
	s.quitOnce.Do(func() { close(s.quit) })
	s.mon.Wait()
}
