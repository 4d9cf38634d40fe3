package shm

import (
	"slices"
	"sync"
	"testing"
)

func TestAllocAlignmentAndNoOverlap(t *testing.T) {
	a := newArena(t, 1<<20)
	var spans []span
	sizes := []int{1, 7, 8, 63, 64, 100, 128, 129, 4096, 0, 3}
	aligns := []int{1, 2, 8, 64, 128, 4096}
	for i := range 200 {
		n, align := sizes[i%len(sizes)], aligns[i%len(aligns)]
		b, err := a.AllocAligned(n, align)
		must(t, "AllocAligned", err)
		off, _ := b.Offset()
		if off%align != 0 {
			t.Fatalf("AllocAligned(%d, %d) at %d", n, align, off)
		}
		if b.Len() != n {
			t.Fatalf("Len %d, want %d", b.Len(), n)
		}
		spans = append(spans, span{off, n})
	}
	d, err := a.Alloc(10)
	must(t, "Alloc", err)
	if off, _ := d.Offset(); off%DefaultAlign != 0 {
		t.Fatalf("Alloc at %d, not %d-aligned", off, DefaultAlign)
	}
	checkDisjoint(t, a, spans)
}

// span is a block: its offset and length.
type span struct{ off, n int }

func checkDisjoint(t *testing.T, a *Arena, spans []span) {
	t.Helper()
	lo, hi := a.Data()
	slices.SortFunc(spans, func(x, y span) int { return x.off - y.off })
	for i, s := range spans {
		if s.off < lo || s.off+s.n > hi {
			t.Fatalf("block [%d, +%d) outside [%d, %d)", s.off, s.n, lo, hi)
		}
		if i > 0 && spans[i-1].off+spans[i-1].n > s.off {
			t.Fatalf("blocks [%d, +%d) and [%d, +%d) overlap", spans[i-1].off, spans[i-1].n, s.off, s.n)
		}
	}
}

func TestAllocExhaustion(t *testing.T) {
	a := newArena(t, 4096)
	_, err := a.Alloc(4097)
	wantErr(t, "Alloc larger than the arena", err, ErrNoSpace)
	b, err := a.Alloc(4096)
	must(t, "Alloc of the whole arena", err)
	if b.Len() != 4096 {
		t.Fatal("short block")
	}
	_, err = a.Alloc(1)
	wantErr(t, "Alloc from a full arena", err, ErrNoSpace)
	if used, free := a.Used(); used != 4096 || free != 0 {
		t.Fatalf("Used() = %d, %d", used, free)
	}
	// Padding counts: after a 1-byte block the next 128-aligned one
	// starts 128 bytes in.
	c := newArena(t, 4096)
	_, err = c.Alloc(1)
	must(t, "Alloc", err)
	_, err = c.Alloc(4096 - 127)
	wantErr(t, "Alloc that fits only without its alignment", err, ErrNoSpace)
	_, err = c.Alloc(4096 - 128)
	must(t, "Alloc that fits", err)
}

func TestAllocBadArguments(t *testing.T) {
	a := newArena(t, 4096)
	for _, c := range []struct{ n, align int }{{-1, 8}, {8, 0}, {8, 3}, {8, -8}, {8, 1 << 31}} {
		_, err := a.AllocAligned(c.n, c.align)
		wantErr(t, "AllocAligned", err, ErrInvalid)
	}
}

func TestAllocCorruptPointer(t *testing.T) {
	a := newArena(t, 4096)
	for _, bad := range []uint64{0, 1, uint64(a.dataEnd) + 1, 1 << 63} {
		a.hdr.next = bad
		_, err := a.Alloc(8)
		wantErr(t, "Alloc with a corrupt pointer", err, ErrCorrupt)
	}
}

// Concurrent allocators (as two processes would be) never get overlapping
// blocks, and together use the arena up exactly.
func TestStressAllocConcurrent(t *testing.T) {
	const goroutines = 4
	per := (scaled(20000) + 31) / 32 * 32 // whole pages of blocks
	a := newArena(t, goroutines*per*DefaultAlign)
	got := make([][]span, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				n := 1 + (i*7+g)%DefaultAlign
				b, err := a.Alloc(n)
				if err != nil {
					t.Error(err)
					return
				}
				off, _ := b.Offset()
				got[g] = append(got[g], span{off, n})
			}
		})
	}
	wg.Wait()
	all := slices.Concat(got...)
	if len(all) != goroutines*per {
		t.Fatalf("%d blocks, want %d", len(all), goroutines*per)
	}
	checkDisjoint(t, a, all)
	_, err := a.Alloc(1)
	wantErr(t, "Alloc after using every byte", err, ErrNoSpace)
}
