package worker

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// Versioned is one snapshot of a Config's value. It is immutable once
// published: readers share it, so neither they nor the updater may modify
// it (nor what its maps, slices and pointers refer to).
type Versioned[T any] struct {
	Version uint64 // 1 for the initial value, +1 for every update
	Value   T
}

// Config is a typed configuration that any goroutine — any worker — reads
// without a lock: the current snapshot sits behind an atomic pointer, and
// a read is one atomic load. Updates are copy-on-write: the updater gets a
// copy, changes it, and publishes it as the next version; updaters are
// serialised (a mutex no reader takes), so no update is lost and versions
// go up by one. Watchers wait for versions newer than the one they saw.
//
// The copy is shallow (an assignment), unless T has a method
// Clone() T, which is then used: a T with maps or slices should replace
// them in Update rather than modify them, or provide Clone.
type Config[T any] struct {
	cur atomic.Pointer[Versioned[T]]
	// changed is closed, and replaced by a fresh channel, after every
	// update and at Close. A watcher loads changed before cur: if its cur
	// is stale, the update that replaced it swapped changed after storing
	// cur, so the channel the watcher holds is the one that update closes.
	changed atomic.Pointer[chan struct{}]
	mu      sync.Mutex // serialises updaters and Close
	closed  atomic.Bool
}

// NewConfig returns a Config holding initial as version 1 — the guide's
// EnvironmentManager.initialize.
func NewConfig[T any](initial T) *Config[T] {
	c := &Config[T]{}
	c.cur.Store(&Versioned[T]{Version: 1, Value: initial})
	ch := make(chan struct{})
	c.changed.Store(&ch)
	return c
}

// Load returns the current snapshot: one atomic load, no lock, no copy.
func (c *Config[T]) Load() *Versioned[T] { return c.cur.Load() }

// Get returns a copy of the current value — the guide's getConfig.
func (c *Config[T]) Get() T { return c.cur.Load().Value }

// Version returns the current version.
func (c *Config[T]) Version() uint64 { return c.cur.Load().Version }

// Update publishes a new version made by fn from a copy of the current
// value — the guide's updateConfig. fn runs once, with updates from other
// goroutines held back until it returns; if it returns an error nothing
// is published and Update returns that error. Update returns the new
// snapshot, and fails with ErrClosed after Close.
func (c *Config[T]) Update(fn func(v *T) error) (*Versioned[T], error) {
	if fn == nil {
		return nil, fmt.Errorf("%w: nil update function", ErrInvalidOptions)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, fmt.Errorf("worker: config update: %w", ErrClosed)
	}
	old := c.cur.Load()
	v := old.Value
	if cl, ok := any(v).(interface{ Clone() T }); ok {
		v = cl.Clone()
	}
	if err := fn(&v); err != nil {
		return nil, err
	}
	return c.publish(old, v), nil
}

// Set publishes v as the next version.
func (c *Config[T]) Set(v T) (*Versioned[T], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, fmt.Errorf("worker: config set: %w", ErrClosed)
	}
	return c.publish(c.cur.Load(), v), nil
}

// publish stores the next snapshot, then wakes the watchers. Called with
// mu held.
func (c *Config[T]) publish(old *Versioned[T], v T) *Versioned[T] {
	next := &Versioned[T]{Version: old.Version + 1, Value: v}
	c.cur.Store(next)
	c.wake()
	return next
}

func (c *Config[T]) wake() {
	ch := make(chan struct{})
	close(*c.changed.Swap(&ch))
}

// Wait returns the first snapshot whose version is above after, waiting
// for an update while ctx allows. After Close it returns the last
// snapshot with ErrClosed if there is no newer one.
func (c *Config[T]) Wait(ctx context.Context, after uint64) (*Versioned[T], error) {
	for {
		ch := c.changed.Load() // before cur: see Config.changed
		v := c.cur.Load()
		if v.Version > after {
			return v, nil
		}
		if c.closed.Load() {
			return v, fmt.Errorf("worker: config wait: %w", ErrClosed)
		}
		select {
		case <-*ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Watch yields the current snapshot, then every later one it can: a
// watcher that is slower than the updates sees the latest version, not
// each one (versions it sees only go up, and the last one published is
// always seen). It runs in the caller's goroutine — no goroutine is
// started — and ends when ctx ends, when the loop breaks, or after Close.
func (c *Config[T]) Watch(ctx context.Context) iter.Seq[*Versioned[T]] {
	return func(yield func(*Versioned[T]) bool) {
		var seen uint64
		for {
			v, err := c.Wait(ctx, seen)
			if err != nil {
				return
			}
			seen = v.Version
			if !yield(v) {
				return
			}
		}
	}
}

// Close ends every Wait and Watch and makes Update and Set fail with
// ErrClosed. Readers still read the last snapshot. It is idempotent.
func (c *Config[T]) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed.Swap(true) {
		c.wake()
	}
	return nil
}
