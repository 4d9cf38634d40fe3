//go:build !race

package bench

// raceEnabled: the cross-process scenarios run their child as a process.
const raceEnabled = false
