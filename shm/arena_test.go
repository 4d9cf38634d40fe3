package shm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

func TestNewPrivateArena(t *testing.T) {
	a := newArena(t, 1<<20)
	lo, hi := a.Data()
	ps := os.Getpagesize()
	if lo != ps || hi != ps+1<<20 || a.Size() != hi {
		t.Fatalf("Data() = [%d, %d), Size() = %d", lo, hi, a.Size())
	}
	if a.CreatorPid() != os.Getpid() || a.Name() != "" || a.File() != nil || a.Closed() {
		t.Fatalf("pid %d name %q file %v closed %v", a.CreatorPid(), a.Name(), a.File(), a.Closed())
	}
	if used, free := a.Used(); used != 0 || free != 1<<20 {
		t.Fatalf("Used() = %d, %d", used, free)
	}
	// A size that is not a whole number of pages is rounded up.
	b := newArena(t, 1)
	if _, hi := b.Data(); hi != 2*ps {
		t.Fatalf("1-byte arena: data end %d, want %d", hi, 2*ps)
	}
}

func TestBadSizes(t *testing.T) {
	for _, size := range []int{0, -1, maxArenaSize} {
		_, err := New(size, Options{})
		wantErr(t, "New", err, ErrInvalid)
		_, err = Create("weft-never", size, Options{})
		wantErr(t, "Create", err, ErrInvalid)
		if runtime.GOOS == "linux" {
			_, err = CreateMemfd(size, Options{})
			wantErr(t, "CreateMemfd", err, ErrInvalid)
		}
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	a, err := New(1<<16, Options{})
	must(t, "New", err)
	buf, err := a.Alloc(64)
	must(t, "Alloc", err)
	must(t, "Close", a.Close())
	if !a.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	wantErr(t, "second Close", a.Close(), ErrClosed)
	_, err = a.Alloc(64)
	wantErr(t, "Alloc after Close", err, ErrClosed)
	_, err = buf.Bytes()
	wantErr(t, "Bytes after Close", err, ErrClosed)
	_, err = View[float64](buf)
	wantErr(t, "View after Close", err, ErrClosed)
	_, err = a.Uint32(lo(a))
	wantErr(t, "Uint32 after Close", err, ErrClosed)
	_, err = a.Buffer(lo(a), 8)
	wantErr(t, "Buffer after Close", err, ErrClosed)
	_, err = a.Root(0)
	wantErr(t, "Root after Close", err, ErrClosed)
	wantErr(t, "SetRoot after Close", a.SetRoot(0, 0), ErrClosed)
	_, err = buf.Transfer()
	wantErr(t, "Transfer after Close", err, ErrClosed)
	if buf.Detached() {
		t.Fatal("a Transfer that failed detached the buffer")
	}
	if used, free := a.Used(); used != 0 || free != 0 {
		t.Fatalf("Used after Close = %d, %d", used, free)
	}
	var zero Arena
	wantErr(t, "Close of a zero Arena", zero.Close(), ErrClosed)
}

func lo(a *Arena) int { l, _ := a.Data(); return l }

func TestSharedByName(t *testing.T) {
	name := uniqueName(t)
	a, err := Create(name, 1<<16, Options{})
	must(t, "Create", err)
	t.Cleanup(func() { a.Close(); Remove(name) })
	if a.Name() != name || a.File() == nil {
		t.Fatalf("Name %q File %v", a.Name(), a.File())
	}
	st, err := os.Stat(filepath.Join(shmDir(), name))
	must(t, "stat", err)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}

	// Creating it again fails: O_EXCL.
	_, err = Create(name, 1<<16, Options{})
	wantErr(t, "second Create", err, fs.ErrExist)

	b, err := Open(name, Options{})
	must(t, "Open", err)
	defer b.Close()
	if b.Size() != a.Size() || b.CreatorPid() != os.Getpid() || b.Name() != name {
		t.Fatalf("opened: size %d pid %d name %q", b.Size(), b.CreatorPid(), b.Name())
	}
	// The two mappings are the same memory, and share one allocator.
	x, err := a.Alloc(8)
	must(t, "Alloc", err)
	off, _ := x.Offset()
	y, err := b.Buffer(off, 8)
	must(t, "Buffer", err)
	xb, _ := x.Bytes()
	xb[3] = 42
	if yb, _ := y.Bytes(); yb[3] != 42 {
		t.Fatal("a write through one mapping is not seen through the other")
	}
	z, err := b.Alloc(8)
	must(t, "Alloc on the second mapping", err)
	if zoff, _ := z.Offset(); zoff < off+8 {
		t.Fatalf("second mapping allocated %d, overlapping [%d, %d)", zoff, off, off+8)
	}

	must(t, "Remove", Remove(name))
	wantErr(t, "second Remove", Remove(name), fs.ErrNotExist)
	_, err = Open(name, Options{})
	wantErr(t, "Open after Remove", err, fs.ErrNotExist)
	// The memory outlives the name.
	if yb, _ := y.Bytes(); yb[3] != 42 {
		t.Fatal("memory lost with its name")
	}
}

func TestNamesCannotEscape(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../etc", "a/b", ".hidden", "sp ace", "nul\x00", string(make([]byte, 201))} {
		_, err := Create(name, 4096, Options{})
		wantErr(t, "Create("+name+")", err, ErrInvalid)
		_, err = Open(name, Options{})
		wantErr(t, "Open("+name+")", err, ErrInvalid)
		wantErr(t, "Remove("+name+")", Remove(name), ErrInvalid)
	}
}

func TestCreateRefusesSymlink(t *testing.T) {
	name := uniqueName(t)
	path := filepath.Join(shmDir(), name)
	target := filepath.Join(t.TempDir(), "target")
	must(t, "symlink", os.Symlink(target, path))
	defer os.Remove(path)
	_, err := Create(name, 4096, Options{})
	wantErr(t, "Create over a symlink", err, fs.ErrExist)
	_, err = Open(name, Options{})
	if err == nil {
		t.Fatal("Open followed a symlink")
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the symlink's target was created: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for _, opt := range []Options{{Populate: true}, {Lock: true}, {Populate: true, Lock: true}} {
		a, err := New(1<<20, opt)
		if errors.Is(err, ErrRefused) {
			t.Logf("%+v refused here: %v", opt, err)
			continue
		}
		must(t, "New", err)
		a.Close()
		name := uniqueName(t)
		a, err = Create(name, 1<<20, opt)
		if errors.Is(err, ErrRefused) {
			t.Logf("%+v refused here: %v", opt, err)
			continue
		}
		must(t, "Create", err)
		b, err := Open(name, opt)
		must(t, "Open", err)
		b.Close()
		a.Close()
		Remove(name)
	}
}

func TestRoots(t *testing.T) {
	a := newArena(t, 1<<16)
	off := lo(a) + 128
	must(t, "SetRoot", a.SetRoot(3, off))
	if got, err := a.Root(3); err != nil || got != off {
		t.Fatalf("Root(3) = %d, %v", got, err)
	}
	if got, err := a.Root(0); err != nil || got != 0 {
		t.Fatalf("empty Root(0) = %d, %v", got, err)
	}
	wantErr(t, "SetRoot out of range", a.SetRoot(0, 1), ErrOutOfRange)
	wantErr(t, "SetRoot bad slot", a.SetRoot(Roots, off), ErrInvalid)
	_, err := a.Root(-1)
	wantErr(t, "Root bad slot", err, ErrInvalid)
	// A root rewritten by a hostile peer is checked when read.
	a.hdr.roots[5] = 1 << 60
	_, err = a.Root(5)
	wantErr(t, "corrupt root", err, ErrCorrupt)
}

// writeArenaFile writes mem to a fresh file and returns it, open.
func writeArenaFile(t testing.TB, mem []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "arena")
	must(t, "CreateTemp", err)
	t.Cleanup(func() { f.Close() })
	_, err = f.Write(mem)
	must(t, "Write", err)
	return f
}

// validArenaBytes returns the bytes of a fresh two-page arena.
func validArenaBytes(t testing.TB) []byte {
	a, err := New(os.Getpagesize(), Options{})
	must(t, "New", err)
	defer a.Close()
	return append([]byte(nil), a.mem...)
}

func TestOpenRejectsBadHeaders(t *testing.T) {
	valid := validArenaBytes(t)
	f := writeArenaFile(t, valid)
	a, err := OpenFile(f, Options{})
	must(t, "OpenFile of a valid arena", err)
	a.Close()

	ps := os.Getpagesize()
	field := func(mem []byte, off uintptr) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	field64 := func(mem []byte, off uintptr) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }
	var h header
	fix := func(mem []byte) { hh := headerAt(mem); hh.crc = hh.checksum() } // keep the CRC right
	cases := []struct {
		name   string
		target error
		edit   func([]byte) []byte
	}{
		{"empty", ErrCorrupt, func(m []byte) []byte { return nil }},
		{"one page", ErrCorrupt, func(m []byte) []byte { return m[:ps] }},
		{"not whole pages", ErrCorrupt, func(m []byte) []byte { return m[:len(m)-1] }},
		{"zero magic", ErrCorrupt, func(m []byte) []byte { *field64(m, 0) = 0; return m }},
		{"wrong magic", ErrCorrupt, func(m []byte) []byte { m[0] ^= 1; return m }},
		{"major version", ErrVersion, func(m []byte) []byte {
			*field(m, unsafe.Offsetof(h.version)) = (layoutMajor + 1) << 16
			fix(m)
			return m
		}},
		{"bad crc", ErrCorrupt, func(m []byte) []byte { *field64(m, unsafe.Offsetof(h.dataOff)) += 8; return m }},
		{"header size", ErrCorrupt, func(m []byte) []byte { *field(m, unsafe.Offsetof(h.hdrSize)) = 8; fix(m); return m }},
		{"size larger than file", ErrCorrupt, func(m []byte) []byte {
			*field64(m, unsafe.Offsetof(h.size)) *= 2
			fix(m)
			return m
		}},
		{"truncated file", ErrCorrupt, func(m []byte) []byte { return append(m, make([]byte, ps)...) }},
		{"data offset inside header", ErrCorrupt, func(m []byte) []byte {
			*field64(m, unsafe.Offsetof(h.dataOff)) = 64
			fix(m)
			return m
		}},
		{"data offset past end", ErrCorrupt, func(m []byte) []byte {
			*field64(m, unsafe.Offsetof(h.dataOff)) = uint64(len(m) + ps)
			fix(m)
			return m
		}},
		{"data end", ErrCorrupt, func(m []byte) []byte {
			*field64(m, unsafe.Offsetof(h.dataEnd)) = uint64(len(m) + ps)
			fix(m)
			return m
		}},
		{"pid zero", ErrCorrupt, func(m []byte) []byte { *field(m, unsafe.Offsetof(h.pid)) = 0; fix(m); return m }},
		{"flags", ErrCorrupt, func(m []byte) []byte { *field(m, unsafe.Offsetof(h.flags)) = 1; fix(m); return m }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := c.edit(append([]byte(nil), valid...))
			_, err := OpenFile(writeArenaFile(t, mem), Options{})
			wantErr(t, "OpenFile", err, c.target)
		})
	}
	t.Run("directory", func(t *testing.T) {
		d, err := os.Open(t.TempDir())
		must(t, "open dir", err)
		defer d.Close()
		_, err = OpenFile(d, Options{})
		wantErr(t, "OpenFile of a directory", err, ErrCorrupt)
	})
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(uniqueName(t), Options{})
	wantErr(t, "Open of a missing name", err, fs.ErrNotExist)
}
