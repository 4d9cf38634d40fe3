package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/loov/hrtime"
)

// Measurement is the timing of one call — the guide's
// measureThreadPerformance, as a value rather than a log line.
type Measurement struct {
	Name string
	// Elapsed is the call's duration on the high-resolution clock
	// (github.com/loov/hrtime), less the clock's own overhead (Overhead,
	// measured once at start-up), never below zero.
	Elapsed  time.Duration
	Overhead time.Duration
	Thread   ThreadInfo // where the call ran
}

func (m Measurement) String() string {
	return fmt.Sprintf("%s: %v on %v", m.Name, m.Elapsed, m.Thread)
}

// Measure times fn, called once, on the calling goroutine.
func Measure(ctx context.Context, name string, fn func()) Measurement {
	_, m := MeasureValue(ctx, name, func() struct{} { fn(); return struct{}{} })
	return m
}

// MeasureValue times fn, called once, and returns its result with the
// measurement.
func MeasureValue[R any](ctx context.Context, name string, fn func() R) (R, Measurement) {
	ti := Thread(ctx)
	start := hrtime.Now()
	v := fn()
	d := hrtime.Since(start)
	o := hrtime.Overhead()
	return v, Measurement{Name: name, Elapsed: max(d-o, 0), Overhead: o, Thread: ti}
}
