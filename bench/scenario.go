package bench

import (
	"slices"
	"sync"
)

// Scenario is one workload and the implementations measured on it.
type Scenario struct {
	Suite string // group, e.g. "ring"
	Name  string // unique within the suite, e.g. "spsc-1p1c"
	Doc   string // one line: what one operation is
	// Latency marks a scenario whose implementations time each operation
	// with Recorder.Lap, so percentiles are reported.
	Latency bool
	// Impls are measured in this order within a round (rotated each round).
	// Impls[0] is the reference that ratios are computed against.
	Impls []Impl
}

// ID is the scenario's "suite/name".
func (s *Scenario) ID() string { return s.Suite + "/" + s.Name }

// Impl is one way of doing a scenario's work.
type Impl struct {
	Name string // e.g. "weft.SPSC", "chan"
	// Peer is true for implementations weft is compared with.
	Peer bool
	// Run performs n operations and returns when all are complete. Setup
	// (allocating queues, starting goroutines) may happen inside; it is
	// amortised over n. Latency scenarios call r.Lap once per operation.
	// Run must not leave goroutines behind.
	Run func(n int, r *Recorder)
	// Quantum, when above 1, says that Run works in whole units of this
	// many operations (one fib(30) is 1.6M calls): the harness only asks
	// for multiples of it, so that per-operation figures stay exact.
	Quantum int
}

// round returns n rounded up to a whole number of quanta.
func (im Impl) round(n int) int {
	if q := im.Quantum; q > 1 {
		return max(1, (n+q-1)/q) * q
	}
	return max(n, 1)
}

var (
	registryMu sync.Mutex
	registry   []*Scenario
)

// Register adds scenarios to the suite. It is called from init functions.
func Register(s ...*Scenario) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, s...)
}

// Scenarios returns every registered scenario, sorted by suite, keeping
// registration order within a suite.
func Scenarios() []*Scenario {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := slices.Clone(registry)
	slices.SortStableFunc(out, func(a, b *Scenario) int {
		switch {
		case a.Suite < b.Suite:
			return -1
		case a.Suite > b.Suite:
			return 1
		}
		return 0
	})
	return out
}
