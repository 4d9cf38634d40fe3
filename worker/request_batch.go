package worker

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Batch is a set of requests sent to a broker together and awaited
// together — the guide's batch. Each request is named by its message
// type; results come back by name (through the Pending each AddRequest
// returns, and Err), and a failure is reported for its own name without
// failing the others.
//
//	bt := worker.NewBatch(b)
//	stats := worker.AddRequest[UserQuery, Stats](bt, "userStats", UserQuery{ID: 123})
//	orders := worker.AddRequest[OrderQuery, []Order](bt, "orders", OrderQuery{Limit: 10})
//	err := bt.Do(ctx) // a *BatchError naming the failed requests, if any
//
// A Batch is used by one goroutine and run once.
type Batch struct {
	b       *Broker
	entries []brkBatchEntry
	names   map[string]struct{}
	ran     bool
}

// NewBatch returns an empty batch of requests to b.
func NewBatch(b *Broker) *Batch {
	return &Batch{b: b, names: make(map[string]struct{})}
}

// Pending is the result of one request of a Batch, available once the
// batch's Do has returned.
type Pending[Out any] struct {
	name string
	out  Out
	err  error
	done bool
}

// Name returns the request's name (its message type).
func (p *Pending[Out]) Name() string { return p.name }

// Result returns the request's reply, or why it failed. Before Do has
// returned it fails with ErrInvalidOptions.
func (p *Pending[Out]) Result() (Out, error) {
	if !p.done {
		var zero Out
		return zero, fmt.Errorf("%w: batch request %q read before Do", ErrInvalidOptions, p.name)
	}
	return p.out, p.err
}

// AddRequest adds a request for msgType with input in to bt. The handler
// is looked up now; an unknown type, a type mismatch, or a name already in
// the batch is reported for this name by Do.
func AddRequest[In, Out any](bt *Batch, msgType string, in In) *Pending[Out] {
	p := &Pending[Out]{name: msgType}
	r := &brkBatchReq[In, Out]{p: p, in: in}
	switch _, dup := bt.names[msgType]; {
	case bt.ran:
		r.err = fmt.Errorf("%w: batch already run", ErrInvalidOptions)
	case dup:
		r.err = fmt.Errorf("%w: %q is already in the batch", ErrInvalidOptions, msgType)
	default:
		bt.names[msgType] = struct{}{}
		r.ep, r.err = brkLookup[*Endpoint[In, Out]](bt.b, msgType, "request", reflect.TypeFor[In](), reflect.TypeFor[Out]())
	}
	bt.entries = append(bt.entries, r)
	return p
}

// Do sends every request of the batch, then waits for every reply, for as
// long as ctx and the broker's default timeout (counted from the call to
// Do, for the whole batch) allow. It returns nil when every request
// succeeded, and otherwise a *BatchError with each failed name's error;
// the successful requests' results are available either way.
func (bt *Batch) Do(ctx context.Context) error {
	if bt.ran {
		return fmt.Errorf("%w: batch already run", ErrInvalidOptions)
	}
	bt.ran = true
	if ctx == nil {
		return errNilContext
	}
	var deadline time.Time
	limit := bt.b.waitLimit()
	if limit > 0 {
		deadline = time.Now().Add(limit)
	}
	for _, e := range bt.entries {
		e.batchSend(ctx, limit)
	}
	failed := map[string]error{}
	for _, e := range bt.entries {
		wait := limit
		if limit > 0 {
			wait = max(time.Until(deadline), time.Nanosecond)
		}
		if err := e.batchWait(ctx, wait); err != nil {
			failed[e.batchName()] = err
		}
	}
	if len(failed) > 0 {
		return &BatchError{Total: len(bt.entries), Errs: failed}
	}
	return nil
}

// Err returns the error of the request named name after Do (nil when it
// succeeded).
func (bt *Batch) Err(name string) error {
	for _, e := range bt.entries {
		if e.batchName() == name {
			return e.batchErr()
		}
	}
	return fmt.Errorf("%w: no request %q in the batch", ErrInvalidOptions, name)
}

// BatchError reports the failed requests of a Batch by name. errors.Is and
// errors.As look through every one of them.
type BatchError struct {
	Total int              // requests in the batch
	Errs  map[string]error // the failed ones
}

func (e *BatchError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "worker: batch: %d of %d requests failed", len(e.Errs), e.Total)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range e.Errs {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&sb, "; %s: %v", name, e.Errs[name])
	}
	return sb.String()
}

// Unwrap returns the failed requests' errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		out = append(out, err)
	}
	return out
}

// brkBatchEntry is one request of a Batch, whatever its types.
type brkBatchEntry interface {
	batchName() string
	batchSend(ctx context.Context, limit time.Duration)
	batchWait(ctx context.Context, limit time.Duration) error
	batchErr() error
}

type brkBatchReq[In, Out any] struct {
	p    *Pending[Out]
	ep   *Endpoint[In, Out]
	in   In
	cell *brkCell[In, Out]
	g    uint64
	err  error // a failure before the wait: lookup, send
}

func (r *brkBatchReq[In, Out]) batchName() string { return r.p.name }
func (r *brkBatchReq[In, Out]) batchErr() error   { return r.p.err }

func (r *brkBatchReq[In, Out]) batchSend(ctx context.Context, _ time.Duration) {
	if r.err != nil {
		return
	}
	c := r.ep.cells.Get().(*brkCell[In, Out])
	r.g, r.err = r.ep.send(ctx, c, r.in, false)
	if r.err != nil {
		r.ep.cells.Put(c)
		r.err = r.ep.fail("request", r.err)
		return
	}
	r.cell = c
}

func (r *brkBatchReq[In, Out]) batchWait(ctx context.Context, limit time.Duration) error {
	p := r.p
	p.done = true
	if r.err != nil {
		p.err = r.err
		return p.err
	}
	c := r.cell
	r.cell = nil
	if err := c.await(ctx, r.g, limit); err != nil {
		r.ep.b.timeouts.Add(1)
		p.err = r.ep.fail("request", err)
		return p.err
	}
	p.out, p.err = c.out, c.err
	c.release()
	r.ep.cells.Put(c)
	return p.err
}
