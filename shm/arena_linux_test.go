package shm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMemfdSharedThroughFile(t *testing.T) {
	a, err := CreateMemfd(1<<16, Options{})
	must(t, "CreateMemfd", err)
	defer a.Close()
	b, err := OpenFile(a.File(), Options{})
	must(t, "OpenFile", err)
	defer b.Close()
	w, err := a.Uint64(lo(a))
	must(t, "Uint64", err)
	w.Store(7)
	v, err := b.Uint64(lo(b))
	must(t, "Uint64", err)
	if v.Load() != 7 {
		t.Fatal("memfd mappings do not share memory")
	}
	// Sealed: nobody can shrink it under a mapping.
	if err := unix.Ftruncate(int(a.File().Fd()), 4096); !errors.Is(err, unix.EPERM) {
		t.Fatalf("truncating a sealed memfd: %v, want EPERM", err)
	}
}

func TestHugePages(t *testing.T) {
	dir := t.TempDir()
	saved := thpDir
	t.Cleanup(func() { thpDir = saved })
	thpDir = dir
	write := func(file, policy string) {
		must(t, "write policy", os.WriteFile(filepath.Join(dir, file), []byte(policy+"\n"), 0o644))
	}
	// No policy file: a kernel without THP.
	_, err := New(1<<21, Options{HugePages: true})
	wantErr(t, "HugePages without THP", err, ErrRefused)

	write("enabled", "always madvise [never]")
	_, err = New(1<<21, Options{HugePages: true})
	wantErr(t, "HugePages with enabled=never", err, ErrRefused)

	write("enabled", "always [madvise] never")
	a, err := New(1<<21, Options{HugePages: true})
	must(t, "HugePages with enabled=madvise", err)
	a.Close()

	write("shmem_enabled", "always within_size advise never [deny] force")
	_, err = CreateMemfd(1<<21, Options{HugePages: true})
	wantErr(t, "shared HugePages with shmem_enabled=deny", err, ErrRefused)
	write("shmem_enabled", "always within_size [advise] never deny force")
	a, err = CreateMemfd(1<<21, Options{HugePages: true})
	must(t, "shared HugePages with shmem_enabled=advise", err)
	a.Close()
}
