//go:build linux && amd64 && !race && !weft_portable

package barrier

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	membarrierCmdQuery                    = 0
	membarrierCmdPrivateExpedited         = 1 << 3
	membarrierCmdRegisterPrivateExpedited = 1 << 4
)

// asymmetric is set once, before main, when membarrier is usable; it never
// changes afterwards, so every StoreRelease and Heavy agree on the scheme.
var asymmetric = registerMembarrier()

func registerMembarrier() bool {
	mask, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdQuery, 0, 0)
	if errno != 0 || mask&membarrierCmdPrivateExpedited == 0 {
		return false
	}
	_, _, errno = unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdRegisterPrivateExpedited, 0, 0)
	return errno == 0
}

// Asymmetric reports whether StoreRelease is a plain store and Heavy a
// process-wide barrier (true), or both are the portable forms (false).
func Asymmetric() bool { return asymmetric }

// StoreRelease stores v into *p with release semantics: every memory write
// that precedes it in program order is visible to a goroutine that loads v
// from *p with an atomic load.
//
// With the asymmetric scheme it is a plain MOV, which x86-TSO keeps in
// order after earlier stores and loads. The compiler keeps it there too: gc
// threads every store and load through one memory state in program order,
// never moves a store across another store or across the loads that
// precede it, and cannot drop it (nothing overwrites it before the next
// atomic operation). It is a data race in the Go memory model's terms; the
// race detector therefore builds the portable form, which it understands.
func StoreRelease(p *atomic.Uint64, v uint64) {
	if asymmetric {
		*(*uint64)(unsafe.Pointer(p)) = v
		return
	}
	p.Store(v)
}

// StoreReleaseInt64 is StoreRelease for a signed 64-bit word.
func StoreReleaseInt64(p *atomic.Int64, v int64) {
	if asymmetric {
		*(*int64)(unsafe.Pointer(p)) = v
		return
	}
	p.Store(v)
}

// StoreReleasePointer is StoreRelease for a pointer. The plain store goes
// through an unsafe.Pointer-typed location, so the compiler still emits
// the garbage collector's write barrier. (atomic.Pointer's only non-empty
// field is the pointer itself, at offset 0.)
func StoreReleasePointer[T any](p *atomic.Pointer[T], v *T) {
	if asymmetric {
		*(*unsafe.Pointer)(unsafe.Pointer(p)) = unsafe.Pointer(v)
		return
	}
	p.Store(v)
}

// StoreRelease32 is StoreRelease for a 32-bit word.
func StoreRelease32(p *atomic.Uint32, v uint32) {
	if asymmetric {
		*(*uint32)(unsafe.Pointer(p)) = v
		return
	}
	p.Store(v)
}

// Heavy makes every StoreRelease executed by any thread before the call
// visible, and orders every later load of those threads after the caller's
// preceding writes. It costs a system call when Asymmetric is true.
func Heavy() {
	if !asymmetric {
		return
	}
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0); errno != 0 {
		// The kernel fails this command only for a process that has not
		// registered, and registration succeeded at init. Going on would
		// risk lost wake-ups, silently.
		panic("weft: membarrier failed after registration: " + errno.Error())
	}
}
