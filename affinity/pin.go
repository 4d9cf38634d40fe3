package affinity

import "fmt"

// Pin locks the calling goroutine to its OS thread (runtime.LockOSThread)
// and restricts that thread to cpu alone.
//
// undo restores the thread's previous mask and unlocks it; call it on the
// same goroutine (from another it returns ErrWrongThread and changes
// nothing). A second call of undo does nothing. If the restore fails, the
// thread stays locked, so no other goroutine ever runs on it pinned; the
// runtime discards a thread whose goroutine exits locked. Exiting the
// goroutine without undo is therefore safe too: the pinned thread dies
// with it. Threads the runtime starts while a goroutine is locked come from
// a clean template thread, so they do not inherit the pinned mask.
//
// A cpu outside Allowed() — negative, at or beyond MaxCPUs, or not in the
// process's mask — is an error wrapping ErrInvalidCPU that names the cpu
// and the allowed list. On any error nothing has changed: the thread is
// neither locked nor re-pinned. On platforms other than Linux, Pin of a cpu
// in [0, MaxCPUs) returns an error wrapping ErrUnsupported.
func Pin(cpu int) (undo func() error, err error) {
	if cpu < 0 || cpu >= MaxCPUs {
		return nil, fmt.Errorf("%w: %d outside [0, %d)", ErrInvalidCPU, cpu, MaxCPUs)
	}
	var set CPUSet
	set.Add(cpu)
	return PinSet(set)
}

// PinSet is Pin for a set of CPUs: the thread may run on any CPU of set.
// An empty set, or one with a CPU outside Allowed(), is an error wrapping
// ErrInvalidCPU.
func PinSet(set CPUSet) (undo func() error, err error) {
	return pinSet(set)
}
