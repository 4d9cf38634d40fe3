package shm

import (
	"fmt"
	"sync/atomic"

	"github.com/weftlabs/weft/internal/park"
)

// Alloc allocates n bytes from the arena's data region, aligned to
// DefaultAlign, and returns a Buffer on them. The bytes are zero in a fresh
// arena. Allocation is a bump of the arena's shared pointer with a
// compare-and-swap: lock-free, usable from every process that maps the
// arena at once, and never reclaimed before the arena itself goes (use a
// Pool for blocks that come and go). A request that does not fit fails
// with ErrNoSpace.
func (a *Arena) Alloc(n int) (*Buffer, error) {
	return a.AllocAligned(n, DefaultAlign)
}

// AllocAligned is Alloc with an explicit alignment: a power of two from 1
// to 1 GiB. Offsets are aligned relative to the mapping, whose start is
// page-aligned, so an alignment up to the page size is also an alignment
// of the address.
func (a *Arena) AllocAligned(n, align int) (*Buffer, error) {
	off, err := a.alloc(n, align)
	if err != nil {
		return nil, err
	}
	return newBuffer(a, off, n, nil, 0), nil
}

// alloc bumps the shared pointer by n bytes aligned to align and returns
// the offset of the block.
func (a *Arena) alloc(n, align int) (int, error) {
	if err := a.check("Alloc"); err != nil {
		return 0, err
	}
	if n < 0 || align <= 0 || align&(align-1) != 0 || align > 1<<30 {
		return 0, fmt.Errorf("%w: allocation of %d bytes aligned to %d", ErrInvalid, n, align)
	}
	var b park.Backoff
	for {
		// The pointer is shared with other processes: check it before
		// computing with it.
		cur := atomic.LoadUint64(&a.hdr.next)
		if cur < uint64(a.dataOff) || cur > uint64(a.dataEnd) {
			return 0, fmt.Errorf("%w: allocation pointer %d outside the data region [%d, %d)",
				ErrCorrupt, cur, a.dataOff, a.dataEnd)
		}
		start := (int(cur) + align - 1) &^ (align - 1)
		if start > a.dataEnd || n > a.dataEnd-start {
			return 0, fmt.Errorf("%w: %d bytes aligned to %d; %d of %d left",
				ErrNoSpace, n, align, a.dataEnd-int(cur), a.dataEnd-a.dataOff)
		}
		// Success hands [start, start+n) to this caller alone: no other
		// compare-and-swap can succeed from the same cur.
		if atomic.CompareAndSwapUint64(&a.hdr.next, cur, uint64(start+n)) {
			return start, nil
		}
		b.Spin()
	}
}

// Used returns how many bytes of the data region have been allocated
// (alignment padding included), and how many remain.
func (a *Arena) Used() (used, free int) {
	if a.check("Used") != nil {
		return 0, 0
	}
	cur := atomic.LoadUint64(&a.hdr.next)
	if cur < uint64(a.dataOff) || cur > uint64(a.dataEnd) {
		return 0, 0
	}
	return int(cur) - a.dataOff, a.dataEnd - int(cur)
}

// Buffer returns a handle on the n bytes at off, which must lie inside the
// data region: the way a block allocated by another process arrives here,
// as an offset and a length. Releasing the handle detaches it and frees
// nothing (for blocks of a Pool use Pool.BufferAt).
func (a *Arena) Buffer(off, n int) (*Buffer, error) {
	if err := a.check("Buffer"); err != nil {
		return nil, err
	}
	if _, err := a.span(off, n); err != nil {
		return nil, err
	}
	return newBuffer(a, off, n, nil, 0), nil
}
