package shm

import (
	"slices"
	"sync"
	"testing"
	"unsafe"
)

func TestPoolGetRelease(t *testing.T) {
	a := newArena(t, 1<<16)
	p, err := a.NewPool(100, 8)
	must(t, "NewPool", err)
	if p.BlockSize() != 100 || p.Cap() != 8 {
		t.Fatalf("BlockSize %d Cap %d", p.BlockSize(), p.Cap())
	}
	var bufs []*Buffer
	var spans []span
	for range 8 {
		b, err := p.Get()
		must(t, "Get", err)
		off, _ := b.Offset()
		if off%DefaultAlign != 0 || b.Len() != 100 {
			t.Fatalf("block at %d len %d", off, b.Len())
		}
		bufs = append(bufs, b)
		spans = append(spans, span{off, 100})
	}
	checkDisjoint(t, a, slices.Clone(spans))
	_, err = p.Get()
	wantErr(t, "Get from an empty pool", err, ErrNoSpace)
	_, err = p.GetOffset()
	wantErr(t, "GetOffset from an empty pool", err, ErrNoSpace)

	// A shared block returns only when its last handle goes.
	s, err := bufs[0].Share()
	must(t, "Share", err)
	must(t, "Release", bufs[0].Release())
	_, err = p.Get()
	wantErr(t, "Get while a share is live", err, ErrNoSpace)
	must(t, "Release share", s.Release())
	b, err := p.Get()
	must(t, "Get after the last release", err)
	if off, _ := b.Offset(); off != spans[0].off {
		t.Fatalf("got block %d, want the released %d", off, spans[0].off)
	}
	// A transferred block returns through its new handle.
	n, err := bufs[1].Transfer()
	must(t, "Transfer", err)
	wantErr(t, "Release of the detached handle", bufs[1].Release(), ErrDetached)
	must(t, "Release of the new handle", n.Release())
	if _, err := p.Get(); err != nil {
		t.Fatalf("transferred block did not return: %v", err)
	}
}

func TestPoolOffsets(t *testing.T) {
	a := newArena(t, 1<<16)
	p, err := a.NewPool(64, 4)
	must(t, "NewPool", err)
	off, err := p.GetOffset()
	must(t, "GetOffset", err)
	// Another process adopts the block by offset and releases it.
	b, err := p.BufferAt(off)
	must(t, "BufferAt", err)
	if b.Len() != 64 {
		t.Fatalf("adopted Len %d", b.Len())
	}
	must(t, "Release adopted", b.Release())
	wantErr(t, "PutOffset of a free block", p.PutOffset(off), ErrDoubleFree)

	off, err = p.GetOffset()
	must(t, "GetOffset", err)
	b1, _ := p.BufferAt(off)
	b2, _ := p.BufferAt(off)
	must(t, "first release", b1.Release())
	wantErr(t, "second release through another adoption", b2.Release(), ErrDoubleFree)

	for _, bad := range []int{p.base - DefaultAlign, p.base + 4*p.stride, 0} {
		wantErr(t, "PutOffset out of range", p.PutOffset(bad), ErrOutOfRange)
		_, err := p.BufferAt(bad)
		wantErr(t, "BufferAt out of range", err, ErrOutOfRange)
	}
	wantErr(t, "PutOffset misaligned", p.PutOffset(p.base+8), ErrAlignment)
	_, err = p.BufferAt(p.base + 8)
	wantErr(t, "BufferAt misaligned", err, ErrAlignment)
}

func TestPoolAllocatesNothing(t *testing.T) {
	a := newArena(t, 1<<16)
	p, err := a.NewPool(64, 4)
	must(t, "NewPool", err)
	allocs := testing.AllocsPerRun(1000, func() {
		off, err := p.GetOffset()
		if err != nil {
			panic(err)
		}
		if err := p.PutOffset(off); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per GetOffset+PutOffset", allocs)
	}
}

func TestPoolBadArguments(t *testing.T) {
	a := newArena(t, 1<<16)
	for _, c := range []struct{ size, count int }{{0, 1}, {-1, 1}, {8, 0}, {8, -1}, {8, 1 << 31}} {
		_, err := a.NewPool(c.size, c.count)
		wantErr(t, "NewPool", err, ErrInvalid)
	}
	_, err := a.NewPool(1024, 1024)
	wantErr(t, "NewPool larger than the arena", err, ErrNoSpace)
}

func TestOpenPool(t *testing.T) {
	a := newArena(t, 1<<16)
	p, err := a.NewPool(64, 4)
	must(t, "NewPool", err)
	q, err := a.OpenPool(p.Offset())
	must(t, "OpenPool", err)
	off, err := q.GetOffset()
	must(t, "GetOffset through the second view", err)
	must(t, "PutOffset through the first", p.PutOffset(off))

	_, err = a.OpenPool(p.Offset() + 8)
	wantErr(t, "OpenPool misaligned", err, ErrAlignment)
	_, err = a.OpenPool(p.Offset() + DefaultAlign)
	wantErr(t, "OpenPool where there is none", err, ErrCorrupt)
	_, err = a.OpenPool(0)
	wantErr(t, "OpenPool in the header", err, ErrOutOfRange)

	h := (*poolHeader)(unsafe.Pointer(&a.mem[p.Offset()]))
	saved := *h
	edits := []struct {
		name   string
		target error
		edit   func()
	}{
		{"version", ErrVersion, func() { h.version = 9 }},
		{"crc", ErrCorrupt, func() { h.count = 5 }},
		{"count", ErrCorrupt, func() { h.count = 0; h.crc = h.checksum() }},
		{"huge block", ErrCorrupt, func() { h.blockSize = 1 << 62; h.crc = h.checksum() }},
		{"blocks offset", ErrCorrupt, func() { h.blocksOff += 128; h.crc = h.checksum() }},
		{"past the arena", ErrCorrupt, func() { h.count = 1 << 20; h.blocksOff = saved.blocksOff; h.crc = h.checksum() }},
	}
	for _, e := range edits {
		*h = saved
		e.edit()
		_, err := a.OpenPool(p.Offset())
		wantErr(t, "OpenPool with a bad "+e.name, err, e.target)
	}
	*h = saved
}

func TestPoolCorruptList(t *testing.T) {
	a := newArena(t, 1<<16)
	p, err := a.NewPool(64, 4)
	must(t, "NewPool", err)
	*p.head = 9 // index 8 of 4 blocks
	_, err = p.GetOffset()
	wantErr(t, "Get with a corrupt head", err, ErrCorrupt)
	*p.head = 1
	p.links[0] = 77
	_, err = p.GetOffset()
	wantErr(t, "Get with a corrupt link", err, ErrCorrupt)
	p.links[0] = 2
	p.states[0] = blockUsed
	_, err = p.GetOffset()
	wantErr(t, "Get of a block marked in use", err, ErrCorrupt)
}

// Goroutines take and return blocks as fast as they can (as processes
// passing message buffers would): no block is ever held by two at once,
// and at the end every block is free exactly once.
func TestStressPoolExactlyOnce(t *testing.T) {
	const blocks, goroutines = 16, 4
	a := newArena(t, 1<<16)
	p, err := a.NewPool(8, blocks)
	must(t, "NewPool", err)
	rounds := scaled(100000)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var held []int
			for i := range rounds {
				if len(held) < 3 && (i+g)%3 != 0 {
					off, err := p.GetOffset()
					if err != nil {
						continue // all taken: legal, retry later
					}
					// Owner's mark: if anyone else holds this block
					// too, it will see a foreign mark.
					w := (*uint64)(unsafe.Pointer(&a.mem[off]))
					if *w != 0 {
						t.Errorf("block %d handed out while held (mark %d)", off, *w)
						return
					}
					*w = uint64(g + 1)
					held = append(held, off)
					continue
				}
				if len(held) > 0 {
					off := held[0]
					held = held[1:]
					w := (*uint64)(unsafe.Pointer(&a.mem[off]))
					if *w != uint64(g+1) {
						t.Errorf("block %d changed hands while held", off)
						return
					}
					*w = 0
					if err := p.PutOffset(off); err != nil {
						t.Error(err)
						return
					}
				}
			}
			for _, off := range held {
				*(*uint64)(unsafe.Pointer(&a.mem[off])) = 0
				if err := p.PutOffset(off); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for range blocks {
		off, err := p.GetOffset()
		must(t, "draining GetOffset", err)
		if seen[off] {
			t.Fatalf("block %d on the free list twice", off)
		}
		seen[off] = true
	}
	_, err = p.GetOffset()
	wantErr(t, "GetOffset after draining", err, ErrNoSpace)
}
