//go:build unix

package shm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPopulateRefused(t *testing.T) {
	savedP, savedA := sysPopulate, sysAllocate
	t.Cleanup(func() { sysPopulate, sysAllocate = savedP, savedA })
	sysPopulate = func([]byte) error { return unix.ENOMEM }
	_, err := New(1<<20, Options{Populate: true})
	wantErr(t, "New with a refused populate", err, ErrRefused)
	wantErr(t, "New with a refused populate", err, unix.ENOMEM)
	sysPopulate = savedP
	sysAllocate = func(int, int) error { return unix.ENOSPC }
	name := uniqueName(t)
	_, err = Create(name, 1<<20, Options{Populate: true})
	wantErr(t, "Create on a full file system", err, ErrRefused)
	wantErr(t, "Create on a full file system", err, unix.ENOSPC)
	if _, err := os.Stat(filepath.Join(shmDir(), name)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed Create left its file behind: %v", err)
	}
}

func TestLockRefused(t *testing.T) {
	saved := mlock
	t.Cleanup(func() { mlock = saved })
	mlock = func([]byte) error { return unix.ENOMEM }
	_, err := New(1<<20, Options{Lock: true})
	wantErr(t, "New with a refused mlock", err, ErrRefused)
	wantErr(t, "New with a refused mlock", err, unix.ENOMEM)
	name := uniqueName(t)
	_, err = Create(name, 1<<20, Options{Lock: true})
	wantErr(t, "Create with a refused mlock", err, ErrRefused)
	if _, err := os.Stat(filepath.Join(shmDir(), name)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed Create left its file behind: %v", err)
	}
}

func TestOpenRefusesAnotherUsersFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	name := uniqueName(t)
	a, err := Create(name, 4096, Options{})
	must(t, "Create", err)
	defer a.Close()
	defer Remove(name)
	must(t, "chown", os.Chown(filepath.Join(shmDir(), name), 12345, 12345))
	_, err = Open(name, Options{})
	wantErr(t, "Open of another user's arena", err, fs.ErrPermission)
}
