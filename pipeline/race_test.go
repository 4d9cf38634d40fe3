//go:build race

package pipeline

// raceEnabled reports whether the race detector is on; stress tests scale
// their work down with it.
const raceEnabled = true
