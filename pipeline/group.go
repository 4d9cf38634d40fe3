package pipeline

import (
	"context"
	"math/bits"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/ring"
	"github.com/weftlabs/weft/sched"
)

// A parallel stateless stage (Map, Filter, FlatMap, Tap, Unbatch with
// concurrency above 1) runs in a batch group, with the parallel stages of
// equal concurrency that follow it fused in:
//
//	input → dealing → workers (or scheduler tasks) → emitting → output
//
// Dealing takes a free batch, fills it with input, numbers it and hands it
// to a worker (a goroutine of the group popping the work queue, or a task
// on the scheduler). When one goroutine feeds the group, it deals as it
// emits (dealIn), with no queue in between; when several do, they push
// into a queue that a dealer goroutine reads. The worker runs the group's
// stages over the batch, one after the other, each on the whole batch,
// into the batch's own output and completes it: into the reorder slot of its number
// (an ordered group), or onto the done queue. Completed batches are then
// emitted (in number order when ordered) and returned to the free queue.
// Window batches exist, no more, so at most Window batches are in flight
// and the reorder window is bounded; a slow batch holds back at most
// Window-1 finished ones.
//
// Who emits: on a scheduler, whose workers must not block, a collector
// goroutine waits for completed batches and emits them. Otherwise the
// worker (or the dealing goroutine, for the end marker) that completes a
// batch emits what is ready itself, holding the group's emitting flag: one
// emitter at a time, so the output has a single producer. A completer that finds the
// flag taken leaves its batch to the holder, who looks again after
// letting the flag go (see drain): no completed batch is left behind.
//
// Batches move by pointer, so a hand-off costs one queue operation per
// batch whatever the item type, and the workers never touch a shared
// queue's slots per item. Ownership of a batch passes with each hand-off
// (free queue → dealing → work queue or Submit → worker → slot or done
// queue → emitter → free queue); every hand-off is a queue operation or an
// atomic store and load, which orders the previous owner's writes before
// the next owner's reads.

// batchSink takes the items of one batch, in the per-batch form of a
// stage. It never blocks: it runs on a worker, maybe a scheduler's.
type batchSink[T any] interface {
	take(ctx context.Context, items []T) error
}

// bucket collects a batch's output at the end of a group's chain.
type bucket[T any] struct{ items []T }

func (b *bucket[T]) take(_ context.Context, items []T) error {
	b.items = append(b.items, items...)
	return nil
}

func (b *bucket[T]) reset() {
	clear(b.items)
	b.items = b.items[:0]
}

// xbatch is one batch in flight, owned by one goroutine at a time.
type xbatch struct {
	g    *group
	idx  int    // its lane in every stage of the group: 2+i
	seq  uint64 // position in the input, in batches
	last bool   // the end marker: seq is the number of batches dealt
	err  error
	r    runner // the stage running the batch, for panics and labels
	in   xin    // *xhead[I]: the input and the chain of stages
	out  xout   // *bucket[O]: the output
	run  func(*sched.Worker)
}

type xin interface {
	process(ctx context.Context) error
}
type xout interface{ reset() }

// xhead is the typed input side of a batch: its items and the first stage.
type xhead[I any] struct {
	items []I
	chain batchSink[I]
}

func (h *xhead[I]) process(ctx context.Context) error { return h.chain.take(ctx, h.items) }

// group is a batch group: see above. The head stage (typed by the input)
// sets deal and newBatch; the last stage fused in (typed by the output)
// sets the output side (setOutput).
type group struct {
	p       *Pipeline
	head    *node
	workers int
	window  int
	ordered bool

	deal     func(r *runner) error
	newBatch func(b *xbatch)
	// Set by the group's last stage, typed by the output: initOut makes
	// the emitter (at start), emitReady emits what is ready without
	// waiting for more, anyReady says whether something is, collect is
	// the collector goroutine's loop (on a scheduler).
	initOut   func()
	emitReady func(ctx context.Context) (ended bool, err error)
	anyReady  func() bool
	collect   func(r *runner) error
	emitting  atomic.Bool // held by the one goroutine emitting

	batches []*xbatch
	free    *ring.SPSC[*xbatch] // emitter → dealing
	work    *ring.MPMC[*xbatch] // dealing → worker goroutines; nil on a scheduler
	done    *ring.MPMC[*xbatch] // unordered: workers → emitter

	// Ordered: slot seq&mask holds batch seq once it is complete. The
	// worker stores it (a sequentially consistent store) and then notifies
	// ready; the collector (on a scheduler), to wait, prepares on ready and
	// loads the slot again before parking, so one of the two sees the
	// other (no lost wake-up). Without a scheduler nobody parks on ready:
	// completers drain (see drain). At most window batches are in flight and there are at
	// least window slots, so the slot is free when a batch lands: the
	// emitter cleared it before returning the batch window numbers earlier
	// to the free queue.
	slots []atomic.Pointer[xbatch]
	mask  uint64
	ready park.Waiters
}

// planGroup plans a parallel stateless stage: fused into the group that
// produces its input if that group has the same concurrency, else the
// head of a group of its own.
func planGroup[I, O any](in *Stream[I], out *Stream[O], n *node, sp spec[I, O]) {
	p := n.p
	if g := in.group; g != nil && !p.opt.NoFusion && g.workers == n.workers {
		n.fused = true
		n.lanes = make([]lane, 2+g.window)
		g.ordered = g.ordered || sp.ordered
		in.attachBatch = func(b *xbatch) batchSink[I] {
			return sp.xop(n.batchWorker(b), out.batchSink(b))
		}
		out.group = g
		setOutput(g, n, out)
		return
	}
	window := p.opt.Window
	if window == 0 {
		window = 4 * n.workers
	}
	// Lanes: the dealer's, the emitter's, one per batch, one per worker
	// goroutine (its wait for work, as the stage's input wait).
	n.lanes = make([]lane, 2+window+n.workers)
	g := &group{p: p, head: n, workers: n.workers, window: window, ordered: sp.ordered}
	if in.producers == 1 {
		// One goroutine feeds the group: it deals the batches itself,
		// which saves a queue and the dealer's goroutine.
		d := &dealIn[I]{g: g}
		d.w = n.worker(&d.r, 0)
		in.attach = func(*worker) emitter[I] { return d }
	} else {
		e := in.makeEdge(1)
		n.queue = e.stat
		g.deal = dealer(g, e)
	}
	g.newBatch = func(b *xbatch) {
		b.in = &xhead[I]{
			items: make([]I, 0, p.opt.Batch),
			chain: sp.xop(n.batchWorker(b), out.batchSink(b)),
		}
	}
	setOutput(g, n, out)
	out.group = g
	n.start = g.start
}

// batchSink returns what a group's last stage hands a batch's output to:
// the stage fused after it, or the batch's output bucket.
func (s *Stream[T]) batchSink(b *xbatch) batchSink[T] {
	if s.attachBatch != nil {
		return s.attachBatch(b)
	}
	out := &bucket[T]{items: make([]T, 0, s.p.opt.Batch)}
	b.out = out
	return out
}

// start makes the batches and the queues (every stage of the group has
// planned by now) and starts the group's goroutines.
func (g *group) start() {
	p := g.p
	g.free, _ = ring.NewSPSC[*xbatch](g.window)
	for i := range g.window {
		b := &xbatch{g: g, idx: 2 + i}
		b.r.quiet = p.opt.Scheduler != nil
		g.newBatch(b)
		b.run = func(*sched.Worker) { g.task(b) }
		g.batches = append(g.batches, b)
		g.free.TryPush(b)
	}
	if p.opt.Scheduler == nil {
		g.work, _ = ring.NewMPMC[*xbatch](g.window)
	}
	if g.ordered {
		size := 1 << bits.Len(uint(g.window-1))
		g.slots = make([]atomic.Pointer[xbatch], size)
		g.mask = uint64(size - 1)
	} else {
		g.done, _ = ring.NewMPMC[*xbatch](g.window)
	}
	g.initOut()
	if g.deal != nil {
		p.goStage(g.head, g.deal)
	}
	if p.opt.Scheduler != nil {
		p.goStage(g.head, g.collect)
	}
	if g.work != nil {
		for i := range g.workers {
			p.goStage(g.head, func(r *runner) error {
				return g.serve(g.head.worker(r, 2+g.window+i))
			})
		}
	}
}

// dealer returns the loop of the group's dealer goroutine, when several
// goroutines feed the group through a queue (lane 0 of the head: input
// wait, and the wait for a free batch as output wait).
func dealer[I any](g *group, in *edge[I]) func(r *runner) error {
	return func(r *runner) error {
		ctx := g.p.ctx
		w := g.head.worker(r, 0)
		for seq := uint64(0); ; seq++ {
			b, err := g.freeBatch(ctx, w)
			if err != nil {
				return err
			}
			h := b.in.(*xhead[I])
			k, err := in.pop(ctx, w, h.items[:cap(h.items)])
			if err == errClosed {
				return g.finish(ctx, b, seq)
			}
			if err != nil {
				return err
			}
			h.items = h.items[:k]
			b.seq, b.last, b.err = seq, false, nil
			if err := g.dispatch(ctx, w, b); err != nil {
				return err
			}
		}
	}
}

// freeBatch takes a free batch, waiting (as w's output wait) while the
// window is full.
func (g *group) freeBatch(ctx context.Context, w *worker) (*xbatch, error) {
	b, err := g.free.TryPop()
	if err == errEmpty {
		t := g.p.clock()
		b, err = g.free.Pop(ctx)
		addI(&w.st.waitOut, g.p.clock()-t)
	}
	return b, err
}

// finish deals the end marker, numbered seq (the number of batches dealt).
func (g *group) finish(ctx context.Context, b *xbatch, seq uint64) error {
	b.seq, b.last = seq, true
	g.complete(b)
	if g.work == nil {
		return nil // the collector takes it from here
	}
	g.work.Close()
	return g.drain(ctx)
}

// dealIn deals a group's batches on the goroutine of the stage feeding
// it, when only one goroutine does: put cuts what it is handed into
// batches and dispatches them, end deals the end marker. Only that
// goroutine uses it (lane 0 of the head: the wait for a free batch).
type dealIn[I any] struct {
	g   *group
	w   *worker
	r   runner
	seq uint64
}

func (d *dealIn[I]) put(ctx context.Context, items []I) error {
	g := d.g
	for len(items) > 0 {
		b, err := g.freeBatch(ctx, d.w)
		if err != nil {
			return err
		}
		h := b.in.(*xhead[I])
		k := copy(h.items[:cap(h.items)], items)
		items = items[k:]
		h.items = h.items[:k]
		b.seq, b.last, b.err = d.seq, false, nil
		d.seq++
		if err := g.dispatch(ctx, d.w, b); err != nil {
			return err
		}
	}
	return nil
}

func (d *dealIn[I]) end(ctx context.Context) error {
	b, err := d.g.freeBatch(ctx, d.w)
	if err != nil {
		return err
	}
	return d.g.finish(ctx, b, d.seq)
}

func (g *group) dispatch(ctx context.Context, w *worker, b *xbatch) error {
	s := g.p.opt.Scheduler
	if s == nil {
		return g.work.Push(ctx, b)
	}
	// The window bounds the tasks in flight; the scheduler's workers,
	// however many, run them. (Holding back to n tasks at a time was
	// measured to leave the workers parking and waking between tasks.)
	g.p.wg.Add(1)
	if err := s.Submit(ctx, b.run); err != nil {
		g.p.wg.Done()
		if ctx.Err() != nil {
			return err
		}
		return stageErr(g.head.name, err)
	}
	return nil
}

// task is a batch's run on a scheduler's CPU worker. Nothing here blocks:
// the stages' functions are the user's (documented not to block), and
// completing is an atomic store and a wake-up, or a push into a queue with
// room for every batch.
func (g *group) task(b *xbatch) {
	g.process(b)
	g.complete(b)
	g.p.wg.Done()
}

// serve is a worker goroutine of a group not on a scheduler; w's lane
// records its waits for work.
func (g *group) serve(w *worker) error {
	for {
		b, err := g.work.TryPop()
		if err == errEmpty {
			t := g.p.clock()
			b, err = g.work.Pop(g.p.ctx)
			addI(&w.st.waitIn, g.p.clock()-t)
		}
		if err == errClosed {
			return nil
		}
		if err != nil {
			return err
		}
		g.process(b)
		g.complete(b)
		if err := g.drain(g.p.ctx); err != nil {
			return err
		}
	}
}

// drain emits what is ready, if no other goroutine is emitting. The
// protocol: a completer stores its batch (complete), then tries to take
// the flag; the holder, after letting the flag go, looks once more. Both
// are sequentially consistent, so either the holder's second look sees
// the completer's batch, or the completer's attempt comes after the flag
// was let go and succeeds: a completed batch never waits for a completion
// that will not come.
func (g *group) drain(ctx context.Context) error {
	for g.emitting.CompareAndSwap(false, true) {
		ended, err := g.emitReady(ctx)
		g.emitting.Store(false)
		if err != nil || ended || !g.anyReady() {
			return err
		}
	}
	return nil
}

// process runs the group's stages over b, turning a panic into b's error
// (named after the stage that was running).
func (g *group) process(b *xbatch) {
	ctx := g.p.ctx
	b.out.reset()
	if err := ctx.Err(); err != nil {
		b.err = err
		return
	}
	b.r.cur = nil // the goroutine's labels are not this batch's
	defer func() {
		if v := recover(); v != nil {
			name := g.head.name
			if b.r.cur != nil {
				name = b.r.cur.name
			}
			b.err = stageErr(name, newPanic(v))
		}
	}()
	b.err = b.in.process(ctx)
}

// complete hands a processed batch (or the end marker) to the collector.
func (g *group) complete(b *xbatch) {
	if g.ordered {
		g.slots[b.seq&g.mask].Store(b)
		g.ready.Notify(1)
		return
	}
	g.done.TryPush(b) // never full: it has room for every batch
}

// gout is the output side of a group, typed by its last stage n's
// output: the emitter and the emitting state. Only the goroutine holding
// the group's emitting flag (or the collector) uses it; seq is read by
// anyReady without the flag, so it is atomic.
type gout[O any] struct {
	g         *group
	n         *node
	out       *Stream[O]
	w         *worker // lane 1 of n: the emitter's counters
	next      emitter[O]
	seq       atomic.Uint64 // ordered: the next batch to emit
	emitted   uint64        // batches emitted
	total     uint64        // batches dealt, once the end marker is in; else ^0
	collector runner
}

// setOutput makes n, typed by out, the group's last stage (so far: a stage
// fused later takes over).
func setOutput[O any](g *group, n *node, out *Stream[O]) {
	o := &gout[O]{g: g, n: n, out: out, total: ^uint64(0)}
	g.initOut = func() {
		o.w = n.worker(&o.collector, 1)
		o.next = out.emitter(o.w)
	}
	g.emitReady = o.emitReady
	g.anyReady = o.anyReady
	g.collect = o.collect
}

// ready takes the next completed batch, or nil if none is.
func (o *gout[O]) ready() *xbatch {
	g := o.g
	if g.ordered {
		seq := o.seq.Load()
		slot := &g.slots[seq&g.mask]
		b := slot.Load()
		if b != nil {
			slot.Store(nil)
			o.seq.Store(seq + 1)
		}
		return b
	}
	b, err := g.done.TryPop()
	if err != nil {
		return nil
	}
	return b
}

func (o *gout[O]) anyReady() bool {
	g := o.g
	if g.ordered {
		return g.slots[o.seq.Load()&g.mask].Load() != nil
	}
	return g.done.Len() > 0
}

// handle emits one completed batch (or takes note of the end marker) and
// reports whether the stream has ended, which it then ends downstream.
func (o *gout[O]) handle(ctx context.Context, b *xbatch) (bool, error) {
	if b.last {
		o.total = b.seq
	} else {
		if b.err != nil {
			return false, b.err
		}
		if items := b.out.(*bucket[O]).items; len(items) > 0 {
			if err := o.next.put(ctx, items); err != nil {
				return false, err
			}
		}
		o.emitted++
		o.g.free.TryPush(b) // never full: it has room for every batch
	}
	if o.emitted == o.total {
		o.total = ^uint64(0) - 1 // ended: never equal again
		return true, o.next.end(ctx)
	}
	return false, nil
}

func (o *gout[O]) emitReady(ctx context.Context) (bool, error) {
	for b := o.ready(); b != nil; b = o.ready() {
		if ended, err := o.handle(ctx, b); ended || err != nil {
			return ended, err
		}
	}
	return false, nil
}

// collect is the collector goroutine's loop, on a scheduler: wait for the
// next completed batch, emit it.
func (o *gout[O]) collect(*runner) error {
	g := o.g
	ctx := g.p.ctx
	for {
		var b *xbatch
		var err error
		if g.ordered {
			seq := o.seq.Load()
			b, err = g.waitSlot(ctx, o.w, seq)
			if err == nil {
				g.slots[seq&g.mask].Store(nil)
				o.seq.Store(seq + 1)
			}
		} else {
			b, err = g.done.TryPop()
			if err == errEmpty {
				t := g.p.clock()
				b, err = g.done.Pop(ctx)
				addI(&o.w.st.waitIn, g.p.clock()-t)
			}
		}
		if err != nil {
			return err
		}
		if ended, err := o.handle(ctx, b); ended || err != nil {
			return err
		}
	}
}

// waitSlot waits until batch seq is complete: poll, back off, then park on
// ready after announcing and looking once more.
func (g *group) waitSlot(ctx context.Context, w *worker, seq uint64) (*xbatch, error) {
	slot := &g.slots[seq&g.mask]
	if b := slot.Load(); b != nil {
		return b, nil
	}
	t := g.p.clock()
	defer func() { addI(&w.st.waitIn, g.p.clock()-t) }()
	var bo park.Backoff
	for {
		if b := slot.Load(); b != nil {
			return b, nil
		}
		if bo.Snooze() {
			continue
		}
		tk := g.ready.Prepare()
		if b := slot.Load(); b != nil {
			g.ready.Cancel(tk)
			return b, nil
		}
		if err := g.ready.Park(ctx, tk); err != nil {
			return nil, err
		}
		bo.Reset()
	}
}

// batchWorker is stage n's worker for batch b: its counters are the
// batch's lane of the stage.
func (n *node) batchWorker(b *xbatch) *worker { return n.worker(&b.r, b.idx) }
