package shm

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/weftlabs/weft/internal/park"
)

const (
	poolMagic   = 0x4c4f_4f50_5446_4557 // "WEFTPOOL"
	poolVersion = 1

	blockFree uint32 = 0
	blockUsed uint32 = 1
)

// poolHeader starts a pool's region in the arena, followed by the links,
// the states and the blocks, each 128-byte aligned:
//
//	header | links [count]uint32 | states [count]uint32 | blocks [count][stride]byte
//
// The free list is a Treiber stack threaded through links, not through the
// blocks, so that what a user writes into a free block can never corrupt
// it. Its head is a tagged word, tag<<32 | (index+1) (index+1 = 0: empty):
// every successful compare-and-swap bumps the tag, so a pop that read head
// and then the link of its top block fails if the block was popped and
// pushed back in between (the ABA problem), instead of installing a stale
// link. The tag wraps after 2^32 operations between one pop's two reads,
// which no process lives to see.
type poolHeader struct {
	magic     uint64 // poolMagic; stored last, atomically
	version   uint32
	count     uint32 // blocks
	blockSize uint64 // bytes per block as the user sees it
	blocksOff uint64 // arena offset of block 0
	crc       uint32 // CRC-32C of version through blocksOff
	_         uint32
	_         [128 - 40]byte

	// head is the free list's tagged top. Any process may change it, by
	// compare-and-swap only.
	head uint64
	_    [128 - 8]byte
}

const poolHeaderSize = int(unsafe.Sizeof(poolHeader{}))

// Pool is a lock-free free list of fixed-size blocks inside an arena, for
// message buffers that come and go: Get and Release (or GetOffset and
// PutOffset) cost a compare-and-swap each, from any goroutine of any
// process that maps the arena. Blocks are DefaultAlign-aligned. A block is
// handed out exactly once until it is put back; putting back a free block
// is ErrDoubleFree.
type Pool struct {
	a      *Arena
	off    int      // the pool header's offset
	head   *uint64  // in the shared header
	links  []uint32 // next index+1 of each free block; shared, untrusted
	states []uint32 // blockFree / blockUsed; shared
	base   int      // offset of block 0
	size   int      // block length
	stride int      // distance between blocks
	count  int
}

// poolGeom is a pool region's layout, in offsets from the pool header.
type poolGeom struct {
	links, states, blocks int // where each part starts
	stride, total         int // distance between blocks; the region's length
}

// poolLayout computes the pool region for count blocks of size bytes.
func poolLayout(size, count int) (poolGeom, error) {
	if size <= 0 || count <= 0 || count >= 1<<31 || size > maxArenaSize {
		return poolGeom{}, fmt.Errorf("%w: pool of %d blocks of %d bytes", ErrInvalid, count, size)
	}
	up := func(n int) int { return (n + DefaultAlign - 1) &^ (DefaultAlign - 1) }
	g := poolGeom{stride: up(size), links: poolHeaderSize}
	g.states = g.links + up(4*count)
	g.blocks = g.states + up(4*count)
	if count > (maxArenaSize-g.blocks)/g.stride {
		return poolGeom{}, fmt.Errorf("%w: pool of %d blocks of %d bytes", ErrNoSpace, count, size)
	}
	g.total = g.blocks + count*g.stride
	return g, nil
}

// NewPool carves a pool of count blocks of size bytes out of the arena,
// all free. Its Offset lets another process open it (OpenPool).
func (a *Arena) NewPool(size, count int) (*Pool, error) {
	g, err := poolLayout(size, count)
	if err != nil {
		return nil, err
	}
	off, err := a.alloc(g.total, DefaultAlign)
	if err != nil {
		return nil, fmt.Errorf("%w (NewPool)", err)
	}
	p := a.poolAt(off, size, count)
	for i := range p.links {
		p.links[i] = uint32(i + 2) // block i's successor is i+1
		p.states[i] = blockFree
	}
	p.links[count-1] = 0
	h := (*poolHeader)(unsafe.Pointer(&a.mem[off]))
	*h = poolHeader{version: poolVersion, count: uint32(count), blockSize: uint64(size),
		blocksOff: uint64(off + g.blocks), head: 1}
	h.crc = h.checksum()
	// Publishes the links, the states and the header to whoever loads
	// the magic.
	atomic.StoreUint64(&h.magic, poolMagic)
	return p, nil
}

func (h *poolHeader) checksum() uint32 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(h)), unsafe.Offsetof(h.crc))
	return crc32Castagnoli(b[unsafe.Offsetof(h.version):])
}

// OpenPool validates the pool header at off (from Pool.Offset in another
// process) and returns the pool. Everything it reads is checked: the
// header, the layout against the arena, and later every link it follows.
func (a *Arena) OpenPool(off int) (*Pool, error) {
	if err := a.check("OpenPool"); err != nil {
		return nil, err
	}
	if off%DefaultAlign != 0 {
		return nil, fmt.Errorf("%w: pool at %d", ErrAlignment, off)
	}
	b, err := a.span(off, poolHeaderSize)
	if err != nil {
		return nil, err
	}
	shared := (*poolHeader)(unsafe.Pointer(&b[0]))
	if m := atomic.LoadUint64(&shared.magic); m != poolMagic {
		return nil, fmt.Errorf("%w: no pool at offset %d (magic %#x)", ErrCorrupt, off, m)
	}
	h := *shared
	if h.version != poolVersion {
		return nil, fmt.Errorf("%w: pool layout %d, want %d", ErrVersion, h.version, poolVersion)
	}
	if h.crc != h.checksum() {
		return nil, fmt.Errorf("%w: pool header checksum mismatch at %d", ErrCorrupt, off)
	}
	if h.blockSize > maxArenaSize {
		return nil, fmt.Errorf("%w: pool block size %d", ErrCorrupt, h.blockSize)
	}
	g, err := poolLayout(int(h.blockSize), int(h.count))
	if err != nil {
		return nil, fmt.Errorf("%w: pool at %d: %w", ErrCorrupt, off, err)
	}
	if h.blocksOff != uint64(off+g.blocks) {
		return nil, fmt.Errorf("%w: pool blocks at %d, want %d", ErrCorrupt, h.blocksOff, off+g.blocks)
	}
	if _, err := a.span(off, g.total); err != nil {
		return nil, fmt.Errorf("%w: pool at %d: %w", ErrCorrupt, off, err)
	}
	return a.poolAt(off, int(h.blockSize), int(h.count)), nil
}

// poolAt maps the Go view of a pool whose layout has been checked.
func (a *Arena) poolAt(off, size, count int) *Pool {
	g, _ := poolLayout(size, count)
	h := (*poolHeader)(unsafe.Pointer(&a.mem[off]))
	return &Pool{
		a: a, off: off, head: &h.head,
		links:  unsafe.Slice((*uint32)(unsafe.Pointer(&a.mem[off+g.links])), count),
		states: unsafe.Slice((*uint32)(unsafe.Pointer(&a.mem[off+g.states])), count),
		base:   off + g.blocks, size: size, stride: g.stride, count: count,
	}
}

// Offset returns where the pool's header is in the arena.
func (p *Pool) Offset() int { return p.off }

// BlockSize returns the length of every block.
func (p *Pool) BlockSize() int { return p.size }

// Cap returns the number of blocks.
func (p *Pool) Cap() int { return p.count }

// Get takes a free block and returns the first handle on it; the block
// goes back to the pool when its last handle is released. An empty pool
// is ErrNoSpace.
func (p *Pool) Get() (*Buffer, error) {
	off, err := p.GetOffset()
	if err != nil {
		return nil, err
	}
	return newBuffer(p.a, off, p.size, p, uint32((off-p.base)/p.stride)), nil
}

// GetOffset takes a free block and returns its offset, without making a
// handle: nothing is allocated. Put it back with PutOffset.
func (p *Pool) GetOffset() (int, error) {
	if err := p.a.check("Pool.Get"); err != nil {
		return 0, err
	}
	var b park.Backoff
	for {
		h := atomic.LoadUint64(p.head)
		top := uint32(h)
		if top == 0 {
			return 0, fmt.Errorf("%w: all %d pool blocks in use", ErrNoSpace, p.count)
		}
		if top > uint32(p.count) {
			return 0, fmt.Errorf("%w: pool head %d of %d blocks", ErrCorrupt, top, p.count)
		}
		// The link may be stale (another popper took top and it was
		// pushed back with a new successor); then the tag in head has
		// moved and the compare-and-swap below fails.
		next := atomic.LoadUint32(&p.links[top-1])
		if next > uint32(p.count) {
			return 0, fmt.Errorf("%w: pool link %d of %d blocks", ErrCorrupt, next, p.count)
		}
		if atomic.CompareAndSwapUint64(p.head, h, (h>>32+1)<<32|uint64(next)) {
			// top is ours alone now.
			idx := top - 1
			if !atomic.CompareAndSwapUint32(&p.states[idx], blockFree, blockUsed) {
				return 0, fmt.Errorf("%w: pool block %d was on the free list while in use", ErrCorrupt, idx)
			}
			return p.base + int(idx)*p.stride, nil
		}
		b.Spin()
	}
}

// PutOffset returns the block at off to the pool. off must be a block's
// start (ErrOutOfRange, ErrAlignment otherwise) and the block in use
// (ErrDoubleFree otherwise).
func (p *Pool) PutOffset(off int) error {
	if err := p.a.check("Pool.Put"); err != nil {
		return err
	}
	idx, err := p.index(off)
	if err != nil {
		return err
	}
	return p.put(idx)
}

// BufferAt returns a handle on the block at off, taken with Get or
// GetOffset in this or another process; releasing its last handle returns
// the block to the pool.
func (p *Pool) BufferAt(off int) (*Buffer, error) {
	if err := p.a.check("Pool.BufferAt"); err != nil {
		return nil, err
	}
	idx, err := p.index(off)
	if err != nil {
		return nil, err
	}
	return newBuffer(p.a, off, p.size, p, idx), nil
}

func (p *Pool) index(off int) (uint32, error) {
	if off < p.base || off >= p.base+p.count*p.stride {
		return 0, fmt.Errorf("%w: pool block at %d: blocks are [%d, %d)",
			ErrOutOfRange, off, p.base, p.base+p.count*p.stride)
	}
	if (off-p.base)%p.stride != 0 {
		return 0, fmt.Errorf("%w: pool block at %d: blocks start every %d bytes from %d",
			ErrAlignment, off, p.stride, p.base)
	}
	return uint32((off - p.base) / p.stride), nil
}

// put pushes block idx on the free list.
func (p *Pool) put(idx uint32) error {
	// The state change is the exactly-once gate: of two releases of one
	// block, one fails here, before touching the list.
	if !atomic.CompareAndSwapUint32(&p.states[idx], blockUsed, blockFree) {
		return fmt.Errorf("%w: pool block %d", ErrDoubleFree, idx)
	}
	var b park.Backoff
	for {
		h := atomic.LoadUint64(p.head)
		// Only this goroutine writes idx's link until the push below
		// publishes it (the compare-and-swap is the release).
		atomic.StoreUint32(&p.links[idx], uint32(h))
		if atomic.CompareAndSwapUint64(p.head, h, (h>>32+1)<<32|uint64(idx+1)) {
			return nil
		}
		b.Spin()
	}
}
