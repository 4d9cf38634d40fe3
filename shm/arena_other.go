//go:build !unix

package shm

import (
	"fmt"
	"os"
)

// New returns ErrUnsupported on a platform without mmap.
func New(size int, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: no mmap", ErrUnsupported)
}

// Create returns ErrUnsupported on a platform without mmap.
func Create(name string, size int, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: no mmap", ErrUnsupported)
}

// Open returns ErrUnsupported on a platform without mmap.
func Open(name string, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: no mmap", ErrUnsupported)
}

// OpenFile returns ErrUnsupported on a platform without mmap.
func OpenFile(f *os.File, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: no mmap", ErrUnsupported)
}

// CreateMemfd returns ErrUnsupported on a platform without mmap.
func CreateMemfd(size int, opt Options) (*Arena, error) {
	return nil, fmt.Errorf("%w: no mmap", ErrUnsupported)
}

// Remove returns ErrUnsupported on a platform without mmap.
func Remove(name string) error {
	return fmt.Errorf("%w: no mmap", ErrUnsupported)
}

func unmap([]byte) error { return nil }
