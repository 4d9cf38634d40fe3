//go:build linux

package affinity

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Allowed returns the CPUs the process may run on: the calling thread's
// affinity mask (sched_getaffinity(0)), which reflects taskset, cgroup
// cpusets and container limits — except on a thread pinned by Pin or
// PinSet, where it is the mask that thread had before its outermost Pin.
// So a pinned worker still sees every CPU the process may use, while
// ThreadAffinity returns its pinned mask.
//
// Every thread of a Go program has the process's mask unless something
// pins it: a pinned thread runs only its locked goroutine, and the runtime
// starts threads needed while a goroutine is locked from a clean template
// thread, so they do not inherit the pin.
func Allowed() (CPUSet, error) {
	runtime.LockOSThread() // the mask and the thread id must be the same thread's
	defer runtime.UnlockOSThread()
	cur, err := ThreadAffinity()
	if err != nil {
		return CPUSet{}, err
	}
	return pins.base(unix.Gettid(), cur), nil
}

// ThreadAffinity returns the calling thread's affinity mask. Unless the
// goroutine is locked to its thread (runtime.LockOSThread, Pin), the answer
// describes whichever thread it happened to run on.
func ThreadAffinity() (CPUSet, error) {
	var m unix.CPUSet
	if err := unix.SchedGetaffinity(0, &m); err != nil {
		return CPUSet{}, fmt.Errorf("affinity: reading the thread's CPU mask: %w", err)
	}
	return fromUnix(&m), nil
}

// Current returns the CPU the calling thread is running on and that CPU's
// NUMA node (getcpu(2)). Unless the thread is pinned to one CPU, the answer
// may be stale by the time it is used.
func Current() (cpu, node int, err error) {
	var c, n uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0); e != 0 {
		return 0, 0, fmt.Errorf("affinity: getcpu: %w", e)
	}
	return int(c), int(n), nil
}

func pinSet(set CPUSet) (func() error, error) {
	if set.Len() == 0 {
		return nil, fmt.Errorf("%w: empty set", ErrInvalidCPU)
	}
	runtime.LockOSThread() // from here to a successful undo, this goroutine owns the thread
	fail := func(err error) (func() error, error) {
		runtime.UnlockOSThread()
		return nil, err
	}
	allowed, err := Allowed()
	if err != nil {
		return fail(err)
	}
	if out := set.andNot(allowed); out.Len() > 0 {
		return fail(fmt.Errorf("%w: %s not in the allowed set %s", ErrInvalidCPU, out, allowed))
	}
	var prev unix.CPUSet
	if err := unix.SchedGetaffinity(0, &prev); err != nil {
		return fail(fmt.Errorf("affinity: reading the thread's CPU mask: %w", err))
	}
	want := toUnix(set)
	if err := unix.SchedSetaffinity(0, &want); err != nil {
		if errors.Is(err, unix.EINVAL) { // every CPU of set went away since Allowed
			return fail(fmt.Errorf("%w: pinning to %s: %w", ErrInvalidCPU, set, err))
		}
		return fail(fmt.Errorf("affinity: pinning to %s: %w", set, err))
	}
	got, err := ThreadAffinity() // the kernel's view: set less any CPU that went offline
	if err != nil {
		got = set
	}
	tid := unix.Gettid() // the locked goroutine, and only it, runs on this thread
	pins.push(tid, fromUnix(&prev), got)

	done := false
	return func() error {
		if done {
			return nil
		}
		if t := unix.Gettid(); t != tid {
			return fmt.Errorf("%w: pinned thread %d, called on %d", ErrWrongThread, tid, t)
		}
		if err := unix.SchedSetaffinity(0, &prev); err != nil {
			// Stay locked: unlocking would hand a pinned thread to the runtime.
			return fmt.Errorf("affinity: restoring the thread's CPU mask %s: %w", fromUnix(&prev), err)
		}
		done = true
		pins.pop(tid)
		runtime.UnlockOSThread()
		return nil
	}, nil
}

func toUnix(s CPUSet) unix.CPUSet {
	var m unix.CPUSet
	for c := range s.All() {
		m.Set(c)
	}
	return m
}

func fromUnix(m *unix.CPUSet) CPUSet {
	var s CPUSet
	for c := range MaxCPUs {
		if m.IsSet(c) {
			s.Add(c)
		}
	}
	return s
}
