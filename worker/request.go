package worker

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/weftlabs/weft/internal/barrier"
	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
)

// Endpoint is a message type registered on a Broker with Handle: the typed
// handle to send it requests and posts. Request (the function) finds the
// endpoint by name first; a Client (Endpoint.Client) is the fastest way
// for one goroutine to call the worker in a loop.
type Endpoint[In, Out any] struct {
	b    *Broker
	name string
	h    func(context.Context, In) (Out, error)
	// inline: In travels inside the mailbox slot (see brkInlineable);
	// outPtrs: Out holds pointers, so a reply taken from a cell is cleared
	// to let the garbage collector have it.
	inline, outPtrs bool
	// dropped is the reply to a request that a shutdown dropped unrun: one
	// value per endpoint, so that a caller can tell it (by identity) from
	// an error the handler returned.
	dropped error
	// cells holds this endpoint's free reply cells. A cell serves one
	// endpoint for life, so only this broker's worker ever writes it.
	cells sync.Pool
	// fast is the endpoint's shared lane (see Client), opened on first
	// use and replaced after a caller gave up on it.
	fast atomic.Pointer[brkCell[In, Out]]
	_    pad.Line
	// fastBusy is 1 while a caller holds the shared lane. Written only by
	// callers, so for one caller in a loop its line never leaves that
	// caller's cache.
	fastBusy atomic.Uint32
	_        pad.Line
}

// Handle registers h as the handler of msgType on b and returns the typed
// endpoint for it. h runs on the broker's worker, one message at a time;
// its context is the caller's. A message type is registered once
// (ErrInvalidOptions otherwise); h must not be nil.
func Handle[In, Out any](b *Broker, msgType string, h func(ctx context.Context, in In) (Out, error)) (*Endpoint[In, Out], error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler for %q", ErrInvalidOptions, msgType)
	}
	e := &Endpoint[In, Out]{
		b: b, name: msgType, h: h,
		inline:  brkInlineable[In](),
		outPtrs: brkHasPointers(reflect.TypeFor[Out]()),
		dropped: errNotRun(msgType),
	}
	e.cells.New = func() any { return brkNewCell(e) }
	if err := b.register(msgType, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Type returns the endpoint's message type.
func (e *Endpoint[In, Out]) Type() string { return e.name }

func (e *Endpoint[In, Out]) signature() string {
	return fmt.Sprintf("request %v -> %v", reflect.TypeFor[In](), reflect.TypeFor[Out]())
}

// Request sends in to the worker and waits for the handler's reply, for as
// long as ctx and the broker's default timeout allow. It returns the
// handler's result and error; ErrTimeout (wrapped) when the default
// timeout passed, ctx's error when ctx ended, ErrClosed once the broker is
// closed. A handler that panicked gives an error matching sched.ErrPanic.
//
// A request takes the endpoint's shared lane when no other caller holds
// it (one cache line each way, as a Client's), and otherwise a pooled
// reply cell and a mailbox slot. An endpoint's lane, once opened, is
// polled by the worker until the broker closes. In steady state Request allocates
// nothing: the cells are pooled, and a small pointer-free input travels
// inside the mailbox slot.
func (e *Endpoint[In, Out]) Request(ctx context.Context, in In) (Out, error) {
	out, err, _ := e.request(ctx, in)
	return out, err
}

// request is Request that also reports whether the message was sent
// (false: it never reached the worker, and in is still the caller's).
func (e *Endpoint[In, Out]) request(ctx context.Context, in In) (_ Out, _ error, sent bool) {
	if ctx != nil && e.fastBusy.Load() == 0 && e.fastBusy.CompareAndSwap(0, 1) {
		if c := e.fastLane(); c != nil {
			out, kept, sent, err := e.laneCall(ctx, c, in)
			if !kept {
				e.fast.CompareAndSwap(c, nil) // retired: the next caller opens another
			}
			barrier.StoreRelease32(&e.fastBusy, 0)
			return out, err, sent
		}
		barrier.StoreRelease32(&e.fastBusy, 0)
	}
	c := e.cells.Get().(*brkCell[In, Out])
	out, kept, sent, err := e.call(ctx, c, in)
	if kept {
		e.cells.Put(c)
	}
	return out, err, sent
}

// call is one request through cell c. kept reports whether c is still the
// caller's (false: the caller gave up and the cell went to the worker).
func (e *Endpoint[In, Out]) call(ctx context.Context, c *brkCell[In, Out], in In) (_ Out, kept, sent bool, _ error) {
	var zero Out
	g, err := e.send(ctx, c, in, false)
	if err != nil {
		return zero, true, false, e.fail("request", err)
	}
	if err := c.await(ctx, g, e.b.waitLimit()); err != nil {
		// The cell is the worker's now (see brkCell).
		e.b.timeouts.Add(1)
		return zero, false, true, e.fail("request", err)
	}
	out, err := e.takeReply(c)
	if !e.inline {
		var zi In
		c.in = zi
	}
	return out, true, true, err
}

// takeReply returns the reply in c and clears what of it holds pointers,
// so that the garbage collector may have it; only that: a write would take
// the reply line from the worker's cache for nothing.
func (e *Endpoint[In, Out]) takeReply(c *brkCell[In, Out]) (Out, error) {
	out, err := c.out, c.err
	if err != nil {
		c.err = nil
	}
	if e.outPtrs {
		var zero Out
		c.out = zero
	}
	return out, err
}

// Post sends in to the worker without waiting for the reply (the guide's
// post): ctx bounds only the wait for room in the mailbox. The handler
// runs with a context that ends when the broker is shut down; if it
// fails, its error is emitted as the event ErrorEvent.
func (e *Endpoint[In, Out]) Post(ctx context.Context, in In) error {
	c := e.cells.Get().(*brkCell[In, Out])
	if _, err := e.send(ctx, c, in, true); err != nil {
		e.cells.Put(c)
		return e.fail("post", err)
	}
	return nil
}

func (e *Endpoint[In, Out]) post(ctx context.Context, in In) error { return e.Post(ctx, in) }

func (e *Endpoint[In, Out]) fail(op string, err error) error {
	return fmt.Errorf("worker: %s %q: %w", op, e.name, err)
}

var errNilContext = fmt.Errorf("%w: nil context", ErrInvalidOptions)

// errNotRun is the error of a message dropped by Shutdown's deadline.
func errNotRun(msgType string) error {
	return fmt.Errorf("worker: %q not run: %w", msgType, ErrClosed)
}

// send puts a request (or a post) for in into the mailbox, with c as its
// reply cell, and returns its generation. On failure c is still the
// caller's; on success it is the worker's to reply into (and, for a post,
// to recycle).
func (e *Endpoint[In, Out]) send(ctx context.Context, c *brkCell[In, Out], in In, posted bool) (uint64, error) {
	if ctx == nil {
		return 0, errNilContext
	}
	// The cell is resolved (its last generation replied to or given up),
	// so its state is 2(g-1) or 2(g-1)+1: the next generation is g. The
	// caller reads the reply line here but never writes it.
	g := c.state.Load()>>1 + 1
	if !e.inline {
		c.in = in
	}
	s, pos, err := e.b.mbox.claim(ctx, e.b.waitLimit())
	if err != nil {
		if err != ErrClosed {
			e.b.timeouts.Add(1) // gave up waiting for room
		}
		if !e.inline {
			var zero In
			c.in = zero
		}
		return 0, err
	}
	s.job = c
	if posted {
		s.gen, s.ctx = g|mboxPosted, e.b.base
	} else {
		s.gen, s.ctx = g, ctx
	}
	if e.inline {
		// In is pointer-free and fits (brkInlineable): a scalar copy.
		*(*In)(unsafe.Pointer(&s.arg)) = in
	}
	e.b.mbox.publish(s, pos)
	return g, nil
}

// Request sends in to the handler registered for msgType on b and waits
// for its reply, as Endpoint.Request does. It fails with ErrUnknownType
// when no handler is registered for msgType, and with ErrTypeMismatch when
// the handler's types are not In and Out.
func Request[In, Out any](ctx context.Context, b *Broker, msgType string, in In) (Out, error) {
	e, err := brkLookup[*Endpoint[In, Out]](b, msgType, "request", reflect.TypeFor[In](), reflect.TypeFor[Out]())
	if err != nil {
		var zero Out
		return zero, err
	}
	return e.Request(ctx, in)
}

// Post sends in to the handler registered for msgType on b without
// waiting for its reply, as Endpoint.Post does. Any request handler whose
// input type is In accepts posts.
func Post[In any](ctx context.Context, b *Broker, msgType string, in In) error {
	p, err := brkLookup[brkPoster[In]](b, msgType, "post", reflect.TypeFor[In](), nil)
	if err != nil {
		return err
	}
	return p.post(ctx, in)
}

// brkPoster is what Post needs of an endpoint: any *Endpoint[In, _].
type brkPoster[In any] interface {
	post(context.Context, In) error
}

// brkLookup finds the route for msgType and checks that it is an R.
func brkLookup[R any](b *Broker, msgType, op string, in, out reflect.Type) (R, error) {
	var zero R
	r, ok := (*b.routes.Load())[msgType]
	if !ok {
		if b.isClosed() {
			return zero, fmt.Errorf("worker: %s %q: %w", op, msgType, ErrClosed)
		}
		return zero, fmt.Errorf("worker: %s %q: %w", op, msgType, ErrUnknownType)
	}
	e, ok := r.(R)
	if !ok {
		want := fmt.Sprintf("%s %v", op, in)
		if out != nil {
			want += fmt.Sprintf(" -> %v", out)
		}
		return zero, fmt.Errorf("worker: %q is a %s, not a %s: %w", msgType, r.signature(), want, ErrTypeMismatch)
	}
	return e, nil
}

// register adds a route under name.
func (b *Broker) register(name string, r brkRoute) error {
	if name == "" {
		return fmt.Errorf("%w: empty message type", ErrInvalidOptions)
	}
	b.routeMu.Lock()
	defer b.routeMu.Unlock()
	if b.isClosed() {
		return fmt.Errorf("worker: handle %q: %w", name, ErrClosed)
	}
	old := *b.routes.Load()
	if _, dup := old[name]; dup {
		return fmt.Errorf("%w: message type %q already has a handler", ErrInvalidOptions, name)
	}
	m := maps.Clone(old)
	m[name] = r
	b.routes.Store(&m)
	return nil
}

// brkCell is one call's meeting point with the worker: the reply line
// (state, flag and value on one cache line) and the input when it does not
// travel in the mailbox slot.
//
// state is a generation counter: 2g means reply g is in the cell; 2g+1
// means the caller of generation g gave up on it. A caller takes a cell
// from the endpoint's pool, derives g from state, sends g along with the
// message, and waits for state == 2g. Only two writers exist, and they
// decide between them with one compare-and-swap on state:
//
//   - the worker writes out and err, then CASes state from its resolved
//     value to 2g; if it finds 2g+1 instead, the caller has gone: it drops
//     the reply, counts it as late, and returns the cell to the pool;
//   - a caller that stops waiting CASes state to 2g+1; if it finds 2g
//     instead, the reply got there first and is delivered.
//
// So a cell is returned to the pool exactly once per generation, by
// whoever saw the end of it: the caller that took the reply, or the worker
// that found the caller gone. A late reply cannot reach a later caller:
// the cell is not reused until the worker is done with it, and the next
// caller waits for the next generation.
//
// A Client's cell is also a lane: a one-message mailbox of its own that
// the worker polls (see request_client.go). The request then travels on
// the same line as the reply (req, in, ctx), and a round trip moves that
// one line each way, as the atomic ping-pong floor does.
type brkCell[In, Out any] struct {
	// The reply line, and a lane's request line: state, err and out are
	// written by the worker and polled by the caller; req, in and ctx are
	// written by the caller and read by the worker.
	state atomic.Uint64
	// req is g<<2 | brkRetired | brkSleeping: the lane request g (the
	// caller's CAS publishes it), the lane retired (by its Client, or by
	// the worker at shutdown: no more requests), the caller parked or
	// about to park (read by the worker after publishing a reply).
	req atomic.Uint64
	err error
	out Out
	in  In              // the input of a lane request, or of a mailbox request when !ep.inline
	ctx context.Context // the caller's context, for a lane request
	_   pad.Line

	// Fixed at creation: read by the worker on every message, never
	// written again, so the line stays in its cache.
	ep   *Endpoint[In, Out]
	wake chan struct{} // capacity 1: the worker's nudge to a parked caller
	lane bool          // a Client's lane: never goes to the endpoint's pool
	_    pad.Line

	served uint64      // a lane's last request taken; worker only
	timer  *time.Timer // the default timeout while parked, made on first use; the owner's
}

// Bits of brkCell.req.
const (
	brkSleeping = 1 << 0
	brkRetired  = 1 << 1
	brkReqShift = 2
)

// brkNewCell makes a cell whose reply line does not straddle two cache
// lines. Go aligns an object only to its size class, and a generic struct
// cannot be padded to a multiple of 64 bytes at compile time; consecutive
// objects of one size class sit at offsets that cycle through the line, so
// a few tries find a good one (cells are pooled: this runs rarely).
func brkNewCell[In, Out any](e *Endpoint[In, Out]) *brkCell[In, Out] {
	var c *brkCell[In, Out]
	for range 8 {
		c = &brkCell[In, Out]{ep: e, wake: make(chan struct{}, 1)}
		start := uintptr(unsafe.Pointer(&c.state))
		end := uintptr(unsafe.Pointer(&c.ctx)) + unsafe.Sizeof(c.ctx)
		if end-start > 64 || start/64 == (end-1)/64 {
			break
		}
	}
	return c
}

// await waits for reply g: a tight poll, a spin with pauses and yields,
// then a park. It returns nil when the reply is in the cell, or why the
// caller stopped waiting (the cell then belongs to the worker).
func (c *brkCell[In, Out]) await(ctx context.Context, g uint64, limit time.Duration) error {
	want := 2 * g
	for range brkTightPolls {
		if c.state.Load() == want {
			return nil
		}
	}
	var bo park.Backoff
	for bo.Snooze() {
		if c.state.Load() == want {
			return nil
		}
	}
	return c.sleep(ctx, g, limit)
}

// sleep parks the caller until reply g, ctx's end or limit. The wake-up
// protocol, against brkCell.reply:
//
//	caller                         worker
//	req |= brkSleeping             write out, err
//	recheck state == 2g            CAS state → 2g
//	park on wake                   load req; if brkSleeping: send on wake
//
// All four are sequentially consistent atomics (the Or and the CAS full
// barriers), so the caller's recheck sees the reply or the worker sees
// the flag.
// A nudge can arrive late, after the caller found the reply by itself; it
// stays in wake's buffer and costs the next sleeper on the cell one extra
// recheck, which the loop does anyway.
//
// The time spent spinning before sleep (a few microseconds) is not counted
// against limit: the fast path reads no clock.
func (c *brkCell[In, Out]) sleep(ctx context.Context, g uint64, limit time.Duration) error {
	want := 2 * g
	var tc <-chan time.Time
	if limit > 0 {
		if c.timer == nil {
			c.timer = time.NewTimer(limit)
		} else {
			c.timer.Reset(limit)
		}
		defer c.timer.Stop()
		tc = c.timer.C
	}
	done := ctx.Done()
	for {
		c.req.Or(brkSleeping)
		if c.state.Load() == want {
			c.req.And(^uint64(brkSleeping))
			return nil
		}
		var why error
		select {
		case <-c.wake:
		case <-done:
			why = ctx.Err()
		case <-tc:
			why = ErrTimeout
			if err := ctx.Err(); err != nil {
				// Both have passed (a late wake-up): the caller's own
				// deadline is reported as the context's error.
				why = err
			}
		}
		c.req.And(^uint64(brkSleeping))
		if why == nil {
			continue
		}
		// Give up, unless the reply got there first: the CAS decides.
		s := c.state.Load()
		if s != want && c.state.CompareAndSwap(s, want+1) {
			return why
		}
		return nil
	}
}

// reply resolves generation gen (mboxPosted set for a post) with the
// handler's result. Worker only.
func (c *brkCell[In, Out]) reply(b *Broker, gen uint64, out Out, err error) {
	g := gen &^ mboxPosted
	if gen != g {
		// Posted: nobody waits. Mark the generation given up and recycle.
		if err != nil {
			b.evt.emitError(b, fmt.Errorf("worker: post %q: %w", c.ep.name, err))
		}
		c.release()
		c.state.Store(2*g + 1)
		c.ep.cells.Put(c)
		return
	}
	c.out, c.err = out, err
	for {
		s := c.state.Load()
		if s == 2*g+1 {
			// The caller gave up: the late reply is dropped, and the cell
			// is ours to recycle.
			b.late.Add(1)
			c.release()
			if !c.lane {
				c.ep.cells.Put(c)
			}
			return
		}
		// Release: out and err are visible to the caller that sees 2g.
		if c.state.CompareAndSwap(s, 2*g) {
			break
		}
	}
	if c.req.Load()&brkSleeping != 0 {
		select {
		case c.wake <- struct{}{}:
		default: // a nudge is already pending
		}
	}
}

// release drops what the cell references, before it goes back to the pool
// unused by a caller.
func (c *brkCell[In, Out]) release() {
	var (
		zi In
		zo Out
	)
	c.in, c.out, c.err, c.ctx = zi, zo, nil, nil
}

// brkRun handles the request in s on the worker.
func (c *brkCell[In, Out]) brkRun(b *Broker, s *mboxSlot) {
	var in In
	if c.ep.inline {
		in = *(*In)(unsafe.Pointer(&s.arg))
	} else {
		in = c.in
	}
	if b.aborting.Load() {
		b.notRun.Add(1)
		var zero Out
		c.reply(b, s.gen, zero, c.ep.dropped)
		return
	}
	out, err := c.ep.h(s.ctx, in)
	if err != nil {
		b.failed.Add(1)
	}
	c.reply(b, s.gen, out, err)
}

func (c *brkCell[In, Out]) brkPanic(b *Broker, s *mboxSlot, err error) {
	var zero Out
	c.reply(b, s.gen, zero, err)
}

// brkInlineable reports whether a T travels inside a mailbox slot: it must
// fit, and hold no pointers (the slot's bytes are scalars to the garbage
// collector).
func brkInlineable[T any]() bool {
	t := reflect.TypeFor[T]()
	return t.Size() <= uintptr(mboxInlineSize) && t.Align() <= 8 && !brkHasPointers(t)
}

// brkHasPointers reports whether values of t may hold pointers.
func brkHasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && brkHasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if brkHasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
