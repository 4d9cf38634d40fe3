package worker

import (
	"expvar"
	"fmt"
	"sync"
	"sync/atomic"
)

// healthExpvarMu makes the check for a free expvar name and the
// publication one step (expvar.Publish panics on a taken name).
var healthExpvarMu sync.Mutex

// Publish puts the monitor's Metrics on the expvar page (/debug/vars)
// under name, as JSON, recomputed at every read. expvar names are taken
// for the life of the process: a name already published fails with
// ErrNameTaken, and after Close the page shows null.
func (m *HealthMonitor) Publish(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty expvar name", ErrInvalidOptions)
	}
	healthExpvarMu.Lock()
	defer healthExpvarMu.Unlock()
	if expvar.Get(name) != nil {
		return fmt.Errorf("worker: health monitor publish %q: %w", name, ErrNameTaken)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return fmt.Errorf("worker: health monitor publish %q: %w", name, ErrClosed)
	}
	p := new(atomic.Pointer[HealthMonitor])
	p.Store(m)
	m.published = append(m.published, p)
	expvar.Publish(name, expvar.Func(func() any {
		if m := p.Load(); m != nil {
			return m.Metrics()
		}
		return nil
	}))
	return nil
}
