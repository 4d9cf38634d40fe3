//go:build unix && !linux

package shm

import (
	"errors"

	"golang.org/x/sys/unix"
)

// processAlive reports whether process pid exists. Outside Linux a zombie
// (exited, not yet reaped) still counts as alive until its parent reaps it.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return !errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}
