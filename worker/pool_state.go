package worker

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/sched"
)

// poolState is what a pool keeps per worker: the handler's state (the
// stateful constructor stores a *S in v) and the worker's health
// recorder. For a CPU pool there is one per scheduler worker, used only by
// that worker; for an IO pool one per concurrent task, taken from a free
// list and held, under mu, for the task's length.
type poolState struct {
	v     any
	made  bool // v has been made (CPU pools make it on the worker's first task)
	id    int
	rec   *TaskRecorder // nil without PoolOptions.Health
	depth int           // tasks of this state running, nested (a CPU task that awaits runs others)
	mu    sync.Mutex    // IO pools: held by the task using the state, and by Broadcast
	dead  bool          // IO pools: retired; set under mu
}

// poolStates holds a pool's per-worker states. A pool with neither a
// state constructor nor a health monitor shares one inert state, noState,
// which nothing writes.
type poolStates struct {
	newState func(int) any
	health   *HealthMonitor
	name     string
	kind     Kind
	limit    int64 // PoolOptions.StateLimit

	local *sched.WorkerLocal[*poolState] // CPU pools
	free  chan *poolState                // IO pools
	made  atomic.Int64

	allMu sync.Mutex
	all   []*poolState // IO pools: every state that exists, for Broadcast

	replaced atomic.Uint64
}

var noState = &poolState{}

func (ps *poolStates) init(s *sched.Scheduler, opt PoolOptions, workers int, newState func(int) any) {
	ps.newState, ps.health, ps.name, ps.kind, ps.limit = newState, opt.Health, opt.Name, opt.Kind, opt.StateLimit
	if !ps.needed() {
		return
	}
	if ps.kind == CPU {
		ps.local = sched.NewWorkerLocal[*poolState](s, nil)
		if ps.health != nil {
			// Every worker is registered from the start, so that the
			// monitor counts the idle ones too; states are still made
			// by their workers.
			for id, slot := range ps.local.All() {
				*slot = &poolState{id: id}
				ps.register(*slot)
			}
		}
	} else {
		ps.free = make(chan *poolState, max(workers, 64))
	}
}

func (ps *poolStates) needed() bool { return ps.newState != nil || ps.health != nil }

// make returns a new state for worker (CPU) or slot (IO) id.
func (ps *poolStates) make(id int) *poolState {
	st := &poolState{id: id}
	ps.fill(st)
	ps.register(st)
	return st
}

// fill makes st's handler state.
func (ps *poolStates) fill(st *poolState) {
	if ps.newState != nil {
		st.v = ps.newState(st.id)
	}
	st.made = true
}

// register gives st a recorder of the pool's monitor, if it has one. A
// closed monitor refuses: the worker then records nothing.
func (ps *poolStates) register(st *poolState) {
	if ps.health != nil {
		st.rec, _ = ps.health.Register(fmt.Sprintf("%s/%s-%d", ps.name, ps.kind, st.id))
	}
}

// of returns worker w's state, making it on the worker's first task.
func (ps *poolStates) of(w *sched.Worker) *poolState {
	if ps.local == nil {
		return noState
	}
	slot := ps.local.Get(w)
	if *slot == nil {
		*slot = ps.make(w.ID())
	} else if !(*slot).made {
		ps.fill(*slot)
	}
	return *slot
}

// take returns a free state for an I/O task, making one if none is free,
// and holds it until give.
func (ps *poolStates) take() *poolState {
	if ps.free == nil {
		return noState
	}
	var st *poolState
	select {
	case st = <-ps.free:
	default:
		st = ps.make(int(ps.made.Add(1) - 1))
		ps.allMu.Lock()
		ps.all = append(ps.all, st)
		ps.allMu.Unlock()
	}
	st.mu.Lock()
	return st
}

// give returns a state taken by take. The free list holds as many states
// as the pool runs tasks at once; a state beyond that (a shared
// scheduler's blocking pool ran more) is retired.
func (ps *poolStates) give(st *poolState) {
	if st == noState {
		return
	}
	select {
	case ps.free <- st:
		// Unlocked once on the list: the next taker waits for the
		// unlock, a moment at most.
		st.mu.Unlock()
		return
	default:
	}
	st.dead = true // under mu: a Broadcast that locks it next skips it
	st.mu.Unlock()
	ps.allMu.Lock()
	for i, x := range ps.all {
		if x == st {
			ps.all = append(ps.all[:i], ps.all[i+1:]...)
			break
		}
	}
	ps.allMu.Unlock()
	ps.retire(st)
}

// retire ends a state that will not be used again.
func (ps *poolStates) retire(st *poolState) {
	if st.rec != nil {
		ps.health.Unregister(st.rec)
	}
	closeState(st.v)
}

// states returns every IO state that exists.
func (ps *poolStates) states() []*poolState {
	ps.allMu.Lock()
	defer ps.allMu.Unlock()
	return append([]*poolState(nil), ps.all...)
}

// begin marks the start of a task on st and returns the time to pass to
// end (zero when nothing needs it).
func (ps *poolStates) begin(st *poolState) time.Time {
	if st == noState {
		return time.Time{}
	}
	st.depth++
	if st.rec == nil {
		return time.Time{}
	}
	if st.depth == 1 {
		st.rec.Start()
		return time.Time{}
	}
	// A task nested in another of the same worker (run while it awaits):
	// the outer task owns the recorder's in-flight mark.
	return time.Now()
}

// end records the end of a task on st, and replaces the state if it has
// grown past the limit — only when no task of it is still running.
func (ps *poolStates) end(st *poolState, t time.Time, err error) {
	if st == noState {
		return
	}
	st.depth--
	if st.rec != nil {
		if st.depth == 0 {
			st.rec.Done(err)
		} else {
			st.rec.Observe(time.Since(t), err == nil)
		}
	}
	if st.depth == 0 && ps.limit > 0 && ps.newState != nil {
		if sz, ok := st.v.(MemorySizer); ok && sz.MemorySize() > ps.limit {
			old := st.v
			st.v = ps.newState(st.id)
			ps.replaced.Add(1)
			closeState(old)
		}
	}
}

// closeState closes a retired handler state that is an io.Closer. Its
// error has nobody to go to: the state was the handler's.
func closeState(v any) {
	if c, ok := v.(io.Closer); ok {
		c.Close()
	}
}

// closeAll retires every state, once every task has finished: recorders
// leave the monitor, states that are io.Closers are closed.
func (ps *poolStates) closeAll() {
	if ps.local != nil {
		for _, st := range ps.local.All() {
			if *st != nil {
				ps.retire(*st)
				*st = nil
			}
		}
	}
	for _, st := range ps.states() {
		st.mu.Lock()
		st.dead = true
		st.mu.Unlock()
		ps.retire(st)
	}
	ps.allMu.Lock()
	ps.all = nil
	ps.allMu.Unlock()
}
