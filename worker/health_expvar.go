package worker

import "fmt"

// Publish puts the monitor's Metrics on the expvar page (/debug/vars)
// under name, as JSON, recomputed at every read. expvar names are taken
// for the life of the process: a name already published fails with
// ErrNameTaken, and after Close the page shows null.
func (m *HealthMonitor) Publish(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty expvar name", ErrInvalidOptions)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return fmt.Errorf("worker: health monitor publish %q: %w", name, ErrClosed)
	}
	pg, err := expvarPagesOf.claim(name, func() any { return m.Metrics() })
	if err != nil {
		return fmt.Errorf("worker: health monitor publish: %w", err)
	}
	expvarPagesOf.open(pg)
	m.published = append(m.published, pg)
	return nil
}
