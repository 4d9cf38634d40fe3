package affinity

import (
	"fmt"
	"slices"
)

// Plan returns the CPUs to pin n workers to, drawn from the CPUs of t.CPUs
// that are in t.Allowed: first one per physical core (each core's lowest
// allowed CPU, cores in Core order), then each core's second allowed CPU
// (its first hyperthread sibling), and so on. Workers thus share a core only
// when every allowed core already has one.
//
// n below 1 is an error wrapping ErrWorkerCount; n above the number of
// allowed CPUs, one wrapping ErrTooMany.
func (t *Topology) Plan(n int) ([]int, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: %d", ErrWorkerCount, n)
	}
	cores, total := t.allowedByCore()
	if n > total {
		return nil, fmt.Errorf("%w: %d workers, %d allowed CPUs (%s)", ErrTooMany, n, total, t.Allowed)
	}
	plan := make([]int, 0, n)
	for round := 0; len(plan) < n; round++ {
		for _, cpus := range cores {
			if round < len(cpus) && len(plan) < n {
				plan = append(plan, cpus[round])
			}
		}
	}
	return plan, nil
}

// PhysicalCoresAllowed returns the number of physical cores with at least
// one allowed CPU: the most workers that can run without sharing a core.
func (t *Topology) PhysicalCoresAllowed() int {
	cores, _ := t.allowedByCore()
	return len(cores)
}

// allowedByCore groups the allowed CPUs by core: cores in Core order, each
// core's CPUs ascending, no core empty. total counts the CPUs.
func (t *Topology) allowedByCore() (cores [][]int, total int) {
	cpus := make([]CPU, 0, len(t.CPUs))
	for _, c := range t.CPUs {
		if t.Allowed.Has(c.ID) {
			cpus = append(cpus, c)
		}
	}
	slices.SortStableFunc(cpus, func(a, b CPU) int {
		if a.Core != b.Core {
			return a.Core - b.Core
		}
		return a.ID - b.ID
	})
	for i, c := range cpus {
		if i == 0 || c.Core != cpus[i-1].Core {
			cores = append(cores, nil)
		}
		cores[len(cores)-1] = append(cores[len(cores)-1], c.ID)
	}
	return cores, len(cpus)
}
