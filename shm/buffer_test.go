package shm

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestShareSeesTheSameMemory(t *testing.T) {
	a := newArena(t, 4096)
	b, err := a.Alloc(64)
	must(t, "Alloc", err)
	s, err := b.Share()
	must(t, "Share", err)
	bb, _ := b.Bytes()
	sb, _ := s.Bytes()
	bb[10] = 99
	if sb[10] != 99 || &bb[0] != &sb[0] || s.Len() != 64 {
		t.Fatal("shared handles do not alias one block")
	}
	must(t, "Release original", b.Release())
	if sb2, err := s.Bytes(); err != nil || sb2[10] != 99 {
		t.Fatalf("share lost its memory when the original was released: %v", err)
	}
	must(t, "Release share", s.Release())
}

func TestTransferDetaches(t *testing.T) {
	a := newArena(t, 4096)
	b, err := a.Alloc(64)
	must(t, "Alloc", err)
	bb, _ := b.Bytes()
	bb[0] = 1
	off, _ := b.Offset()
	n, err := b.Transfer()
	must(t, "Transfer", err)
	if b.Len() != 0 || !b.Detached() || b.Arena() != nil {
		t.Fatalf("old handle: Len %d Detached %v", b.Len(), b.Detached())
	}
	if n.Len() != 64 || n.Detached() || n.Arena() != a {
		t.Fatalf("new handle: Len %d Detached %v", n.Len(), n.Detached())
	}
	if noff, _ := n.Offset(); noff != off {
		t.Fatalf("transfer moved the memory: %d → %d", off, noff)
	}
	if nb, _ := n.Bytes(); nb[0] != 1 {
		t.Fatal("transfer lost the contents")
	}
	// Every use of the old handle is an error.
	_, err = b.Bytes()
	wantErr(t, "Bytes", err, ErrDetached)
	_, err = b.Offset()
	wantErr(t, "Offset", err, ErrDetached)
	_, err = b.Share()
	wantErr(t, "Share", err, ErrDetached)
	_, err = b.Transfer()
	wantErr(t, "Transfer", err, ErrDetached)
	_, err = View[float64](b)
	wantErr(t, "View", err, ErrDetached)
	_, err = View[uint8](b)
	wantErr(t, "View", err, ErrDetached)
	wantErr(t, "Release", b.Release(), ErrDetached)

	// Release detaches too.
	must(t, "Release", n.Release())
	_, err = n.Bytes()
	wantErr(t, "Bytes after Release", err, ErrDetached)
	_, err = View[float64](n)
	wantErr(t, "View after Release", err, ErrDetached)
	if n.Len() != 0 {
		t.Fatalf("Len after Release = %d", n.Len())
	}
	wantErr(t, "second Release", n.Release(), ErrDetached)
}

// Of racing Transfers of one handle, exactly one wins.
func TestTransferExactlyOnce(t *testing.T) {
	a := newArena(t, 200*DefaultAlign)
	for range scaled(200) {
		b, err := a.Alloc(8)
		must(t, "Alloc", err)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := b.Transfer(); err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d transfers won", wins.Load())
		}
	}
}

func TestBufferAtOffset(t *testing.T) {
	a := newArena(t, 4096)
	l, h := a.Data()
	b, err := a.Buffer(l+8, 16)
	must(t, "Buffer", err)
	if off, _ := b.Offset(); off != l+8 || b.Len() != 16 {
		t.Fatalf("Buffer at %d len %d", off, b.Len())
	}
	must(t, "Release", b.Release())
	for _, c := range []struct{ off, n int }{{0, 8}, {l - 1, 8}, {h - 7, 8}, {h, 1}, {l, -1}, {l, h}, {-8, 8}, {h + 8, 0}} {
		_, err := a.Buffer(c.off, c.n)
		wantErr(t, "Buffer out of range", err, ErrOutOfRange)
	}
	if _, err := a.Buffer(h, 0); err != nil {
		t.Fatalf("empty Buffer at the end: %v", err)
	}
}
