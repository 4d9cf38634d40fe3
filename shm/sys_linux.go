package shm

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

func shmDir() string { return "/dev/shm" }

// CreateMemfd creates a shared arena with size bytes of data (rounded up
// to whole pages) on an anonymous memory file (memfd) that has no name in
// any directory: it is shared by handing its file (Arena.File) to a child
// process, which calls OpenFile. The file is sealed against shrinking and
// growing, so no process can truncate it under another's mapping. Linux
// only; elsewhere it returns ErrUnsupported.
func CreateMemfd(size int, opt Options) (*Arena, error) {
	total, err := mappingSize(size)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("weft-shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("shm: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:weft-shm")
	a, err := createOn(f, total, opt)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL)
		if err != nil {
			a.Close()
			err = fmt.Errorf("shm: seal memfd: %w", err)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// allocateFile reserves the backing store of a shared arena's file, so
// that a full tmpfs fails here rather than with SIGBUS on a later write.
func allocateFile(fd, size int) error {
	return unix.Fallocate(fd, 0, 0, int64(size))
}

// populate faults every page of mem in for writing. MADV_POPULATE_WRITE
// (Linux 5.14) reports failure; on older kernels every page is touched with
// an atomic add of zero, which faults it writable without changing what
// another process may already have written there.
func populate(mem []byte) error {
	err := unix.Madvise(mem, unix.MADV_POPULATE_WRITE)
	if err == nil || !errors.Is(err, unix.EINVAL) {
		return err
	}
	ps := os.Getpagesize()
	for off := 0; off < len(mem); off += ps {
		(*atomic.Uint32)(unsafe.Pointer(&mem[off])).Add(0)
	}
	return nil
}

// thpDir is where the kernel reports its transparent huge page policy;
// tests point it elsewhere.
var thpDir = "/sys/kernel/mm/transparent_hugepage"

// hugePages asks for transparent huge pages on mem, after checking that
// the kernel's policy for this kind of memory does not rule them out
// (madvise succeeds even then, doing nothing).
func hugePages(mem []byte, shared bool) error {
	file := "enabled"
	if shared {
		file = "shmem_enabled"
	}
	policy, err := os.ReadFile(thpDir + "/" + file)
	if err != nil {
		return fmt.Errorf("%w: kernel without transparent huge pages: %w", ErrRefused, err)
	}
	p := strings.TrimSpace(string(policy))
	if strings.Contains(p, "[never]") || strings.Contains(p, "[deny]") {
		return fmt.Errorf("%w: transparent huge pages are disabled (%s/%s: %s)", ErrRefused, thpDir, file, p)
	}
	if err := unix.Madvise(mem, unix.MADV_HUGEPAGE); err != nil {
		return fmt.Errorf("%w: madvise(MADV_HUGEPAGE): %w", ErrRefused, err)
	}
	return nil
}
