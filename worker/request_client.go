package worker

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
)

// Client returns a handle on e for one goroutine: the fastest way to call
// the worker in a loop. A Client's requests do not go through the
// mailbox: its reply cell doubles as a one-message mailbox of its own (a
// lane) that the worker polls alongside the shared one, so a round trip
// moves a single cache line to the worker and back, and takes neither a
// pooled cell nor a mailbox position.
//
// The worker serves each Client's requests in order, one at a time like
// every other message, interleaved with the mailbox's. Every live Client
// adds a load to each of the worker's polls: use Clients for the few
// goroutines that call a worker constantly, Endpoint.Request elsewhere.
func (e *Endpoint[In, Out]) Client() *Client[In, Out] { return &Client[In, Out]{e: e} }

// Client is one goroutine's handle on an Endpoint (see Endpoint.Client).
// It must not be used by two goroutines at once; any number of Clients,
// Endpoint.Request calls and other messages may run side by side.
type Client[In, Out any] struct {
	e *Endpoint[In, Out]
	c *brkCell[In, Out] // the lane: nil until the first request, and after one was given up
}

// Request is Endpoint.Request through the client's lane: the same
// results, errors and timeouts. A request the caller gives up on retires
// the lane (the worker drops its late reply, then the lane); the next
// request opens a new one.
func (cl *Client[In, Out]) Request(ctx context.Context, in In) (Out, error) {
	var zero Out
	e := cl.e
	if ctx == nil {
		return zero, e.fail("request", errNilContext)
	}
	c := cl.c
	if c == nil {
		var err error
		if c, err = brkOpenLane(e); err != nil {
			return zero, e.fail("request", err)
		}
		cl.c = c
		// A Client dropped without Close retires its lane when collected.
		runtime.AddCleanup(cl, brkLaneOf.retire, brkLaneOf{e.b, &c.req})
	}
	out, kept, _, err := e.laneCall(ctx, c, in)
	if !kept {
		cl.c = nil
	}
	return out, err
}

// laneCall is one request through lane c, which the caller holds
// exclusively. kept reports whether the lane is still usable (false: the
// caller gave up, and the lane is retired).
func (e *Endpoint[In, Out]) laneCall(ctx context.Context, c *brkCell[In, Out], in In) (_ Out, kept, sent bool, _ error) {
	var zero Out
	// The lane is free: its last request was answered (a given-up one
	// retires the lane), so the worker has finished reading in and ctx.
	g := c.state.Load()>>1 + 1
	c.in, c.ctx = in, ctx
	// Publish: the CAS is a full barrier after in and ctx, and fails if
	// the worker closed the lane at shutdown.
	// A closed broker takes no new message (lanes are retired only when
	// the worker exits, after draining).
	old := c.req.Load()
	if old&brkRetired != 0 || e.b.isClosed() || !c.req.CompareAndSwap(old, g<<brkReqShift) {
		c.in, c.ctx = *new(In), nil
		return zero, true, false, e.fail("request", ErrClosed)
	}
	if m := &e.b.mbox; m.idle.Waiting() {
		m.idle.Notify(1)
	}
	if err := c.await(ctx, g, e.b.waitLimit()); err != nil {
		e.b.timeouts.Add(1)
		brkLaneOf{e.b, &c.req}.retire()
		return zero, false, true, e.fail("request", err)
	}
	out, err := e.takeReply(c)
	return out, true, true, err
}

// Close retires the client's lane: the worker stops polling it. Requests
// made afterwards open a new one. Closing is optional (an unreachable
// Client's lane is retired by the garbage collector), but prompt.
func (cl *Client[In, Out]) Close() {
	if cl.c != nil {
		brkLaneOf{cl.e.b, &cl.c.req}.retire()
		cl.c = nil
	}
}

// brkLaneOf names a lane by its req word (what a cleanup may hold: it
// does not reach the Client).
type brkLaneOf struct {
	b   *Broker
	req *atomic.Uint64
}

// retire marks the lane retired and wakes the worker if it sleeps, so that
// it drops the lane (its recheck before sleeping looks for retired lanes).
func (l brkLaneOf) retire() {
	l.req.Or(brkRetired)
	if m := &l.b.mbox; m.idle.Waiting() {
		m.idle.Notify(1)
	}
}

// brkLaneRef is one lane in the worker's table.
type brkLaneRef struct {
	req    *atomic.Uint64 // the cell's req
	served *uint64        // the cell's served: worker only
	state  *atomic.Uint64 // the cell's state, for lanesQueued
	job    brkLaneJob     // the cell
}

// brkLaneJob is what the worker does with a lane's request: a *brkCell.
type brkLaneJob interface {
	// brkServe runs lane request g (or fails it, when aborting).
	brkServe(b *Broker, g uint64)
	// brkPanic resolves lane request g, whose handler panicked.
	brkLanePanic(b *Broker, g uint64, err error)
}

// brkOpenLane registers a new lane for e. The table is copied on write;
// the worker reads it with one atomic load per poll.
func brkOpenLane[In, Out any](e *Endpoint[In, Out]) (*brkCell[In, Out], error) {
	b := e.b
	c := brkNewCell(e)
	c.lane = true
	b.laneMu.Lock()
	defer b.laneMu.Unlock()
	if b.lanesClosed || b.isClosed() {
		return nil, ErrClosed
	}
	ls := append(slices.Clone(*b.lanes.Load()), brkLaneRef{req: &c.req, served: &c.served, state: &c.state, job: c})
	b.lanes.Store(&ls)
	return c, nil
}

// dropLane removes a retired lane with no request pending. Worker only.
func (b *Broker) dropLane(req *atomic.Uint64) {
	b.laneMu.Lock()
	defer b.laneMu.Unlock()
	ls := slices.DeleteFunc(slices.Clone(*b.lanes.Load()), func(l brkLaneRef) bool { return l.req == req })
	b.lanes.Store(&ls)
}

// serveLanes runs the pending request of every lane, and drops retired
// lanes. It reports whether it ran anything. Worker only.
//
// Before a lane request, the worker runs every mailbox message accepted
// so far: a message whose send returned before the lane request was
// published is among them (its position was claimed, and its slot
// published, before the client's CAS, which the worker has seen), so a
// goroutine that posts and then requests sees them run in that order.
func (lp *brkLoop) serveLanes() (worked bool) {
	b := lp.b
	ls := *b.lanes.Load()
	for i := range ls {
		l := &ls[i]
		r := l.req.Load()
		if g := r >> brkReqShift; g != *l.served {
			// Acquire: pairs with the client's CAS; in and ctx are ready.
			if t := b.mbox.accepted(); b.mbox.head.Load() < t {
				lp.drainTo(t)
			}
			*l.served = g
			lp.curLane, lp.curGen = *l, g
			l.job.brkServe(b, g)
			lp.curLane = brkLaneRef{}
			b.laneServed.Add(1)
			worked = true
		} else if r&brkRetired != 0 {
			b.dropLane(l.req)
			return true // ls is stale now
		}
	}
	return worked
}

// lanePending reports whether some lane has a request the worker has not
// taken, or has been retired (and waits to be dropped). Worker only.
func (b *Broker) lanePending() bool {
	for _, l := range *b.lanes.Load() {
		if r := l.req.Load(); r>>brkReqShift != *l.served || r&brkRetired != 0 {
			return true
		}
	}
	return false
}

// closeLanes retires every lane at shutdown (a client's later CAS fails:
// ErrClosed) and resolves what was published before: run it, or fail it
// when aborting. Worker only, after the mailbox has drained.
func (lp *brkLoop) closeLanes() {
	b := lp.b
	b.laneMu.Lock()
	b.lanesClosed = true
	ls := *b.lanes.Load()
	b.laneMu.Unlock()
	for _, l := range ls {
		old := l.req.Or(brkRetired)
		if g := old >> brkReqShift; g != *l.served {
			*l.served = g
			lp.curLane, lp.curGen = l, g
			l.job.brkServe(b, g)
			lp.curLane = brkLaneRef{}
		}
	}
}

// brkServe runs lane request g on the worker.
func (c *brkCell[In, Out]) brkServe(b *Broker, g uint64) {
	in, ctx := c.in, c.ctx
	if b.aborting.Load() {
		b.notRun.Add(1)
		var zero Out
		c.ctx = nil
		c.reply(b, g, zero, c.ep.dropped)
		return
	}
	out, err := c.ep.h(ctx, in)
	if err != nil {
		b.failed.Add(1)
	}
	c.ctx = nil // same line as the reply: no extra transfer
	c.reply(b, g, out, err)
}

func (c *brkCell[In, Out]) brkLanePanic(b *Broker, g uint64, err error) {
	var zero Out
	c.ctx = nil
	c.reply(b, g, zero, err)
}

// lanesQueued counts the lane requests published and not yet answered
// (queued or running). Any goroutine; a snapshot.
func (b *Broker) lanesQueued() int {
	n := 0
	for _, l := range *b.lanes.Load() {
		if l.req.Load()>>brkReqShift > l.state.Load()>>1 {
			n++
		}
	}
	return n
}

// fastLane returns the endpoint's shared lane, which the caller has
// reserved (fastBusy), opening it if need be; nil if it cannot be opened
// (the broker is closed).
func (e *Endpoint[In, Out]) fastLane() *brkCell[In, Out] {
	if c := e.fast.Load(); c != nil {
		return c
	}
	c, err := brkOpenLane(e)
	if err != nil {
		return nil
	}
	e.fast.Store(c)
	return c
}
