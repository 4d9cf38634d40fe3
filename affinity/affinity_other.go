//go:build !linux

package affinity

import (
	"fmt"
	"runtime"
)

// Allowed returns the CPUs the process may run on. Outside Linux there is no
// affinity mask to read: it is every CPU, 0 to runtime.NumCPU()-1, and the
// error is nil.
func Allowed() (CPUSet, error) {
	var s CPUSet
	for c := range min(runtime.NumCPU(), MaxCPUs) {
		s.Add(c)
	}
	return s, nil
}

// ThreadAffinity returns the calling thread's affinity mask; outside Linux,
// an error wrapping ErrUnsupported.
func ThreadAffinity() (CPUSet, error) {
	return CPUSet{}, fmt.Errorf("%w: thread affinity on %s", ErrUnsupported, runtime.GOOS)
}

// Current returns the CPU the calling thread is running on and its NUMA
// node; outside Linux, an error wrapping ErrUnsupported.
func Current() (cpu, node int, err error) {
	return 0, 0, fmt.Errorf("%w: current CPU on %s", ErrUnsupported, runtime.GOOS)
}

func pinSet(set CPUSet) (func() error, error) {
	return nil, fmt.Errorf("%w: pinning to %s on %s", ErrUnsupported, set, runtime.GOOS)
}
