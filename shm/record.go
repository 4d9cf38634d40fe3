package shm

import (
	"fmt"
	"unsafe"
)

// A record in the ring's data is a header of two 32-bit words, then the
// payload, padded to a multiple of 8 bytes:
//
//	word 0: the payload length, or wrapMarker
//	word 1: word 0 ^ the record's position/8 ^ recordKey
//
// The check word ties a header to the position it was written for, so a
// stale header left from an earlier lap, or bytes that were never a
// header, fail validation. A wrap marker says the rest of the data up to
// its end is padding, and the next record starts at the beginning.
const (
	recordHeaderSize = 8
	wrapMarker       = ^uint32(0)
	recordKey        = 0x9e37_79b9
)

func recordCheck(w0 uint32, pos uint64) uint32 {
	return w0 ^ uint32(pos>>3) ^ recordKey
}

// recordSize is the space a record of n payload bytes takes.
func recordSize(n int) uint64 {
	return recordHeaderSize + uint64(n+7)&^7
}

// putHeader writes a record header at data[off:] for position pos.
func putHeader(data []byte, off uint64, w0 uint32, pos uint64) {
	_ = data[off+7]
	*(*uint64)(unsafe.Pointer(&data[off])) = uint64(w0) | uint64(recordCheck(w0, pos))<<32
}

// readRecord validates the record at position head, given that the
// producer has published up to tail, and returns where its payload is and
// how far head moves past it (a wrap marker before it included). Every
// value comes from untrusted memory and is checked before use: the header
// is read once into registers, then judged.
func (r *Ring) readRecord(head, tail uint64) (off uint64, n int, advance uint64, err error) {
	pos := head
	for {
		avail := tail - pos
		if avail == 0 {
			// Only a wrap marker was published: nothing to read yet.
			return 0, 0, pos - head, ErrEmpty
		}
		off = pos & (r.cap - 1)
		if avail < recordHeaderSize || avail > r.cap {
			return 0, 0, 0, fmt.Errorf("%w: ring holds %d bytes at position %d", ErrCorrupt, avail, pos)
		}
		hw := *(*uint64)(unsafe.Pointer(&r.data[off]))
		w0, w1 := uint32(hw), uint32(hw>>32)
		if w1 != recordCheck(w0, pos) {
			return 0, 0, 0, fmt.Errorf("%w: bad record header %#016x at position %d", ErrCorrupt, hw, pos)
		}
		if w0 == wrapMarker {
			pad := r.cap - off
			if pad > avail {
				return 0, 0, 0, fmt.Errorf("%w: wrap marker at position %d skips %d of %d published bytes",
					ErrCorrupt, pos, pad, avail)
			}
			pos += pad
			continue
		}
		if int64(w0) > int64(r.max) {
			return 0, 0, 0, fmt.Errorf("%w: record of %d bytes at position %d (max %d)", ErrCorrupt, w0, pos, r.max)
		}
		size := recordSize(int(w0))
		if size > avail || off+size > r.cap {
			return 0, 0, 0, fmt.Errorf("%w: record of %d bytes at position %d overruns the published data",
				ErrCorrupt, w0, pos)
		}
		return off + recordHeaderSize, int(w0), pos + size - head, nil
	}
}
