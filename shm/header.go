package shm

import (
	"fmt"
	"hash/crc32"
	"sync/atomic"
	"unsafe"
)

// The arena layout version. A reader accepts an arena whose major version
// equals its own; minor versions only add fields in reserved space.
const (
	layoutMajor = 1
	layoutMinor = 0

	arenaMagic = 0x314d_4853_5446_4557 // "WEFTSHM1", little-endian
	// maxArenaSize bounds the mapping length accepted from a file, so that
	// a hostile size cannot overflow the offset arithmetic.
	maxArenaSize = 1 << 46
	// Roots is the number of root slots in an arena header.
	Roots = 16
)

// header is the first bytes of every arena, private or shared. The
// creator fills every field, then stores magic last (an atomic store, which
// publishes the rest); Open loads magic first and validates a private copy
// of the fields before using any of them. Only next and roots change after
// creation, and only through atomic operations; their values are checked
// every time they are read.
type header struct {
	magic   uint64 // arenaMagic; written last by the creator, atomically
	version uint32 // layoutMajor<<16 | layoutMinor
	hdrSize uint32 // unsafe.Sizeof(header{})
	size    uint64 // length of the mapping (the file), a multiple of the page size
	dataOff uint64 // first byte of the data region (one page in)
	dataEnd uint64 // end of the data region; equals size
	pid     uint32 // the creator's process id
	flags   uint32 // reserved, zero
	crc     uint32 // CRC-32C of the bytes from version up to crc
	_       uint32
	_       [128 - 56]byte

	// next is the bump allocator's pointer: the first byte not yet
	// allocated. Any process may advance it, with a compare-and-swap; it
	// never goes back. Alone on its line: allocators contend on it.
	next uint64
	_    [128 - 8]byte

	// roots are slots for the offsets of structures that another process
	// must find (a ring, a pool): written with atomic stores by whoever
	// publishes the structure, after the structure is complete.
	roots [Roots]uint64
}

const headerSize = unsafe.Sizeof(header{})

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32Castagnoli(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// checksum is the CRC of h's immutable fields after magic.
func (h *header) checksum() uint32 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(h)), unsafe.Offsetof(h.crc))
	return crc32Castagnoli(b[unsafe.Offsetof(h.version):])
}

// initHeader writes a fresh header for a mapping of size bytes whose data
// region starts at dataOff, publishing it by storing the magic last.
func initHeader(h *header, size, dataOff int, pid int) {
	*h = header{
		version: layoutMajor<<16 | layoutMinor,
		hdrSize: uint32(headerSize),
		size:    uint64(size),
		dataOff: uint64(dataOff),
		dataEnd: uint64(size),
		pid:     uint32(pid),
		next:    uint64(dataOff),
	}
	h.crc = h.checksum()
	// The release: everything above is visible to a process that loads
	// the magic with an atomic load and sees arenaMagic.
	atomic.StoreUint64(&h.magic, arenaMagic)
}

// validateHeader checks the header at the start of a mapping of length
// mapped and returns a private copy of it. Nothing in the shared header is
// trusted before this returns nil; afterwards only the copy's immutable
// fields are used, so a peer that rewrites them later changes nothing.
func validateHeader(mem []byte, pageSize int) (header, error) {
	if len(mem) < int(headerSize) {
		return header{}, fmt.Errorf("%w: %d bytes is too short for an arena header", ErrCorrupt, len(mem))
	}
	shared := headerAt(mem)
	if m := atomic.LoadUint64(&shared.magic); m != arenaMagic {
		return header{}, fmt.Errorf("%w: bad magic %#x (not an arena, or its creator has not finished)", ErrCorrupt, m)
	}
	h := *shared // the copy; every check below is on it
	h.magic = arenaMagic
	if major := h.version >> 16; major != layoutMajor {
		return header{}, fmt.Errorf("%w: layout %d.%d, this package reads %d.x",
			ErrVersion, major, h.version&0xffff, layoutMajor)
	}
	if h.crc != h.checksum() {
		return header{}, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	switch {
	case h.hdrSize != uint32(headerSize):
		return header{}, fmt.Errorf("%w: header size %d, want %d", ErrCorrupt, h.hdrSize, headerSize)
	case h.size != uint64(len(mem)):
		return header{}, fmt.Errorf("%w: header says %d bytes, the file has %d", ErrCorrupt, h.size, len(mem))
	case h.dataOff < uint64(headerSize) || h.dataOff%uint64(pageSize) != 0 || h.dataOff > h.size:
		return header{}, fmt.Errorf("%w: data offset %d", ErrCorrupt, h.dataOff)
	case h.dataEnd != h.size:
		return header{}, fmt.Errorf("%w: data end %d in a %d-byte arena", ErrCorrupt, h.dataEnd, h.size)
	case h.pid == 0:
		return header{}, fmt.Errorf("%w: creator pid 0", ErrCorrupt)
	case h.flags != 0:
		return header{}, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, h.flags)
	}
	return h, nil
}

// headerAt returns the header at the start of mem.
func headerAt(mem []byte) *header { return (*header)(unsafe.Pointer(&mem[0])) }
