package worker

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/internal/park"
	"github.com/weftlabs/weft/ring"
	"github.com/weftlabs/weft/sched"
)

// DefaultTimeout is a Broker's default timeout when BrokerOptions.Timeout
// is zero.
const DefaultTimeout = 30 * time.Second

// BrokerOptions configure a Broker. The zero value is an unpinned worker
// with a mailbox of 1024 messages, an event buffer of 1024 events and a
// default timeout of 30 seconds.
type BrokerOptions struct {
	// Timeout is the default limit on how long a call waits for its
	// worker: a request for its reply, a stream for its next chunk,
	// a batch for all its replies. Zero means DefaultTimeout; negative
	// means no default limit (the caller's context alone decides). A
	// context deadline earlier than the timeout applies first.
	Timeout time.Duration
	// MailboxSize is how many messages the mailbox holds, the one running
	// included, rounded up to a power of two (0: 1024). Senders wait while
	// it is full.
	MailboxSize int
	// EventBuffer is how many emitted events may wait for the listeners,
	// rounded up to a power of two (0: 1024). Emit waits while it is full.
	EventBuffer int
	// Pin pins the worker's thread to a CPU of its own (see sched.Options.Pin).
	Pin bool
	// Name labels the worker for pprof (default "broker").
	Name string
}

// Broker is a long-lived worker with a mailbox — the guide's
// WorkerMessageBroker and WorkerEventBus in one. Create one with
// NewBroker. Handlers are registered
// by message type (Handle, HandleStream); callers send requests (Request,
// an Endpoint's Request), batches (NewBatch), streams (Stream) and posts
// (Post); listeners subscribe to events by name (On) that handlers, or
// anyone, emit (Emit).
//
// The worker runs one message at a time, on a thread of its own (a
// one-worker sched.Scheduler, pinned with BrokerOptions.Pin): handlers
// need no locking for state only they touch. Messages run in the order
// the mailbox accepted them; a request that travels by a lane instead (a
// Client's, or an endpoint's shared one) runs after every mailbox message
// that was sent before it. So the messages of one goroutine run in the
// order it sent them, whichever way each went. A handler that blocks
// holds up the messages behind it, and a handler must not wait on its own
// broker (a request, a stream): it would wait for itself until the
// timeout.
//
// Each request carries a correlation id, the generation of the caller's
// reply cell. A caller that stops waiting (the default timeout, its
// context) gives the cell to the worker, which drops the late reply and
// counts it (BrokerStats.Late): a late reply never reaches another caller.
type Broker struct {
	mbox mailbox

	// Read-mostly: written at creation, by SetTimeout, by Close.
	timeout  atomic.Int64 // nanoseconds; <= 0: none
	stop     atomic.Bool  // set by Shutdown after closing the mailbox: the worker drains and exits
	aborting atomic.Bool  // set when Shutdown's deadline passed: the worker fails messages unrun
	name     string
	s        *sched.Scheduler
	loop     *sched.Future[struct{}]
	base     context.Context // handed to posted handlers; cancelled when Shutdown gives up
	cancel   context.CancelFunc

	routeMu sync.Mutex                          // serialises Handle; readers go lock-free
	routes  atomic.Pointer[map[string]brkRoute] // copy-on-write

	laneMu      sync.Mutex                   // serialises changes to lanes
	lanes       atomic.Pointer[[]brkLaneRef] // Clients' lanes, copy-on-write; polled by the worker
	lanesClosed bool                         // under laneMu: set by the worker as it exits

	evt evtBus

	_ pad.Line
	// Counters written off the fast path.
	failed, panics, timeouts, late, notRun atomic.Uint64
	_                                      pad.Line
	laneServed                             atomic.Uint64 // worker only, after each reply
	_                                      pad.Line

	closeOnce sync.Once
	closed    chan struct{} // closed when the worker and the dispatcher have exited
	closeErr  error
}

// brkRoute is a registered message type: an *Endpoint or *StreamEndpoint.
type brkRoute interface {
	Type() string
	signature() string // for ErrTypeMismatch: "request int -> string"
}

// brkJob is what a mailbox message runs on the worker: a request's reply
// cell or a stream's state.
type brkJob interface {
	// brkRun handles the message in s (on the worker), or, when the
	// broker is aborting, fails it unrun; either way it resolves the
	// message exactly once. If the handler panics, brkRun does not
	// return: the worker's loop recovers and calls brkPanic instead.
	brkRun(b *Broker, s *mboxSlot)
	// brkPanic resolves the message whose handler panicked with err.
	brkPanic(b *Broker, s *mboxSlot, err error)
}

// NewBroker starts a broker's worker.
func NewBroker(opt BrokerOptions) (*Broker, error) {
	switch {
	case opt.MailboxSize < 0 || opt.MailboxSize > ring.MaxCapacity:
		return nil, fmt.Errorf("%w: MailboxSize = %d", ErrInvalidOptions, opt.MailboxSize)
	case opt.EventBuffer < 0 || opt.EventBuffer > ring.MaxCapacity:
		return nil, fmt.Errorf("%w: EventBuffer = %d", ErrInvalidOptions, opt.EventBuffer)
	}
	if opt.MailboxSize == 0 {
		opt.MailboxSize = 1024
	}
	if opt.EventBuffer == 0 {
		opt.EventBuffer = 1024
	}
	if opt.Name == "" {
		opt.Name = "broker"
	}
	s, err := sched.New(sched.Options{Name: opt.Name, Workers: 1, Pin: opt.Pin, QueueSize: 1})
	if err != nil {
		return nil, fmt.Errorf("worker: broker thread: %w", err)
	}
	b := &Broker{name: opt.Name, s: s, closed: make(chan struct{})}
	b.mbox.init(opt.MailboxSize)
	b.SetTimeout(opt.Timeout)
	b.base, b.cancel = context.WithCancel(context.Background())
	b.routes.Store(&map[string]brkRoute{})
	b.lanes.Store(&[]brkLaneRef{})
	if err := b.evt.init(opt.EventBuffer); err != nil {
		s.Close()
		return nil, err
	}
	// The worker's loop is the scheduler's one long task: it holds the
	// scheduler's only worker (and so its thread, pinned or not) until
	// Shutdown stops it.
	b.loop = sched.Go(context.Background(), s, func(*sched.Worker) (struct{}, error) {
		b.run()
		return struct{}{}, nil
	})
	return b, nil
}

// SetTimeout changes the default timeout of the calls that start from now
// on (the guide's setTimeout), with the meaning of BrokerOptions.Timeout.
func (b *Broker) SetTimeout(d time.Duration) {
	if d == 0 {
		d = DefaultTimeout
	}
	b.timeout.Store(int64(d))
}

// Timeout returns the default timeout (negative: none).
func (b *Broker) Timeout() time.Duration { return time.Duration(b.timeout.Load()) }

// waitLimit is the default timeout as a wait limit (<= 0: none).
func (b *Broker) waitLimit() time.Duration { return time.Duration(b.timeout.Load()) }

// isClosed reports whether the mailbox no longer accepts messages.
func (b *Broker) isClosed() bool { return b.mbox.tail.Load()&1 != 0 }

// The worker's loop: poll tightly, then spin and yield (park.Backoff),
// then park on the mailbox's idle list. The wake-up protocol, against a
// producer (mailbox.publish):
//
//	worker                          producer
//	idle.Prepare (n++, full fence)  StoreRelease(slot.seq)
//	recheck peek() and stop         load idle.n; if > 0: Notify
//	Park
//
// Prepare's heavy barrier orders the producer's release store before its
// load of n (see internal/barrier): either the recheck sees the message,
// or the producer sees n > 0 and wakes the worker. Shutdown sets stop and
// then notifies, so the same recheck covers it.
func (b *Broker) run() {
	for !b.serve() {
	}
}

// serve is the loop; it returns true when the broker stops, false after a
// handler panicked (the message answered with the panic, its slot
// released). Recovering here rather than around each handler keeps a
// deferred call off the path of every message.
//
// Each round takes the mailbox's next message, then every lane's pending
// request, so neither can starve the other.
func (b *Broker) serve() (stopped bool) {
	m := &b.mbox
	lp := brkLoop{b: b}
	defer func() {
		if lp.cur == nil && lp.curLane.job == nil {
			return
		}
		v := recover()
		b.panics.Add(1)
		b.failed.Add(1)
		err := &sched.PanicError{Value: v, Stack: debug.Stack()}
		if s := lp.cur; s != nil {
			s.job.brkPanic(b, s, err)
			m.release(s)
		} else {
			lp.curLane.job.brkLanePanic(b, lp.curGen, err)
			b.laneServed.Add(1)
		}
	}()
	var bo park.Backoff
	polls := 0
	for {
		worked := false
		if s := m.peek(); s != nil {
			lp.run(s)
			worked = true
		}
		if len(*b.lanes.Load()) > 0 && lp.serveLanes() {
			worked = true
		}
		if worked {
			polls = 0
			bo.Reset()
			continue
		}
		// Nothing: poll tightly for a while, then back off.
		if polls < brkTightPolls {
			polls++
			continue
		}
		if b.stop.Load() {
			// The mailbox is closed: every position below the final tail
			// will be published; a producer between its claim and its
			// publication is a few instructions away.
			if m.head.Load() == m.accepted() {
				lp.closeLanes()
				return true
			}
			bo.Spin()
			continue
		}
		if bo.Snooze() {
			continue
		}
		w := m.idle.Prepare()
		if m.peek() != nil || b.lanePending() || b.stop.Load() {
			m.idle.Cancel(w)
		} else {
			m.idle.Park(context.Background(), w) // woken by publish, a Client or Shutdown
		}
		bo.Reset()
		polls = 0
	}
}

// brkLoop is the worker loop's record of the message in progress, which
// a handler's panic must still answer.
type brkLoop struct {
	b       *Broker
	cur     *mboxSlot  // the mailbox message being handled
	curLane brkLaneRef // or the lane whose request is
	curGen  uint64
}

// run handles the mailbox message in s and frees its slot.
func (lp *brkLoop) run(s *mboxSlot) {
	lp.cur = s
	s.job.brkRun(lp.b, s)
	lp.cur = nil
	lp.b.mbox.release(s)
}

// drainTo runs the mailbox's messages up to position t (exclusive),
// waiting for those claimed but not yet published (their producers are
// a few instructions from publishing).
func (lp *brkLoop) drainTo(t uint64) {
	m := &lp.b.mbox
	var bo park.Backoff
	for m.head.Load() < t {
		if s := m.peek(); s != nil {
			lp.run(s)
			bo.Reset()
			continue
		}
		bo.Spin()
	}
}

// brkTightPolls is how many times the worker (and a caller waiting for a
// reply) polls without a pause instruction before backing off: ~100 ns,
// the time a reply or a next request takes to cross between cores. A
// pause costs ~26 ns on some cores, as much as the rest of a hop.
const brkTightPolls = 512

// BrokerStats is a snapshot of a broker's counters.
type BrokerStats struct {
	Accepted uint64 // messages accepted into the mailbox: requests, batch entries, streams, posts
	Handled  uint64 // messages the worker has finished with (run or, at a forced shutdown, dropped)
	Queued   int    // accepted, not yet finished
	Failed   uint64 // handlers that returned an error or panicked
	Panics   uint64 // handlers that panicked
	Timeouts uint64 // calls that stopped waiting: the default timeout or their context ended
	Late     uint64 // replies that came after their caller had stopped waiting: dropped
	NotRun   uint64 // messages dropped unrun because Shutdown's deadline passed
	Events   uint64 // events delivered to listeners
	// ListenerPanics counts listener calls that panicked (recovered: the
	// other listeners still run).
	ListenerPanics uint64
	// LaneRequests counts the requests served through lanes (Clients',
	// and each endpoint's shared one), which do not pass through the
	// mailbox and so are not in Accepted, Handled or Queued.
	LaneRequests uint64
}

// Stats returns a snapshot of the broker's counters. It takes no lock.
func (b *Broker) Stats() BrokerStats {
	handled := b.mbox.head.Load()
	acc := b.mbox.accepted()
	return BrokerStats{
		Accepted:       acc,
		Handled:        handled,
		Queued:         int(acc - min(acc, handled)),
		Failed:         b.failed.Load(),
		Panics:         b.panics.Load(),
		Timeouts:       b.timeouts.Load(),
		Late:           b.late.Load(),
		NotRun:         b.notRun.Load(),
		Events:         b.evt.delivered.Load(),
		ListenerPanics: b.evt.panics.Load(),
		LaneRequests:   b.laneServed.Load(),
	}
}

// Close stops accepting messages (ErrClosed from now on), lets the worker
// run every message already accepted, delivers every event already
// emitted, and returns when the worker's thread and the listeners'
// goroutine have exited — the guide's terminate. It is idempotent.
func (b *Broker) Close() error {
	_, err := b.Shutdown(context.Background())
	return err
}

// Shutdown is Close with a deadline. When ctx ends first, the worker
// fails the messages it has not started with ErrClosed (a handler that is
// running cannot be stopped; posted handlers see their context end), and
// Shutdown returns ctx's error with how many messages (and lane requests)
// were still unfinished. A later Close waits for the rest.
func (b *Broker) Shutdown(ctx context.Context) (unfinished int, err error) {
	b.mbox.close()
	b.stop.Store(true)
	b.mbox.idle.NotifyAll()
	b.mbox.room.NotifyAll() // senders waiting for room see the mailbox closed
	if _, err := b.loop.Wait(ctx); err != nil && ctx.Err() != nil {
		b.aborting.Store(true)
		b.cancel()
		return b.Stats().Queued + b.lanesQueued(), err
	}
	b.closeOnce.Do(func() {
		// The worker has exited: no handler emits any more. Deliver what
		// was emitted, stop the listeners' goroutine, free the thread. A
		// listener may still be running, so this finishes in the
		// background when ctx is shorter.
		go func() {
			b.evt.close()
			b.cancel()
			b.closeErr = b.s.Close()
			close(b.closed)
		}()
	})
	select {
	case <-b.closed:
		return 0, b.closeErr
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
