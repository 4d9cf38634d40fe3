package shm

import (
	"fmt"
	"sync/atomic"
)

// Buffer is a handle on a block of arena memory, with the semantics of the
// guide's transferable and shared buffers:
//
//   - Share returns a second handle on the same memory, as posting a
//     SharedArrayBuffer does: writes through one are seen through the other.
//   - Transfer moves the memory to a new handle and detaches this one, as
//     transferring an ArrayBuffer does: the old handle's Len becomes 0 and
//     every later use of it returns ErrDetached.
//   - Release gives this handle up (it detaches too); when the last handle
//     on a Pool block is released, the block returns to its pool.
//
// A Buffer is passed to another process as its Offset and Len within a
// shared arena (Arena.Buffer, Pool.BufferAt on the other side).
//
// The handle's methods are safe for concurrent use, and exactly one of
// several racing Transfer or Release calls on one handle wins. They do not
// revoke slices already obtained: a slice from Bytes or View stays usable
// by whoever holds it, and is invalid once the arena is closed or (for a
// pool block) once the block is released and reused.
type Buffer struct {
	// blk is the memory; nil once detached. Transfer and Release swap it
	// to nil, which is what makes them exactly-once per handle.
	blk atomic.Pointer[block]
	// own is the block of the handle that allocated it, so that a new
	// block and its first handle are one allocation; handles made by Share
	// and Transfer point at the first handle's own.
	own block
}

// block is one piece of arena memory, shared by every handle on it.
type block struct {
	a      *Arena
	off, n int
	pool   *Pool  // the pool it returns to on the last Release; nil otherwise
	idx    uint32 // its index in pool
	refs   atomic.Int64
}

// newBuffer returns the first handle on a new block.
func newBuffer(a *Arena, off, n int, pool *Pool, idx uint32) *Buffer {
	h := &Buffer{own: block{a: a, off: off, n: n, pool: pool, idx: idx}}
	h.own.refs.Store(1)
	h.blk.Store(&h.own)
	return h
}

// get returns the handle's block, or an error if it is detached or its
// arena closed.
func (b *Buffer) get(op string) (*block, error) {
	blk := b.blk.Load()
	if blk == nil {
		return nil, fmt.Errorf("%w: %s", ErrDetached, op)
	}
	if err := blk.a.check(op); err != nil {
		return nil, err
	}
	return blk, nil
}

// Len returns the buffer's length in bytes: 0 once detached.
func (b *Buffer) Len() int {
	if blk := b.blk.Load(); blk != nil {
		return blk.n
	}
	return 0
}

// Detached reports whether Transfer or Release has detached the handle.
func (b *Buffer) Detached() bool { return b.blk.Load() == nil }

// Bytes returns the buffer's memory, without copying. The slice has the
// buffer's length and capacity; it is invalid after the arena's Close.
func (b *Buffer) Bytes() ([]byte, error) {
	blk, err := b.get("Bytes")
	if err != nil {
		return nil, err
	}
	return blk.a.mem[blk.off : blk.off+blk.n : blk.off+blk.n], nil
}

// Offset returns where the buffer starts in its arena: with Len, what
// another process needs to reach the same bytes.
func (b *Buffer) Offset() (int, error) {
	blk, err := b.get("Offset")
	if err != nil {
		return 0, err
	}
	return blk.off, nil
}

// Arena returns the arena the buffer lives in, or nil once detached.
func (b *Buffer) Arena() *Arena {
	if blk := b.blk.Load(); blk != nil {
		return blk.a
	}
	return nil
}

// Share returns a second handle on the same memory. Both stay attached;
// a pool block returns to its pool when every handle is released.
func (b *Buffer) Share() (*Buffer, error) {
	blk, err := b.get("Share")
	if err != nil {
		return nil, err
	}
	// Count the new handle unless the block's last handle is being
	// released right now (refs reached 0): then the block is gone.
	for r := blk.refs.Load(); ; r = blk.refs.Load() {
		if r <= 0 {
			return nil, fmt.Errorf("%w: Share", ErrDetached)
		}
		if blk.refs.CompareAndSwap(r, r+1) {
			break
		}
	}
	h := new(Buffer)
	h.blk.Store(blk)
	return h, nil
}

// Transfer moves the memory to a new handle and detaches b: b's Len is 0
// from now on and every other method returns ErrDetached.
func (b *Buffer) Transfer() (*Buffer, error) {
	blk := b.blk.Swap(nil)
	if blk == nil {
		return nil, fmt.Errorf("%w: Transfer", ErrDetached)
	}
	if err := blk.a.check("Transfer"); err != nil {
		b.blk.Store(blk) // nothing moved
		return nil, err
	}
	h := new(Buffer)
	h.blk.Store(blk)
	return h, nil
}

// Release detaches the handle. When it was the last handle on a Pool
// block, the block returns to its pool (ErrDoubleFree if the pool says it
// is already free: released through another handle adopted by offset).
func (b *Buffer) Release() error {
	blk := b.blk.Swap(nil)
	if blk == nil {
		return fmt.Errorf("%w: Release", ErrDetached)
	}
	if blk.refs.Add(-1) != 0 || blk.pool == nil {
		return nil
	}
	if err := blk.a.check("Release"); err != nil {
		return err
	}
	return blk.pool.put(blk.idx)
}
