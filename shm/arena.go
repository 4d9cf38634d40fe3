package shm

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Arena is a region of memory mapped outside the Go heap: the garbage
// collector never scans it and never moves it. A private arena (New) is
// anonymous memory of this process; a shared arena (Create, CreateMemfd,
// Open, OpenFile) is the same physical memory in every process that maps
// it, the SharedArrayBuffer of weft.
//
// An arena starts with a header (magic, layout version, sizes, the
// creator's pid, the allocator's pointer and root slots), then its data
// region, from which Alloc and NewPool carve blocks. Offsets given to and
// returned by the arena's methods count from the start of the mapping, so
// the same offset names the same bytes in every process.
//
// The methods of an Arena may be called from any goroutine. Close unmaps
// the memory: every slice, view and atomic word obtained from the arena is
// invalid afterwards, and touching one faults (the process crashes). Buffer,
// Pool and Ring methods check for Close and return ErrClosed; raw slices
// cannot be checked.
type Arena struct {
	mem  []byte  // the whole mapping; nil only in a zero Arena
	hdr  *header // the shared header at mem[0]
	file *os.File
	name string // for Create and Open; "" otherwise

	// Validated copies of the header's immutable fields: never re-read
	// from shared memory, so a peer that rewrites them changes nothing.
	size, dataOff, dataEnd int
	pid                    int

	closed atomic.Bool
}

// DefaultAlign is the alignment of blocks from Alloc and NewPool: two
// 64-byte cache lines, because adjacent-line prefetchers move lines in
// aligned pairs (see internal/pad), so blocks used by different cores never
// share a pair.
const DefaultAlign = 128

// Size returns the length of the mapping, header included.
func (a *Arena) Size() int { return a.size }

// Data returns the data region's bounds: offsets [lo, hi) are the bytes
// that blocks are allocated from.
func (a *Arena) Data() (lo, hi int) { return a.dataOff, a.dataEnd }

// CreatorPid returns the process id recorded by the arena's creator.
func (a *Arena) CreatorPid() int { return a.pid }

// Name returns the name a shared arena was created or opened with, or ""
// for a private arena or one reached through a file descriptor.
func (a *Arena) Name() string { return a.name }

// File returns the file behind a shared arena, or nil for a private one.
// Pass it to a child process (exec.Cmd.ExtraFiles) to share the arena
// without a name; the child calls OpenFile on it. The file stays owned by
// the arena: Close closes it.
func (a *Arena) File() *os.File { return a.file }

// Closed reports whether Close has been called.
func (a *Arena) Closed() bool { return a.closed.Load() }

// Close unmaps the arena and closes its file. The memory of a shared arena
// lives on while another process maps it, and a named one until Remove.
// Every slice, view and atomic word obtained from a is invalid afterwards.
// A second Close returns ErrClosed.
func (a *Arena) Close() error {
	if a.mem == nil || !a.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	err := unmap(a.mem)
	if a.file != nil {
		if cerr := a.file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("shm: close arena: %w", err)
	}
	return nil
}

// check returns ErrClosed (wrapped, naming op) once the arena is closed.
func (a *Arena) check(op string) error {
	if a.mem == nil || a.closed.Load() {
		return fmt.Errorf("%w: %s", ErrClosed, op)
	}
	return nil
}

// span validates that [off, off+n) lies within the data region and returns
// it. Every offset that arrives from outside the process (or the caller)
// passes through here before it is used.
func (a *Arena) span(off, n int) ([]byte, error) {
	if off < a.dataOff || n < 0 || off > a.dataEnd || n > a.dataEnd-off {
		return nil, fmt.Errorf("%w: [%d, +%d) outside the data region [%d, %d)",
			ErrOutOfRange, off, n, a.dataOff, a.dataEnd)
	}
	return a.mem[off : off+n : off+n], nil
}

// spanU is span for offsets read from shared memory as unsigned words.
func (a *Arena) spanU(off, n uint64) ([]byte, error) {
	if off > uint64(a.dataEnd) || n > uint64(a.dataEnd) {
		return nil, fmt.Errorf("%w: [%d, +%d) outside the data region [%d, %d)",
			ErrOutOfRange, off, n, a.dataOff, a.dataEnd)
	}
	return a.span(int(off), int(n))
}

// word returns a pointer to the width-byte word at off, checked for range
// and alignment.
func (a *Arena) word(off, width int, op string) (unsafe.Pointer, error) {
	if err := a.check(op); err != nil {
		return nil, err
	}
	b, err := a.span(off, width)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, op)
	}
	if off%width != 0 {
		return nil, fmt.Errorf("%w: %s at offset %d needs %d-byte alignment", ErrAlignment, op, off, width)
	}
	return unsafe.Pointer(&b[0]), nil
}

// Uint32 returns the 32-bit word at off as an atomic: its Load, Store,
// Add, Swap and CompareAndSwap are atomic with respect to every process
// that maps the arena. off must be 4-byte aligned and inside the data
// region. The pointer is invalid after Close.
func (a *Arena) Uint32(off int) (*atomic.Uint32, error) {
	p, err := a.word(off, 4, "Uint32")
	return (*atomic.Uint32)(p), err
}

// Uint64 returns the 64-bit word at off as an atomic, like Uint32. off
// must be 8-byte aligned.
func (a *Arena) Uint64(off int) (*atomic.Uint64, error) {
	p, err := a.word(off, 8, "Uint64")
	return (*atomic.Uint64)(p), err
}

// SetRoot stores off in root slot i (0 ≤ i < Roots), so that another
// process can find a structure without being told its offset: the creator
// of a ring calls SetRoot(0, r.Offset()) after NewRing, the other side
// Root(0). off must lie in the data region, or be 0 to clear the slot.
func (a *Arena) SetRoot(i, off int) error {
	if err := a.check("SetRoot"); err != nil {
		return err
	}
	if i < 0 || i >= Roots {
		return fmt.Errorf("%w: root slot %d (have %d)", ErrInvalid, i, Roots)
	}
	if off != 0 {
		if _, err := a.span(off, 0); err != nil {
			return err
		}
	}
	atomic.StoreUint64(&a.hdr.roots[i], uint64(off))
	return nil
}

// Root returns the offset in root slot i, validated to lie in the data
// region; 0 means the slot is empty.
func (a *Arena) Root(i int) (int, error) {
	if err := a.check("Root"); err != nil {
		return 0, err
	}
	if i < 0 || i >= Roots {
		return 0, fmt.Errorf("%w: root slot %d (have %d)", ErrInvalid, i, Roots)
	}
	v := atomic.LoadUint64(&a.hdr.roots[i])
	if v == 0 {
		return 0, nil
	}
	if _, err := a.spanU(v, 0); err != nil {
		return 0, fmt.Errorf("%w: root %d: %w", ErrCorrupt, i, err)
	}
	return int(v), nil
}

// adopt wraps a validated mapping in an Arena.
func adopt(mem []byte, h header, f *os.File, name string) *Arena {
	return &Arena{
		mem: mem, hdr: headerAt(mem), file: f, name: name,
		size: int(h.size), dataOff: int(h.dataOff), dataEnd: int(h.dataEnd), pid: int(h.pid),
	}
}

// mappingSize is the length of an arena with size bytes of data: one page
// for the header, then size rounded up to whole pages.
func mappingSize(size int) (int, error) {
	ps := os.Getpagesize()
	if size <= 0 || size > maxArenaSize-2*ps {
		return 0, fmt.Errorf("%w: arena size %d", ErrInvalid, size)
	}
	return ps + (size+ps-1)/ps*ps, nil
}

// checkName accepts names of one path element made of letters, digits,
// '.', '_' and '-', not starting with a dot: a name can never reach outside
// the shared-memory directory.
func checkName(name string) error {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return fmt.Errorf("%w: arena name %q", ErrInvalid, name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}); i >= 0 {
		return fmt.Errorf("%w: arena name %q has %q", ErrInvalid, name, name[i])
	}
	return nil
}
