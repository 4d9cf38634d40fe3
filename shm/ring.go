package shm

import (
	"fmt"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

const (
	ringMagic   = 0x474e_4952_5446_4557 // "WEFTRING"
	ringVersion = 1

	// MinRingCapacity and MaxRingCapacity bound a ring's data bytes.
	MinRingCapacity = 256
	MaxRingCapacity = 1 << 40

	flagWaiting uint32 = 1 << 0 // the side sleeps (or is about to) on its wake word
	flagClosed  uint32 = 1 << 1 // the side has closed; final
)

// ringHeader is a ring's control block, followed by its data. Each
// 128-byte line has one writer in steady state, named at the line.
//
// Positions (head, tail) count bytes from the ring's creation and never
// wrap (2^64 bytes is centuries at memory speed); a position's place in
// the data is pos & (capacity-1). Every position is a multiple of 8.
type ringHeader struct {
	// Immutable after NewRing; validated by OpenRing.
	magic    uint64 // ringMagic; stored last, atomically
	version  uint32
	_        uint32
	capacity uint64 // data bytes, a power of two
	dataOff  uint64 // arena offset of the data, right after this header
	crc      uint32 // CRC-32C of version through dataOff
	_        uint32
	_        [128 - 40]byte

	// The producer's line. tail is the first byte not yet published. The
	// producer stores it (an atomic, sequentially consistent store) after
	// writing a whole record: that store passes the record to the
	// consumer. The consumer loads it when its cached copy says empty.
	tail atomic.Uint64
	_    [128 - 8]byte

	// The consumer's line. head is the first byte not yet consumed. The
	// consumer stores it after it is done with a record: that store hands
	// the bytes back to the producer, who loads it when its cached copy
	// says full.
	head atomic.Uint64
	_    [128 - 8]byte

	// The consumer's state. consFlags is changed by the consumer (waiting,
	// closed) and by a producer that wakes it (clears waiting); the
	// producer loads it after every publication. consPid is the attached
	// consumer's process, set by compare-and-swap at attach. consWake is
	// the futex word the consumer sleeps on; a producer bumps it to wake.
	consFlags atomic.Uint32
	consPid   atomic.Uint32
	consWake  atomic.Uint32
	_         [128 - 12]byte

	// The producer's state, the mirror image: the consumer loads
	// prodFlags after every record it consumes.
	prodFlags atomic.Uint32
	prodPid   atomic.Uint32
	prodWake  atomic.Uint32
	_         [128 - 12]byte
}

const ringHeaderSize = int(unsafe.Sizeof(ringHeader{}))

func (h *ringHeader) checksum() uint32 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(h)), unsafe.Offsetof(h.crc))
	return crc32Castagnoli(b[unsafe.Offsetof(h.version):])
}

// Ring is a single-producer single-consumer queue of variable-length byte
// records that lives entirely inside an arena, so that two processes
// mapping a shared arena exchange records through memory alone: in steady
// state a record costs a copy and one atomic store on each side, no
// system call.
//
// One process attaches as the Producer, one as the Consumer (the same
// process may be both). The ring's memory is shared, hence untrusted: the
// consumer validates every record header (length, position, a check word
// tied to the record's position) and every index it reads, so a corrupt
// or hostile peer causes ErrCorrupt, never an out-of-bounds access.
//
// A side that waits (Reserve, Push, Peek, Pop) spins briefly, then sleeps
// on a futex until the other side wakes it; while it sleeps it checks every
// 10ms that its context has not ended and that the other side's
// process is alive (by the pid recorded when it attached: both processes
// must share a pid namespace, and a pid recycled by the system before the
// check hides the death until the new process exits). A peer that has not
// attached yet is waited for. The non-blocking forms (TryPush, TryPop, …)
// never check liveness: to them a dead peer looks idle.
//
// Records are length-prefixed and padded to 8 bytes, and never straddle
// the end of the data: a record that does not fit before the end is
// preceded by a wrap marker, and starts again at the beginning, so that
// every payload is one contiguous slice (which Reserve and Peek hand out
// without copying).
type Ring struct {
	a    *Arena
	off  int
	h    *ringHeader
	data []byte // capacity bytes of arena memory
	cap  uint64 // len(data), a power of two
	max  int    // MaxRecord
}

// NewRing lays out a ring with capacity bytes of record space (a power of
// two from MinRingCapacity to MaxRingCapacity) in a, and returns it. Pass
// its Offset to the other process (Arena.SetRoot is one way), which opens
// it with OpenRing.
func NewRing(a *Arena, capacity int) (*Ring, error) {
	if capacity < MinRingCapacity || capacity > MaxRingCapacity || capacity&(capacity-1) != 0 {
		return nil, fmt.Errorf("%w: ring capacity %d (a power of two from %d to %d)",
			ErrInvalid, capacity, MinRingCapacity, MaxRingCapacity)
	}
	off, err := a.alloc(ringHeaderSize+capacity, DefaultAlign)
	if err != nil {
		return nil, fmt.Errorf("%w (NewRing)", err)
	}
	h := (*ringHeader)(unsafe.Pointer(&a.mem[off]))
	*h = ringHeader{version: ringVersion, capacity: uint64(capacity), dataOff: uint64(off + ringHeaderSize)}
	h.crc = h.checksum()
	// Publishes the header (and the zeroed indices) to whoever loads
	// the magic.
	atomic.StoreUint64(&h.magic, ringMagic)
	return a.ringAt(off, h, capacity), nil
}

// OpenRing validates the ring header at off in a (from Ring.Offset in the
// process that created it) and returns the ring.
func OpenRing(a *Arena, off int) (*Ring, error) {
	if err := a.check("OpenRing"); err != nil {
		return nil, err
	}
	if off%DefaultAlign != 0 {
		return nil, fmt.Errorf("%w: ring at %d", ErrAlignment, off)
	}
	b, err := a.span(off, ringHeaderSize)
	if err != nil {
		return nil, err
	}
	shared := (*ringHeader)(unsafe.Pointer(&b[0]))
	if m := atomic.LoadUint64(&shared.magic); m != ringMagic {
		return nil, fmt.Errorf("%w: no ring at offset %d (magic %#x)", ErrCorrupt, off, m)
	}
	// A private copy of the immutable fields, checked once and then used
	// instead of the shared ones.
	h := struct {
		version  uint32
		capacity uint64
		dataOff  uint64
		crc      uint32
	}{shared.version, shared.capacity, shared.dataOff, shared.crc}
	check := ringHeader{version: h.version, capacity: h.capacity, dataOff: h.dataOff}
	switch {
	case h.version != ringVersion:
		return nil, fmt.Errorf("%w: ring layout %d, want %d", ErrVersion, h.version, ringVersion)
	case h.crc != check.checksum():
		return nil, fmt.Errorf("%w: ring header checksum mismatch at %d", ErrCorrupt, off)
	case h.capacity < MinRingCapacity || h.capacity > MaxRingCapacity || bits.OnesCount64(h.capacity) != 1:
		return nil, fmt.Errorf("%w: ring capacity %d", ErrCorrupt, h.capacity)
	case h.dataOff != uint64(off+ringHeaderSize):
		return nil, fmt.Errorf("%w: ring data at %d, want %d", ErrCorrupt, h.dataOff, off+ringHeaderSize)
	}
	if _, err := a.span(off+ringHeaderSize, int(h.capacity)); err != nil {
		return nil, fmt.Errorf("%w: ring at %d: %w", ErrCorrupt, off, err)
	}
	return a.ringAt(off, shared, int(h.capacity)), nil
}

func (a *Arena) ringAt(off int, h *ringHeader, capacity int) *Ring {
	d := off + ringHeaderSize
	return &Ring{a: a, off: off, h: h, data: a.mem[d : d+capacity : d+capacity],
		cap: uint64(capacity), max: capacity/2 - recordHeaderSize}
}

// Offset returns where the ring is in its arena.
func (r *Ring) Offset() int { return r.off }

// Cap returns the ring's record space in bytes. A record takes its length
// rounded up to 8, plus 8 bytes of header.
func (r *Ring) Cap() int { return int(r.cap) }

// MaxRecord returns the largest record the ring takes: half its capacity,
// less a header, so that a record always fits, wrap marker included, in an
// empty ring.
func (r *Ring) MaxRecord() int { return r.max }
