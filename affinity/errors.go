package affinity

import "errors"

var (
	// ErrUnsupported is returned (wrapped) by Pin, PinSet, Current and
	// ThreadAffinity on platforms without thread affinity (everything but
	// Linux).
	ErrUnsupported = errors.New("affinity: not supported on this platform")

	// ErrInvalidCPU is returned (wrapped, with the offending CPUs and the
	// reason) when a CPU number is negative, beyond MaxCPUs, or outside the
	// CPUs the process may use, and when a set to pin to is empty.
	ErrInvalidCPU = errors.New("affinity: invalid CPU")

	// ErrTooMany is returned (wrapped, with both counts) by Topology.Plan when
	// asked for more workers than there are allowed CPUs.
	ErrTooMany = errors.New("affinity: more workers than allowed CPUs")

	// ErrWorkerCount is returned (wrapped, with the value) by Topology.Plan
	// when asked for fewer than one worker.
	ErrWorkerCount = errors.New("affinity: worker count below 1")

	// ErrCPUList is returned (wrapped, with the input and what is wrong with
	// it) by ParseCPUList.
	ErrCPUList = errors.New("affinity: malformed CPU list")

	// ErrWrongThread is returned by a Pin undo function called from a
	// goroutine other than the one that pinned; nothing is changed.
	ErrWrongThread = errors.New("affinity: undo called from another goroutine")
)
