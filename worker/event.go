package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/pad"
	"github.com/weftlabs/weft/ring"
)

// ErrorEvent is the event a Broker emits when the handler of a posted
// message fails (nobody waits for its reply); its value is the error.
// Subscribe with On[error].
const ErrorEvent = "error"

// On subscribes listener to event on b and returns the function that
// unsubscribes it (idempotent; Go funcs are not comparable, so this is
// how off is spelled). Listeners run one at a time on the broker's
// listener goroutine — not on the worker — each event to all its
// listeners in subscription order, events in the order they were emitted.
// Once off returns, the listener is not called for events not yet
// started. A listener that panics is recovered and counted
// (BrokerStats.ListenerPanics).
//
// An event's value type is fixed by its first On or Emit: ErrTypeMismatch
// for another. A nil listener or an empty name is ErrInvalidOptions;
// after Close, ErrClosed.
func On[T any](b *Broker, event string, listener func(T)) (off func(), err error) {
	if listener == nil {
		return nil, fmt.Errorf("%w: nil listener for event %q", ErrInvalidOptions, event)
	}
	l := &evtListener{call: func(v any) {
		x, _ := v.(T) // a nil interface value arrives as nil
		listener(x)
	}}
	if err := b.evt.subscribe(event, reflect.TypeFor[T](), l); err != nil {
		return nil, err
	}
	return func() { b.evt.unsubscribe(l) }, nil
}

// Emit sends an event with value v to the listeners of event on b. Any
// goroutine may emit; a handler emits progress while it works. Events
// emitted by one goroutine reach the listeners in that order; a
// request's reply may reach its caller before the listeners have seen
// the events its handler emitted. Emit waits while the event buffer is
// full, for as long as ctx allows; an event nobody listens to is dropped
// at once. It fails with ErrTypeMismatch when v's type is not the event's,
// and with ErrClosed once the broker has closed (events emitted by the
// handlers of messages that Close lets run are still delivered).
//
// A listener must not Emit into a full buffer: the listener goroutine
// would wait for itself until ctx ends.
func Emit[T any](ctx context.Context, b *Broker, event string, v T) error {
	if ctx == nil {
		return errNilContext
	}
	e := &b.evt
	if e.q.Closed() {
		return fmt.Errorf("worker: emit %q: %w", event, ErrClosed)
	}
	t := (*e.topics.Load())[event]
	if t == nil {
		return nil
	}
	if t.typ != reflect.TypeFor[T]() {
		return fmt.Errorf("worker: emit %q: event carries %v, not %v: %w", event, t.typ, reflect.TypeFor[T](), ErrTypeMismatch)
	}
	if len(*t.listeners.Load()) == 0 {
		return nil
	}
	if err := e.q.Push(ctx, evtRecord{topic: t, v: v}); err != nil {
		if errors.Is(err, ring.ErrClosed) {
			err = ErrClosed
		}
		return fmt.Errorf("worker: emit %q: %w", event, err)
	}
	return nil
}

// evtBus is a broker's events: the topics and their listeners, and the
// queue from the emitters to the listener goroutine.
type evtBus struct {
	q *ring.MPMC[evtRecord]

	mu     sync.Mutex                           // serialises subscribe and unsubscribe
	topics atomic.Pointer[map[string]*evtTopic] // copy-on-write; read lock-free by Emit

	done chan struct{} // closed when the listener goroutine has exited

	_ pad.Line
	// Written by the listener goroutine, per event: off the lines the
	// callers and the worker read.
	delivered atomic.Uint64
	panics    atomic.Uint64
	_         pad.Line
}

// evtTopic is one event name: its value type and its listeners.
type evtTopic struct {
	name      string
	typ       reflect.Type
	listeners atomic.Pointer[[]*evtListener] // copy-on-write under evtBus.mu
}

type evtListener struct {
	call  func(any)
	topic *evtTopic   // set by subscribe
	off   atomic.Bool // set by unsubscribe; checked before every call
}

// evtRecord is one emitted event in the queue.
type evtRecord struct {
	topic *evtTopic
	v     any
}

func (e *evtBus) init(size int) error {
	q, err := ring.NewMPMC[evtRecord](size)
	if err != nil {
		return fmt.Errorf("%w: EventBuffer: %w", ErrInvalidOptions, err)
	}
	e.q = q
	e.done = make(chan struct{})
	errTopic := &evtTopic{name: ErrorEvent, typ: reflect.TypeFor[error]()}
	errTopic.listeners.Store(&[]*evtListener{})
	e.topics.Store(&map[string]*evtTopic{ErrorEvent: errTopic})
	go e.dispatch()
	return nil
}

func (e *evtBus) subscribe(event string, typ reflect.Type, l *evtListener) error {
	if event == "" {
		return fmt.Errorf("%w: empty event name", ErrInvalidOptions)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.q.Closed() {
		return fmt.Errorf("worker: on %q: %w", event, ErrClosed)
	}
	t := (*e.topics.Load())[event]
	if t == nil {
		t = &evtTopic{name: event, typ: typ}
		t.listeners.Store(&[]*evtListener{})
		m := maps.Clone(*e.topics.Load())
		m[event] = t
		e.topics.Store(&m)
	}
	if t.typ != typ {
		return fmt.Errorf("worker: on %q: event carries %v, not %v: %w", event, t.typ, typ, ErrTypeMismatch)
	}
	ls := append(slices.Clone(*t.listeners.Load()), l)
	t.listeners.Store(&ls)
	l.topic = t
	return nil
}

func (e *evtBus) unsubscribe(l *evtListener) {
	if l.off.Swap(true) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := l.topic
	ls := slices.DeleteFunc(slices.Clone(*t.listeners.Load()), func(x *evtListener) bool { return x == l })
	t.listeners.Store(&ls)
}

// emitError reports a posted handler's failure to the ErrorEvent
// listeners. Worker only; it waits for room like any emitter.
func (e *evtBus) emitError(b *Broker, err error) {
	_ = Emit(b.base, b, ErrorEvent, err)
}

// dispatch is the listener goroutine: it delivers events until the queue
// is closed and drained.
func (e *evtBus) dispatch() {
	defer close(e.done)
	for {
		r, err := e.q.Pop(context.Background())
		if err != nil {
			return // closed and drained
		}
		for _, l := range *r.topic.listeners.Load() {
			if !l.off.Load() {
				e.deliver(l, r.v)
			}
		}
		e.delivered.Add(1)
	}
}

func (e *evtBus) deliver(l *evtListener, v any) {
	defer func() {
		if recover() != nil {
			e.panics.Add(1)
		}
	}()
	l.call(v)
}

// close delivers what is queued and stops the listener goroutine.
func (e *evtBus) close() {
	e.q.Close()
	<-e.done
}
