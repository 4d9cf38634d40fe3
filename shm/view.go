package shm

import (
	"fmt"
	"unsafe"
)

// Number is the set of fixed-size numeric types a typed view can hold:
// the same size and layout in every process on the machine. (int, uint
// and uintptr are left out: their size depends on the process.)
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 |
		~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// View returns the buffer's memory as a []T, without copying: the
// Float64Array of the guide over arena memory, which the garbage collector
// never scans. The buffer must start at an address aligned for T and its
// length be a whole number of T's (ErrAlignment otherwise); blocks from
// Alloc and Pool always start aligned.
//
// The slice aliases the arena: writes through it are seen by every handle
// and every process sharing the memory. Like the slice from Bytes, it is
// not revoked by Transfer or Release, and is invalid after the arena's
// Close.
func View[T Number](b *Buffer) ([]T, error) {
	mem, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return viewOf[T](mem)
}

func viewOf[T Number](mem []byte) ([]T, error) {
	var zero T
	size, align := int(unsafe.Sizeof(zero)), uintptr(unsafe.Alignof(zero))
	if len(mem) == 0 {
		return []T{}, nil
	}
	if p := uintptr(unsafe.Pointer(&mem[0])); p%align != 0 {
		return nil, fmt.Errorf("%w: view as %T: address %#x is not a multiple of %d", ErrAlignment, zero, p, align)
	}
	if len(mem)%size != 0 {
		return nil, fmt.Errorf("%w: view as %T: %d bytes is not a multiple of %d", ErrAlignment, zero, len(mem), size)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[0])), len(mem)/size), nil
}
