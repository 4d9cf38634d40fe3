package sched

import (
	"iter"

	"github.com/weftlabs/weft/internal/pad"
)

// WorkerLocal holds one T per worker of a scheduler — the guide's
// thread-local storage. Each value sits on its own cache lines, so workers
// updating their own values never contend.
type WorkerLocal[T any] struct {
	slots []localSlot[T]
}

type localSlot[T any] struct {
	v T
	_ pad.Line
}

// NewWorkerLocal returns per-worker storage for s, each value initialised
// by init (or the zero T when init is nil).
func NewWorkerLocal[T any](s *Scheduler, init func() T) *WorkerLocal[T] {
	l := &WorkerLocal[T]{slots: make([]localSlot[T], len(s.workers))}
	if init != nil {
		for i := range l.slots {
			l.slots[i].v = init()
		}
	}
	return l
}

// Get returns the value of worker w. Only code running on w may use it
// without further synchronisation.
func (l *WorkerLocal[T]) Get(w *Worker) *T { return &l.slots[w.id].v }

// All yields every worker's id and value, in worker order. Call it when no
// task is updating the values (after the work that fills them is done).
func (l *WorkerLocal[T]) All() iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		for i := range l.slots {
			if !yield(i, &l.slots[i].v) {
				return
			}
		}
	}
}
