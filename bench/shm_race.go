//go:build race

package bench

// raceEnabled: the cross-process scenarios run their child as a goroutine.
const raceEnabled = true
