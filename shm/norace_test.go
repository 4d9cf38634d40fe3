//go:build !race

package shm

// raceEnabled reports whether the race detector is on; stress tests scale
// their work down with it.
const raceEnabled = false
