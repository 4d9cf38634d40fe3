//go:build unix

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// New maps a private arena with size bytes of data (rounded up to whole
// pages), zeroed. The memory is anonymous, outside the Go heap, and
// belongs to this process alone.
func New(size int, opt Options) (*Arena, error) {
	total, err := mappingSize(size)
	if err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(-1, 0, total, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("shm: map %d bytes: %w", total, err)
	}
	if err := applyOptions(mem, opt, false); err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return initArena(mem, nil, ""), nil
}

// Create creates a shared arena named name with size bytes of data
// (rounded up to whole pages), zeroed: a file in the shared-memory
// directory (/dev/shm on Linux, the temporary directory elsewhere), created
// exclusively (an existing file or symlink of that name is an error
// matching fs.ErrExist), readable and writable by this user only. Another
// process maps it with Open(name). The name stays until Remove.
func Create(name string, size int, opt Options) (*Arena, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	total, err := mappingSize(size)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(shmDir(), name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			err = fs.ErrExist
		}
		return nil, fmt.Errorf("shm: create %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	a, err := createOn(f, total, opt)
	if err != nil {
		f.Close()
		unix.Unlink(path)
		return nil, err
	}
	a.name = name
	return a, nil
}

// Open maps the shared arena named name, created by Create in this or
// another process of the same user (a file of another user is refused,
// matching fs.ErrPermission). It validates the header before trusting any
// of it: a file that is truncated, corrupted, not an arena or of another
// layout version is an error (ErrCorrupt, ErrVersion), never a crash.
func Open(name string, opt Options) (*Arena, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(shmDir(), name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			err = fs.ErrNotExist
		}
		return nil, fmt.Errorf("shm: open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	a, err := openOwn(f, opt)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (open %s)", err, path)
	}
	a.name = name
	return a, nil
}

// openOwn is openOn for a file found by name in a directory every user
// can write to: it must belong to this user, as one from Create does, or
// another user could hand us memory they can still truncate under us.
func openOwn(f *os.File, opt Options) (*Arena, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("shm: stat %s: %w", f.Name(), err)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return nil, fmt.Errorf("shm: %s belongs to user %d, not %d: %w", f.Name(), st.Uid, uid, fs.ErrPermission)
	}
	return openOn(f, opt)
}

// OpenFile maps the shared arena behind f: a memfd from CreateMemfd that
// this process inherited, or any file holding an arena. It validates the
// header as Open does. The arena uses a duplicate of f's descriptor; the
// caller still owns f.
func OpenFile(f *os.File, opt Options) (*Arena, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("shm: open %s: %w", f.Name(), err)
	}
	dup := os.NewFile(uintptr(fd), f.Name())
	a, err := openOn(dup, opt)
	if err != nil {
		dup.Close()
		return nil, fmt.Errorf("%w (open %s)", err, f.Name())
	}
	return a, nil
}

// Remove deletes the name of a shared arena. Processes that have it mapped
// keep their mapping; the memory is freed when the last one unmaps it.
func Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	path := filepath.Join(shmDir(), name)
	if err := unix.Unlink(path); err != nil {
		if errors.Is(err, unix.ENOENT) {
			err = fs.ErrNotExist
		}
		return fmt.Errorf("shm: remove %s: %w", path, err)
	}
	return nil
}

// createOn sizes the new, empty file f to total bytes, maps it and writes
// the header.
func createOn(f *os.File, total int, opt Options) (*Arena, error) {
	fd := int(f.Fd())
	if err := unix.Ftruncate(fd, int64(total)); err != nil {
		return nil, fmt.Errorf("shm: size %s to %d bytes: %w", f.Name(), total, err)
	}
	if opt.Populate {
		if err := sysAllocate(fd, total); err != nil {
			return nil, fmt.Errorf("%w: populate %s (%d bytes): %w", ErrRefused, f.Name(), total, err)
		}
	}
	mem, err := unix.Mmap(fd, 0, total, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: map %s: %w", f.Name(), err)
	}
	if err := applyOptions(mem, opt, true); err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return initArena(mem, f, ""), nil
}

// openOn maps the arena in f after checking the file's size, then
// validates its header.
func openOn(f *os.File, opt Options) (*Arena, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("shm: stat %s: %w", f.Name(), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%w: not a regular file (mode %#o)", ErrCorrupt, st.Mode)
	}
	ps := os.Getpagesize()
	if st.Size < int64(2*ps) || st.Size > maxArenaSize || st.Size%int64(ps) != 0 {
		return nil, fmt.Errorf("%w: file size %d is not that of an arena", ErrCorrupt, st.Size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: map %s: %w", f.Name(), err)
	}
	h, err := validateHeader(mem, ps)
	if err == nil {
		err = applyOptions(mem, opt, true)
	}
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return adopt(mem, h, f, ""), nil
}

// initArena writes the header of a fresh mapping and wraps it.
func initArena(mem []byte, f *os.File, name string) *Arena {
	h := headerAt(mem)
	initHeader(h, len(mem), os.Getpagesize(), os.Getpid())
	return adopt(mem, *h, f, name)
}

// applyOptions applies opt to a fresh mapping, in the order that makes
// each cheapest: huge pages before the pages are faulted in, then populate,
// then lock.
func applyOptions(mem []byte, opt Options, shared bool) error {
	if opt.HugePages {
		if err := hugePages(mem, shared); err != nil {
			return fmt.Errorf("%w (huge pages for %d bytes)", err, len(mem))
		}
	}
	if opt.Populate {
		if err := sysPopulate(mem); err != nil {
			return fmt.Errorf("%w: populate %d bytes: %w", ErrRefused, len(mem), err)
		}
	}
	if opt.Lock {
		if err := mlock(mem); err != nil {
			var lim unix.Rlimit
			hint := ""
			if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) == nil {
				hint = fmt.Sprintf(" (RLIMIT_MEMLOCK is %d bytes; see ulimit -l)", lim.Cur)
			}
			return fmt.Errorf("%w: lock %d bytes in memory%s: %w", ErrRefused, len(mem), hint, err)
		}
	}
	return nil
}

// The system calls behind the options; tests replace them to see the
// system refuse.
var (
	mlock       = unix.Mlock
	sysPopulate = populate
	sysAllocate = allocateFile
)

func unmap(mem []byte) error { return unix.Munmap(mem) }
