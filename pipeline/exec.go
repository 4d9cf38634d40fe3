package pipeline

import (
	"context"
	"math/bits"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/ring"
	"github.com/weftlabs/weft/sched"
)

// An ordered parallel stage, or a parallel stage on a scheduler, runs in
// batches (the per-batch form of its spec):
//
//	input queue → dealer → workers or scheduler tasks → collector → output
//
// The dealer takes a free batch, fills it from the input queue, numbers it
// and hands it to a worker (a goroutine of the stage popping the work
// queue, or a task on the scheduler). The worker runs the stage's function
// over the batch into the batch's own output and completes it: into the
// reorder slot of its number (ordered), or onto the done queue
// (unordered). The collector emits completed batches (in number order when
// ordered) and returns them to the free queue. Window batches exist, no
// more, so at most Window batches are in flight and the reorder window is
// bounded; a slow batch holds back at most Window-1 finished ones.
//
// Ownership of a batch passes with each hand-off (free queue → dealer →
// work queue or Submit → worker → slot or done queue → collector → free
// queue); every hand-off is a queue operation or an atomic store and load,
// which orders the previous owner's writes before the next owner's reads.

// xbatch is one batch in flight, owned by one goroutine at a time.
type xbatch[I, O any] struct {
	seq  uint64 // position in the input, in batches
	last bool   // the end marker: seq is the number of batches dealt
	in   []I
	out  *bucket[O]
	err  error
	busy atomic.Int64 // ns spent in the stage's function; read by Stats
	run  func(*sched.Worker)
}

type exec[I, O any] struct {
	n       *node
	p       *Pipeline
	in      *edge[I]
	out     *Stream[O]
	fn      func(context.Context, []I, *bucket[O]) error
	ordered bool

	batches []*xbatch[I, O]
	free    *ring.SPSC[*xbatch[I, O]] // collector → dealer
	work    *ring.MPMC[*xbatch[I, O]] // dealer → worker goroutines; nil on a scheduler
	tokens  *ring.MPMC[struct{}]      // on a scheduler: one per task that may run at once
	done    *ring.MPMC[*xbatch[I, O]] // unordered: workers → collector

	// Ordered: slot seq&mask holds batch seq once it is complete. The
	// worker stores it (a sequentially consistent store) and then notifies
	// ready; the collector, to wait, prepares on ready and loads the slot
	// again before parking, so one of the two sees the other (no lost
	// wake-up). At most Window batches are in flight and there are at
	// least Window slots, so the slot is free when a batch lands: the
	// collector cleared it before returning the batch Window numbers
	// earlier to the free queue.
	slots []atomic.Pointer[xbatch[I, O]]
	mask  uint64
	ready park.Waiters
}

func newExec[I, O any](n *node, in *edge[I], out *Stream[O], fn func(context.Context, []I, *bucket[O]) error, ordered bool) *exec[I, O] {
	p := n.p
	window := p.opt.Window
	if window == 0 {
		window = 4 * n.workers
	}
	x := &exec[I, O]{n: n, p: p, in: in, out: out, fn: fn, ordered: ordered}
	x.free, _ = ring.NewSPSC[*xbatch[I, O]](window)
	for range window {
		b := &xbatch[I, O]{in: make([]I, 0, p.opt.Batch), out: newBucket[O](p.opt.Batch)}
		b.run = func(*sched.Worker) { x.task(b) }
		x.batches = append(x.batches, b)
		x.free.TryPush(b)
	}
	if p.opt.Scheduler != nil {
		x.tokens, _ = ring.NewMPMC[struct{}](n.workers)
		for range n.workers {
			x.tokens.TryPush(struct{}{})
		}
	} else {
		x.work, _ = ring.NewMPMC[*xbatch[I, O]](window)
	}
	if ordered {
		size := 1 << bits.Len(uint(window-1))
		x.slots = make([]atomic.Pointer[xbatch[I, O]], size)
		x.mask = uint64(size - 1)
	} else {
		x.done, _ = ring.NewMPMC[*xbatch[I, O]](window)
	}
	n.extra = func(s *StageStats) {
		for _, b := range x.batches {
			s.Busy += durationNs(b.busy.Load())
		}
	}
	return x
}

func (x *exec[I, O]) start() {
	x.p.goStage(x.n, x.deal)
	x.p.goStage(x.n, x.collect)
	if x.work != nil {
		for range x.n.workers {
			x.p.goStage(x.n, x.serve)
		}
	}
}

// deal runs on the dealer's goroutine (lane 0: input, waits).
func (x *exec[I, O]) deal(r *runner) error {
	ctx := x.p.ctx
	w := x.n.worker(r, 0)
	for seq := uint64(0); ; seq++ {
		b, err := x.free.TryPop()
		if err == errEmpty {
			// The window is full: wait for the collector.
			t := x.p.clock()
			b, err = x.free.Pop(ctx)
			addI(&w.st.waitOut, x.p.clock()-t)
		}
		if err != nil {
			return err
		}
		k, err := x.in.pop(ctx, w, b.in[:cap(b.in)])
		if err == errClosed {
			b.seq, b.last = seq, true
			x.complete(b)
			if x.work != nil {
				x.work.Close()
			}
			return nil
		}
		if err != nil {
			return err
		}
		addU(&w.st.in, k)
		b.seq, b.last, b.in, b.err = seq, false, b.in[:k], nil
		if err := x.dispatch(ctx, w, b); err != nil {
			return err
		}
	}
}

func (x *exec[I, O]) dispatch(ctx context.Context, w *worker, b *xbatch[I, O]) error {
	s := x.p.opt.Scheduler
	if s == nil {
		return x.work.Push(ctx, b)
	}
	if _, err := x.tokens.TryPop(); err != nil {
		t := x.p.clock()
		_, err = x.tokens.Pop(ctx)
		addI(&w.st.waitOut, x.p.clock()-t)
		if err != nil {
			return err
		}
	}
	x.p.wg.Add(1)
	if err := s.Submit(ctx, b.run); err != nil {
		x.p.wg.Done()
		if ctx.Err() != nil {
			return err
		}
		return stageErr(x.n.name, err)
	}
	return nil
}

// task is a batch's run on a scheduler's CPU worker. Nothing here blocks:
// the function is the user's (documented not to block), completing is an
// atomic store and a wake-up or a push into a queue with room for every
// batch, and the token goes back into a queue with room for every token.
func (x *exec[I, O]) task(b *xbatch[I, O]) {
	x.process(b)
	x.complete(b)
	x.tokens.TryPush(struct{}{})
	x.p.wg.Done()
}

// serve is a worker goroutine of a stage not on a scheduler.
func (x *exec[I, O]) serve(*runner) error {
	for {
		b, err := x.work.Pop(x.p.ctx)
		if err == errClosed {
			return nil
		}
		if err != nil {
			return err
		}
		x.process(b)
		x.complete(b)
	}
}

// process runs the stage's function over b, turning a panic into b's
// error.
func (x *exec[I, O]) process(b *xbatch[I, O]) {
	ctx := x.n.ctx
	b.out.items = b.out.items[:0]
	if ctx.Err() != nil {
		b.err = ctx.Err()
		return
	}
	defer func() {
		if v := recover(); v != nil {
			b.err = stageErr(x.n.name, newPanic(v))
		}
	}()
	t := x.p.clock()
	if err := x.fn(ctx, b.in, b.out); err != nil {
		b.err = stageErr(x.n.name, err)
	}
	addI(&b.busy, x.p.clock()-t)
}

// complete hands a processed batch (or the end marker) to the collector.
func (x *exec[I, O]) complete(b *xbatch[I, O]) {
	if x.ordered {
		x.slots[b.seq&x.mask].Store(b)
		x.ready.Notify(1)
		return
	}
	x.done.TryPush(b) // never full: it has room for every batch
}

// collect runs on the collector's goroutine (lane 1: output, waits).
func (x *exec[I, O]) collect(r *runner) error {
	ctx := x.p.ctx
	w := x.n.worker(r, 1)
	next := x.out.emitter(w)
	total := ^uint64(0) // batches dealt, once the end marker is in
	for seq, collected := uint64(0), uint64(0); collected != total; {
		var b *xbatch[I, O]
		var err error
		if x.ordered {
			b, err = x.waitSlot(ctx, w, seq)
			if err == nil {
				x.slots[seq&x.mask].Store(nil)
				seq++
			}
		} else {
			b, err = x.done.TryPop()
			if err == errEmpty {
				t := x.p.clock()
				b, err = x.done.Pop(ctx)
				addI(&w.st.waitIn, x.p.clock()-t)
			}
		}
		if err != nil {
			return err
		}
		if b.last {
			total = b.seq
			continue
		}
		if b.err != nil {
			return b.err
		}
		if items := b.out.items; len(items) > 0 {
			addU(&w.st.out, len(items))
			if err := next.put(ctx, items); err != nil {
				return err
			}
			clear(items)
		}
		collected++
		x.free.TryPush(b) // never full: it has room for every batch
	}
	return next.end(ctx)
}

// waitSlot waits until batch seq is complete: poll, back off, then park on
// ready after announcing and looking once more.
func (x *exec[I, O]) waitSlot(ctx context.Context, w *worker, seq uint64) (*xbatch[I, O], error) {
	slot := &x.slots[seq&x.mask]
	if b := slot.Load(); b != nil {
		return b, nil
	}
	t := x.p.clock()
	defer func() { addI(&w.st.waitIn, x.p.clock()-t) }()
	var bo park.Backoff
	for {
		if b := slot.Load(); b != nil {
			return b, nil
		}
		if bo.Snooze() {
			continue
		}
		tk := x.ready.Prepare()
		if b := slot.Load(); b != nil {
			x.ready.Cancel(tk)
			return b, nil
		}
		if err := x.ready.Park(ctx, tk); err != nil {
			return nil, err
		}
		bo.Reset()
	}
}
