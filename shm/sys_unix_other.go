//go:build unix && !linux

package shm

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// shmDir holds the files of named shared arenas; outside Linux there is no
// /dev/shm, and a file in the temporary directory mapped MAP_SHARED is the
// same shared memory, backed by the page cache.
func shmDir() string { return os.TempDir() }

// CreateMemfd returns ErrUnsupported outside Linux: there is no anonymous
// memory file. Use Create and Open with a name.
func CreateMemfd(size int, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: memfd", ErrUnsupported)
}

// allocateFile writes the file's last byte; without fallocate that is the
// closest equivalent.
func allocateFile(fd, size int) error {
	_, err := unix.Pwrite(fd, []byte{0}, int64(size-1))
	return err
}

// populate touches every page of mem with an atomic add of zero, which
// faults it writable without changing its contents.
func populate(mem []byte) error {
	ps := os.Getpagesize()
	for off := 0; off < len(mem); off += ps {
		(*atomic.Uint32)(unsafe.Pointer(&mem[off])).Add(0)
	}
	return nil
}

func hugePages(mem []byte, shared bool) error {
	return fmt.Errorf("transparent huge pages: %w", ErrUnsupported)
}
