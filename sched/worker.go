package sched

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync/atomic"

	"github.com/weftlabs/weft/affinity"
	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/ring"
)

// Worker is one of a scheduler's workers. A task receives the worker it
// runs on: use it to spawn work onto the same worker (Go, Join,
// ParallelFor), and for what the guide calls thread info.
type Worker struct {
	s  *Scheduler
	id int
	dq *deque[job]
	// mail holds jobs for this worker alone (Broadcast); only it pops.
	mail *ring.MPMC[*job]

	// Owner-only state.
	rng       uint64
	tick      uint32
	searching bool // holds one count of s.searching
	replace   bool // a task panicked: replace this goroutine after the current task
	nested    int  // depth of tasks run while helping
	scratch   []task
	funcs     []*funcJob // free list, see jobOf
	joins     []*joinJob // recycled join records

	// joinWaiters is where this worker parks while a stolen half of one
	// of its joins runs elsewhere.
	joinWaiters park.Waiters
	cpu         int
	pinned      bool

	_ pad.Line
	// Counters written only by the owner (release stores of owner-known
	// values, so no read-modify-write), read by Stats and by pending.
	completed atomic.Uint64 // top-level tasks finished here
	spawned   atomic.Uint64 // top-level tasks spawned from here
	seq       atomic.Uint64 // odd while a task runs; bumped at each start and end
	steals    atomic.Uint64
	parks     atomic.Uint64
	panics    atomic.Uint64
	failed    atomic.Uint64 // futures that ended with an error (panics included)
	_         pad.Line
}

func newWorker(s *Scheduler, id, local int) *Worker {
	mail, err := ring.NewMPMC[*job](mailboxSize)
	if err != nil {
		panic(err) // unreachable: a valid constant capacity
	}
	return &Worker{
		s: s, id: id, dq: newDeque[job](local), mail: mail,
		rng:     uint64(id)*0x9e3779b97f4a7c15 + 1,
		scratch: make([]task, 0, 32),
		cpu:     -1,
	}
}

// ID returns the worker's index, 0 ≤ ID < Scheduler.Workers().
func (w *Worker) ID() int { return w.id }

// CPU returns the CPU the worker is pinned to, or -1 when it is not pinned.
func (w *Worker) CPU() int { return w.cpu }

// Pinned reports whether the worker's thread is pinned to one CPU.
func (w *Worker) Pinned() bool { return w.pinned }

// Scheduler returns the scheduler the worker belongs to.
func (w *Worker) Scheduler() *Scheduler { return w.s }

// spawn queues a top-level task from inside a task: onto this worker's
// deque, or the submission queue when the deque is full, or, when both
// are full, runs it at once (a worker never blocks on a queue).
func (w *Worker) spawn(_ context.Context, j *job) error {
	if j.counted {
		barrier.StoreRelease(&w.spawned, w.spawned.Load()+1)
	}
	w.push(j)
	return nil
}

// push puts a job on this worker's deque (or spills it) and makes sure an
// idle worker will come and steal if there is one.
func (w *Worker) push(j *job) {
	if w.dq.push(j) || w.s.inject.TryPush(task{j: j}) == nil {
		w.s.wake()
		return
	}
	w.execute(j)
}

// loop is a worker's goroutine. With pinned non-nil (New, pinning), it
// pins its thread to w.cpu first and reports the outcome there; a
// worker that cannot pin exits. A replacement goroutine (after a panic)
// pins its fresh thread again.
func (w *Worker) loop(pinned chan<- error) {
	runtime.LockOSThread()
	var undo func() error
	if w.cpu >= 0 {
		// The thread stays pinned for the goroutine's life. At a normal
		// exit undo restores its mask and the thread goes back to the
		// runtime; after a panic the goroutine exits still locked and the
		// runtime discards the thread, so a mask never leaks to other
		// goroutines.
		var err error
		undo, err = affinity.Pin(w.cpu)
		if pinned != nil {
			if err != nil {
				err = fmt.Errorf("worker %d: %w", w.id, err)
			}
			pinned <- err
			if err != nil {
				w.s.wg.Done()
				return
			}
		}
		// A replacement that cannot pin (the CPU went away) runs unpinned
		// rather than leave its deque without an owner.
		w.pinned = err == nil
	}
	// Labels for pprof: every task this goroutine runs is attributed to
	// the scheduler and the worker (go tool pprof -tagfocus=worker=3).
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
		pprof.Labels("sched", w.s.name, "worker", strconv.Itoa(w.id))))
	for {
		j := w.find()
		if j == nil {
			if w.idle() {
				continue
			}
			// Give the thread back to the runtime, unpinned; if its mask
			// cannot be restored, exit locked so the thread is discarded.
			if undo == nil || undo() == nil {
				runtime.UnlockOSThread()
			}
			w.s.wg.Done()
			return
		}
		if w.searching {
			w.stopSearching(true)
		}
		w.execute(j)
		if w.replace {
			// Leave the possibly damaged goroutine and thread behind: a
			// goroutine that exits while locked to its thread takes the
			// thread with it.
			w.replace = false
			w.s.replaced.Add(1)
			go w.loop(nil)
			return
		}
	}
}

// find returns the next job: now and then the submission queue first (so
// that a worker busy with its own spawns does not starve outside
// submissions), then the worker's own deque, then a batch from the
// submission queue, then a steal.
func (w *Worker) find() *job {
	if w.s.state.Load() == stateAbandon {
		return nil
	}
	w.tick++
	if w.tick%61 == 0 {
		if j := w.fromMail(); j != nil {
			return j
		}
		if t, err := w.s.inject.TryPop(); err == nil {
			return w.jobOf(t)
		}
	}
	if j := w.dq.pop(); j != nil {
		return j
	}
	if j := w.fromMail(); j != nil {
		return j
	}
	if j := w.fromInjector(); j != nil {
		return j
	}
	return w.steal()
}

// fromInjector takes a batch from the submission queue: the first job to
// run, the rest onto this worker's deque for it (and thieves) to take.
func (w *Worker) fromInjector() *job {
	k := w.s.inject.Len()/len(w.s.workers) + 1
	k = min(k, cap(w.scratch), w.dq.free())
	buf := w.scratch[:max(k, 1)]
	n, err := w.s.inject.TryPopBatch(buf)
	if err != nil || n == 0 {
		return nil
	}
	for _, t := range buf[1:n] {
		w.dq.push(w.jobOf(t)) // fits: k ≤ free slots
	}
	first := w.jobOf(buf[0])
	clear(buf[:n])
	if n > 1 {
		w.s.wake()
	}
	return first
}

// steal visits the other workers from a random one and takes half of the
// first non-empty deque: one job to run, the rest onto its own deque.
func (w *Worker) steal() *job {
	ws := w.s.workers
	if len(ws) == 1 {
		return nil
	}
	start := int(w.rand() % uint64(len(ws)))
	for i := range ws {
		v := ws[(start+i)%len(ws)]
		if v == w {
			continue
		}
		if j := w.stealFrom(v); j != nil {
			return j
		}
	}
	return nil
}

func (w *Worker) stealFrom(v *Worker) *job {
	var first *job
	for first == nil {
		j, ok := v.dq.steal()
		if !ok {
			return nil
		}
		first = j
	}
	taken := uint64(1)
	for k := v.dq.len() / 2; k > 0 && w.dq.free() > 0; k-- {
		j, ok := v.dq.steal()
		if !ok {
			break
		}
		if j != nil {
			w.dq.push(j)
			taken++
		}
	}
	barrier.StoreRelease(&w.steals, w.steals.Load()+taken)
	return first
}

func (w *Worker) rand() uint64 {
	// xorshift64*
	w.rng ^= w.rng >> 12
	w.rng ^= w.rng << 25
	w.rng ^= w.rng >> 27
	return w.rng * 2685821657736338717
}

// anyWork reports whether any queue holds a job.
func (w *Worker) anyWork() bool {
	if w.s.inject.Len() > 0 || w.mail.Len() > 0 {
		return true
	}
	for _, v := range w.s.workers {
		if v.dq.len() > 0 {
			return true
		}
	}
	return false
}

// idle runs when find came back empty: search for a while (if not too many
// workers already are), then park. It returns false when the worker must
// exit.
//
// The wake-up protocol, as in the Go runtime's findrunnable: a submitter
// publishes its job and then wakes a parked worker unless one is
// searching. A searcher that gives up stops counting as searching, then
// announces that it sleeps (Prepare, which ends with a heavy barrier),
// then looks at every queue once more. Either that last look sees the job,
// or the submitter's check comes after the announcement and wakes a
// sleeper. The race it closes: a submitter that saw a searcher and skipped
// the wake-up, while that searcher was just giving up.
func (w *Worker) idle() bool {
	s := w.s
	if s.state.Load() == stateAbandon {
		// Before searching: a search that sees this worker's own dropped
		// work would return to find, which returns nothing once
		// abandoned, and the worker would spin.
		w.stopSearching(false)
		w.drop()
		return false
	}
	if !w.searching && int(s.searching.Load()) < max(1, len(s.workers)/2) {
		s.searching.Add(1)
		w.searching = true
	}
	if w.searching {
		var b park.Backoff
		for b.Snooze() {
			if w.anyWork() {
				w.stopSearching(true)
				return true
			}
		}
		w.stopSearching(false)
	}
	if s.state.Load() == stateAbandon {
		w.drop()
		return false
	}
	t := s.idle.Prepare()
	if w.anyWork() {
		s.idle.Cancel(t)
		return true
	}
	if s.state.Load() != stateOpen && !s.pending() {
		s.idle.Cancel(t)
		s.idle.NotifyAll() // the others may be parked: let them see it too
		return false
	}
	barrier.StoreRelease(&w.parks, w.parks.Load()+1)
	if err := s.idle.Park(context.Background(), t); err != nil {
		panic(err) // unreachable: the background context never ends
	}
	// Woken: search again, counting as a searcher so that the next
	// submission does not wake yet another worker for the same work.
	if !w.searching {
		s.searching.Add(1)
		w.searching = true
	}
	return true
}

// stopSearching gives up this worker's searching count. A last searcher
// that found work wakes another, so that a burst of work spreads to every
// worker one wake-up at a time.
func (w *Worker) stopSearching(found bool) {
	if !w.searching {
		return
	}
	w.searching = false
	if w.s.searching.Add(-1) == 0 && found {
		w.s.wake()
	}
}

// drop discards this worker's queued jobs (and, with the others, the
// submission queue's) after Shutdown's deadline, counting the top-level
// ones as not run. A join half (stolen along with others) is run instead:
// a task on another worker is waiting for it.
func (w *Worker) drop() {
	var n uint64
	for j := w.dq.pop(); j != nil; j = w.dq.pop() {
		if j.counted {
			w.abandon(j)
			n++
		} else {
			w.execute(j)
		}
	}
	n += w.s.dropInjected(w.abandon)
	n += w.dropMail(w.abandon)
	w.s.notRun.Add(n)
	w.s.submitted.Add(-n) // dropped tasks will never complete
}

// abandon drops j without running it; a panic in an OnDone hook of its
// future is recovered and recorded as this worker's.
func (w *Worker) abandon(j *job) {
	defer func() {
		if v := recover(); v != nil {
			w.recovered(v)
		}
	}()
	j.r.abandon()
}

// execute runs one job, recovering a panic that escapes it.
func (w *Worker) execute(j *job) {
	counted := j.counted
	barrier.StoreRelease(&w.seq, w.seq.Load()+1)
	w.run(j)
	barrier.StoreRelease(&w.seq, w.seq.Load()+1)
	if counted {
		barrier.StoreRelease(&w.completed, w.completed.Load()+1)
		if w.s.state.Load() != stateOpen && !w.s.pending() {
			w.s.idle.NotifyAll()
		}
	}
}

func (w *Worker) run(j *job) {
	defer func() {
		if v := recover(); v != nil {
			w.recovered(v)
		}
	}()
	j.r.run(w)
}

// recovered records a panic recovered on this worker and returns it as an
// error. The worker's goroutine will be replaced once its current
// top-level task returns. A *PanicError re-raised by Join has been
// recorded where it first happened and is returned as it is.
func (w *Worker) recovered(v any) *PanicError {
	if p, ok := v.(*PanicError); ok {
		return p
	}
	e := &PanicError{Value: v, Stack: debug.Stack(), Worker: w.id}
	barrier.StoreRelease(&w.panics, w.panics.Load()+1)
	w.replace = true
	if h := w.s.opt.PanicHandler; h != nil {
		h(w.id, v, e.Stack)
	}
	return e
}
