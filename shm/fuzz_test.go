package shm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// FuzzOpen maps arbitrary file contents as an arena. Open must reject
// what is not a valid arena with an error, and whatever it accepts must
// be safe to use: allocation, roots, pools and rings found through the
// roots. No panic, no fault, no out-of-bounds access.
func FuzzOpen(f *testing.F) {
	for _, seed := range openSeeds(f) {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	// One file, rewritten for every input: the fuzzer runs inputs one at
	// a time in each worker process.
	file, err := os.CreateTemp(f.TempDir(), "arena")
	must(f, "CreateTemp", err)
	defer file.Close()
	f.Fuzz(func(t *testing.T, contents []byte, fix bool) {
		if fix {
			// Make the checksums right, so that the fuzzer gets past
			// them to what they protect.
			contents = fixChecksums(bytes.Clone(contents))
		}
		must(t, "Truncate", file.Truncate(0))
		_, err := file.WriteAt(contents, 0)
		must(t, "WriteAt", err)
		a, err := OpenFile(file, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("OpenFile: unexpected error kind: %v", err)
			}
			return
		}
		defer a.Close()
		exerciseArena(t, a)
	})
}

// fixChecksums recomputes the CRC of the arena header in mem, and of
// every pool or ring header that a root slot points at.
func fixChecksums(mem []byte) []byte {
	if len(mem) < int(headerSize) {
		return mem
	}
	h := headerAt(mem)
	h.crc = h.checksum()
	for _, off := range h.roots {
		if off%DefaultAlign != 0 || off > uint64(len(mem)) || uint64(len(mem))-off < uint64(ringHeaderSize) {
			continue
		}
		switch p := unsafe.Pointer(&mem[off]); *(*uint64)(p) {
		case poolMagic:
			ph := (*poolHeader)(p)
			ph.crc = ph.checksum()
		case ringMagic:
			rh := (*ringHeader)(p)
			rh.crc = rh.checksum()
		}
	}
	return mem
}

// exerciseArena uses everything reachable from an arena that Open
// accepted, expecting errors but no crash.
func exerciseArena(t *testing.T, a *Arena) {
	lo, hi := a.Data()
	if lo < int(headerSize) || hi != a.Size() || lo > hi {
		t.Fatalf("accepted arena with data [%d, %d) of %d", lo, hi, a.Size())
	}
	a.Used()
	if b, err := a.Alloc(8); err == nil {
		if mem, err := b.Bytes(); err == nil {
			mem[0] = 1
		}
	}
	for i := range Roots {
		off, err := a.Root(i)
		if err != nil || off == 0 {
			continue
		}
		if p, err := a.OpenPool(off); err == nil {
			if o, err := p.GetOffset(); err == nil {
				p.PutOffset(o)
			}
		}
		if r, err := OpenRing(a, off); err == nil {
			exerciseRing(r)
		}
	}
}

// exerciseRing attaches to both ends of a ring and reads what it holds.
func exerciseRing(r *Ring) {
	if c, err := r.Consumer(); err == nil {
		for range 64 {
			rec, err := c.TryPeek()
			if err != nil {
				break
			}
			_ = append([]byte(nil), rec...) // touch every byte
			c.Advance()
		}
	}
	if p, err := r.Producer(); err == nil {
		for range 4 {
			if p.TryPush(make([]byte, 24)) != nil {
				break
			}
		}
	}
}

// FuzzRingReader fills a ring's indices and data with arbitrary values
// and reads it as a consumer: every record header is validated, so the
// reader either returns records that lie inside the ring or an error.
func FuzzRingReader(f *testing.F) {
	for _, s := range ringSeeds(f) {
		f.Add(s.head, s.tail, s.data)
	}
	f.Fuzz(func(t *testing.T, head, tail uint64, data []byte) {
		a := newArena(t, 8192)
		r, err := NewRing(a, fuzzRingCap)
		must(t, "NewRing", err)
		copy(r.data, data)
		r.h.head.Store(head)
		r.h.tail.Store(tail)
		c, err := r.Consumer()
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Consumer: %v", err)
			}
			return
		}
		lo := &r.data[0]
		for range 2 * fuzzRingCap / recordHeaderSize {
			rec, err := c.TryPeek()
			if err != nil {
				if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("TryPeek: %v", err)
				}
				break
			}
			if len(rec) > r.MaxRecord() {
				t.Fatalf("record of %d bytes, max %d", len(rec), r.MaxRecord())
			}
			if len(rec) > 0 && (uintptrOf(&rec[0]) < uintptrOf(lo) || uintptrOf(&rec[len(rec)-1]) > uintptrOf(&r.data[len(r.data)-1])) {
				t.Fatal("record outside the ring's data")
			}
			must(t, "Advance", c.Advance())
		}
		// The producer side validates the same indices.
		r.h.prodPid.Store(0)
		if p, err := r.Producer(); err == nil {
			p.TryPush(make([]byte, 16))
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c.Pop(ctx, nil)
	})
}

const fuzzRingCap = 1024

type ringSeed struct {
	head, tail uint64
	data       []byte
}

// The seed corpora live in testdata/fuzz; TestWriteFuzzSeeds (run with
// WEFT_SHM_WRITE_SEEDS=1) regenerates them from these functions.

// openSeeds returns arena files: valid ones (empty, with a pool and a
// ring in root slots, with records in the ring) and broken ones.
func openSeeds(t testing.TB) [][]byte {
	a := newArena(t, 4096)
	empty := append([]byte(nil), a.mem...)
	p, err := a.NewPool(64, 4)
	must(t, "NewPool", err)
	must(t, "SetRoot", a.SetRoot(0, p.Offset()))
	r, err := NewRing(a, 1024)
	must(t, "NewRing", err)
	must(t, "SetRoot", a.SetRoot(1, r.Offset()))
	prod, err := r.Producer()
	must(t, "Producer", err)
	for i := uint64(0); prod.TryPush(record(nil, i)) == nil; i++ {
	}
	r.h.prodPid.Store(0) // not attached in the file
	full := append([]byte(nil), a.mem...)
	truncated := full[:len(full)/2]
	badMagic := append([]byte(nil), full...)
	badMagic[0] ^= 0xff
	return [][]byte{empty, full, truncated, badMagic, nil, []byte("WEFTSHM1")}
}

// ringSeeds returns ring states: valid streams (with a wrap), an empty
// ring, and corrupt ones.
func ringSeeds(t testing.TB) []ringSeed {
	var out []ringSeed
	snapshot := func(r *Ring) {
		out = append(out, ringSeed{r.h.head.Load(), r.h.tail.Load(), append([]byte(nil), r.data...)})
	}
	a := newArena(t, 8192)
	r, err := NewRing(a, fuzzRingCap)
	must(t, "NewRing", err)
	snapshot(r)
	p, err := r.Producer()
	must(t, "Producer", err)
	c, err := r.Consumer()
	must(t, "Consumer", err)
	for i := uint64(0); p.TryPush(record(nil, i)) == nil; i++ {
	}
	snapshot(r) // full, no wrap yet
	for range 5 {
		c.TryPop(nil)
	}
	for i := uint64(100); p.TryPush(record(nil, i)) == nil; i++ {
	}
	snapshot(r) // wrapped
	s := out[len(out)-1]
	out = append(out, ringSeed{s.head, s.tail + 8, s.data}, ringSeed{s.tail, s.head, s.data}, ringSeed{0, 1 << 40, s.data})
	return out
}

// TestWriteFuzzSeeds writes the seed corpora under testdata/fuzz when
// WEFT_SHM_WRITE_SEEDS=1, and otherwise checks that they are there.
func TestWriteFuzzSeeds(t *testing.T) {
	write := os.Getenv("WEFT_SHM_WRITE_SEEDS") == "1"
	for name, seeds := range map[string][]string{
		"FuzzOpen":       encodeSeeds(openSeeds(t)),
		"FuzzRingReader": encodeRingSeeds(ringSeeds(t)),
	} {
		dir := filepath.Join("testdata", "fuzz", name)
		if !write {
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) < len(seeds) {
				t.Errorf("%s: %d committed seeds (%v), want at least %d", dir, len(entries), err, len(seeds))
			}
			continue
		}
		must(t, "mkdir", os.MkdirAll(dir, 0o755))
		for i, s := range seeds {
			must(t, "write seed", os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(s), 0o644))
		}
	}
}

func encodeSeeds(seeds [][]byte) []string {
	var out []string
	for i, s := range seeds {
		out = append(out, fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nbool(%v)\n", strconv.Quote(string(s)), i%2 == 1))
	}
	return out
}

func encodeRingSeeds(seeds []ringSeed) []string {
	var out []string
	for _, s := range seeds {
		var b strings.Builder
		fmt.Fprintf(&b, "go test fuzz v1\nuint64(%d)\nuint64(%d)\n[]byte(%s)\n", s.head, s.tail, strconv.Quote(string(s.data)))
		out = append(out, b.String())
	}
	return out
}

func uintptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }
