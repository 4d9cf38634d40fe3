package worker

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

// Resources is a registry of named resources that workers share — the
// guide's database connections and caches — closed together on shutdown,
// in the reverse order of their registration (what was opened last, and
// may depend on what came before, is closed first). Lookups take no lock:
// the name table is copy-on-write behind an atomic pointer. The zero value
// is an empty registry.
type Resources struct {
	byName atomic.Pointer[map[string]*resourceEntry] // copy-on-write under mu
	mu     sync.Mutex
	order  []*resourceEntry // registration order, under mu
	closed atomic.Bool      // set under mu
	once   sync.Once        // runs Close's closing
	err    error            // Close's result, set inside once
}

type resourceEntry struct {
	name  string
	v     any
	close func() error
}

// AddResource registers v under name. closeFn, if not nil, closes it on
// Resources.Close; if nil and v is an io.Closer, v.Close is used. It fails
// with ErrNameTaken for a name already registered, and with ErrClosed once
// the registry is closed (v is then not closed: it is still the caller's).
func AddResource[T any](rs *Resources, name string, v T, closeFn func(T) error) error {
	e := &resourceEntry{name: name, v: v}
	switch c := any(v).(type) {
	case nil:
		return fmt.Errorf("%w: nil resource %q", ErrInvalidOptions, name)
	case io.Closer:
		e.close = c.Close
	}
	if closeFn != nil {
		e.close = func() error { return closeFn(v) }
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed.Load() {
		return fmt.Errorf("worker: resource %q: %w", name, ErrClosed)
	}
	old := rs.byName.Load()
	if old != nil {
		if _, ok := (*old)[name]; ok {
			return fmt.Errorf("worker: resource %q: %w", name, ErrNameTaken)
		}
	}
	m := make(map[string]*resourceEntry, len(rs.order)+1)
	for _, e := range rs.order {
		m[e.name] = e
	}
	m[name] = e
	rs.byName.Store(&m)
	rs.order = append(rs.order, e)
	return nil
}

// GetResource returns the resource registered under name — the guide's
// getDatabase. It fails with ErrNotRegistered when there is none, or when
// it is not a T, and with ErrClosed once the registry is closed.
func GetResource[T any](rs *Resources, name string) (T, error) {
	var zero T
	if rs.closed.Load() {
		return zero, fmt.Errorf("worker: resource %q: %w", name, ErrClosed)
	}
	m := rs.byName.Load()
	if m == nil {
		return zero, fmt.Errorf("worker: resource %q: %w", name, ErrNotRegistered)
	}
	e, ok := (*m)[name]
	if !ok {
		return zero, fmt.Errorf("worker: resource %q: %w", name, ErrNotRegistered)
	}
	v, ok := e.v.(T)
	if !ok {
		return zero, fmt.Errorf("worker: resource %q is a %T, not a %T: %w", name, e.v, zero, ErrNotRegistered)
	}
	return v, nil
}

// Names returns the registered names in registration order.
func (rs *Resources) Names() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	names := make([]string, len(rs.order))
	for i, e := range rs.order {
		names[i] = e.name
	}
	return names
}

// Close closes every resource, the last registered first, and returns
// their errors joined (each naming its resource). Every resource is
// closed even when some fail. Afterwards AddResource and GetResource fail
// with ErrClosed (so a close function may look resources up, and is told
// they are closed). It is idempotent: a later Close waits for the first
// and returns its result.
func (rs *Resources) Close() error {
	rs.once.Do(func() {
		rs.mu.Lock()
		rs.closed.Store(true)
		order := rs.order
		rs.order = nil
		rs.byName.Store(nil)
		rs.mu.Unlock()
		var errs []error
		for _, e := range slices.Backward(order) {
			if e.close != nil {
				if err := e.close(); err != nil {
					errs = append(errs, fmt.Errorf("worker: closing resource %q: %w", e.name, err))
				}
			}
		}
		rs.err = errors.Join(errs...)
	})
	return rs.err
}
