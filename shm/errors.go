package shm

import "errors"

var (
	// ErrUnsupported is returned (wrapped, naming the feature) where the
	// platform has no equivalent: memfd outside Linux, futex waits outside
	// Linux, transparent huge pages outside Linux, and every arena on a
	// platform without mmap.
	ErrUnsupported = errors.New("shm: not supported on this platform")

	// ErrInvalid is returned (wrapped, with the offending value) for an
	// argument that cannot work: a negative size, an alignment that is not
	// a power of two, a name with a slash in it.
	ErrInvalid = errors.New("shm: invalid argument")

	// ErrRefused is returned (wrapped together with the system's error) when
	// the system refuses one of the Options: populating the arena up front,
	// transparent huge pages, or locking it in memory.
	ErrRefused = errors.New("shm: refused by the system")

	// ErrCorrupt is returned when memory shared with another process does
	// not hold what it must: an arena header, a pool or ring header, an
	// allocator pointer or a record header that fails validation. Memory
	// shared with another process is untrusted; nothing in it is used
	// before it is checked.
	ErrCorrupt = errors.New("shm: corrupt shared memory")

	// ErrVersion is returned by Open when the arena was laid out by an
	// incompatible version of this package (another major layout version).
	ErrVersion = errors.New("shm: incompatible layout version")

	// ErrClosed is returned by operations on a closed arena (and on buffers
	// and rings inside it), and by a ring whose other side has closed.
	ErrClosed = errors.New("shm: closed")

	// ErrDetached is returned by every use of a Buffer handle after
	// Transfer moved its memory to a new handle, or after Release.
	ErrDetached = errors.New("shm: buffer detached")

	// ErrOutOfRange is returned (wrapped, with the offset and length) for
	// an offset or length that falls outside the arena's data region or a
	// buffer.
	ErrOutOfRange = errors.New("shm: offset out of range")

	// ErrAlignment is returned (wrapped) when an offset or a length is not
	// a multiple of what the access needs: a typed view's element size, an
	// atomic word's width, a pool block's start.
	ErrAlignment = errors.New("shm: misaligned")

	// ErrNoSpace is returned when an allocation does not fit in what is
	// left of the arena, or a pool has no free block.
	ErrNoSpace = errors.New("shm: out of space")

	// ErrDoubleFree is returned by Release of a pool block that is already
	// free (released twice, through two handles adopted by offset).
	ErrDoubleFree = errors.New("shm: block released twice")

	// ErrBusy is returned when a ring already has a live producer (or
	// consumer) attached.
	ErrBusy = errors.New("shm: ring side already attached")

	// ErrFull is returned by a non-blocking push when the ring has no room
	// for the record.
	ErrFull = errors.New("shm: ring full")

	// ErrEmpty is returned by a non-blocking pop when the ring holds no
	// record.
	ErrEmpty = errors.New("shm: ring empty")

	// ErrTooLarge is returned by a push of a record larger than the ring's
	// MaxRecord.
	ErrTooLarge = errors.New("shm: record too large")

	// ErrPeerDead is returned by a ring operation that waits for the other
	// side when that side's process has exited without closing. Every
	// record it committed before dying has been delivered first; a record
	// it was writing when it died is never seen.
	ErrPeerDead = errors.New("shm: peer process died")
)
