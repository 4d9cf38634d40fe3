// Package pad holds the cache-line padding that weft's concurrent structures
// use to keep independently written fields off each other's cache lines.
//
// The unit is 128 bytes, not the 64-byte line of current x86 and most ARM
// cores: Intel's adjacent-line prefetcher pulls lines in 128-byte aligned
// pairs, so two hot fields 64 bytes apart still ping-pong between cores.
// Apple M-series and some POWER cores have 128-byte lines outright.
package pad

import "sync/atomic"

// Size is the distance, in bytes, kept between fields written by different
// goroutines.
const Size = 128

// Line is Size bytes of padding. Place one between groups of fields that are
// written by different goroutines:
//
//	type q struct {
//		head atomic.Uint64 // written by the consumer
//		_    pad.Line
//		tail atomic.Uint64 // written by the producer
//		_    pad.Line
//	}
type Line [Size]byte

// Uint64 is an atomic.Uint64 alone on its 128 bytes.
type Uint64 struct {
	atomic.Uint64
	_ [Size - 8]byte
}

// Int64 is an atomic.Int64 alone on its 128 bytes.
type Int64 struct {
	atomic.Int64
	_ [Size - 8]byte
}
