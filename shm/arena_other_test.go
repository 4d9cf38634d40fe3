//go:build unix && !linux

package shm

import "testing"

func TestLinuxOnlyFeatures(t *testing.T) {
	_, err := CreateMemfd(4096, Options{})
	wantErr(t, "CreateMemfd", err, ErrUnsupported)
	_, err = New(1<<21, Options{HugePages: true})
	wantErr(t, "HugePages", err, ErrUnsupported)
}
