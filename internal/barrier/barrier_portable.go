//go:build !linux || !amd64 || race || weft_portable

package barrier

import "sync/atomic"

// Asymmetric reports whether StoreRelease is a plain store and Heavy a
// process-wide barrier (true), or both are the portable forms (false).
func Asymmetric() bool { return false }

// StoreRelease stores v into *p with (at least) release semantics: here a
// sequentially consistent atomic store.
func StoreRelease(p *atomic.Uint64, v uint64) { p.Store(v) }

// StoreReleaseInt64 is StoreRelease for a signed 64-bit word.
func StoreReleaseInt64(p *atomic.Int64, v int64) { p.Store(v) }

// StoreReleasePointer is StoreRelease for a pointer.
func StoreReleasePointer[T any](p *atomic.Pointer[T], v *T) { p.Store(v) }

// StoreRelease32 is StoreRelease for a 32-bit word.
func StoreRelease32(p *atomic.Uint32, v uint32) { p.Store(v) }

// Heavy does nothing: every StoreRelease is already sequentially consistent.
func Heavy() {}
