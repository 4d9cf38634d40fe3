//go:build !unix

package shm

// processAlive cannot tell without a process API; arenas do not exist
// here anyway.
func processAlive(pid int) bool { return pid > 0 }
