package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/loov/hrtime"
)

// Options control a run of the suite. The zero value runs the quick suite.
type Options struct {
	// Rounds is how many times each implementation is measured; the
	// reported figure is the median. Zero means 5.
	Rounds int
	// Duration is the target time of one implementation's run within a
	// round; the operation count is calibrated to reach it. Zero means
	// 50ms.
	Duration time.Duration
	// Progress, if set, receives one line per scenario round.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.Duration <= 0 {
		o.Duration = 50 * time.Millisecond
	}
	return o
}

// Result is what one implementation of one scenario measured.
type Result struct {
	Suite    string `json:"suite"`
	Scenario string `json:"scenario"`
	Impl     string `json:"impl"`
	Peer     bool   `json:"peer"`
	Rounds   int    `json:"rounds"`
	Ops      int    `json:"ops_per_round"`
	// NsPerOp is the median across rounds of the time per operation: total
	// time over operations for throughput scenarios, the median single
	// operation (timer overhead subtracted) for latency scenarios.
	NsPerOp float64 `json:"ns_per_op"`
	// MinNsPerOp and MaxNsPerOp are the best and worst rounds.
	MinNsPerOp float64 `json:"min_ns_per_op"`
	MaxNsPerOp float64 `json:"max_ns_per_op"`
	// OpsPerSec is 1e9 / NsPerOp.
	OpsPerSec   float64 `json:"ops_per_sec"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	// VsRef is NsPerOp divided by the reference implementation's (the
	// scenario's first): above 1, the reference is that many times faster.
	VsRef float64 `json:"vs_ref"`
	// Latency holds, for latency scenarios, the median across rounds of
	// each percentile of single operations, in nanoseconds.
	Latency *Percentiles `json:"latency,omitempty"`
}

// Run measures the scenarios and returns one Result per implementation, in
// scenario order. It stops early with ctx's error if ctx is done between
// two measurements.
func Run(ctx context.Context, scenarios []*Scenario, opt Options) ([]Result, error) {
	opt = opt.withDefaults()
	overhead := hrtime.Overhead()
	var out []Result
	for si, s := range scenarios {
		if len(s.Impls) == 0 {
			continue
		}
		rec := new(Recorder)
		ops := make([]int, len(s.Impls))
		for i, im := range s.Impls {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			ops[i] = calibrate(ctx, s, im, rec, opt.Duration)
		}
		type sample struct {
			ns, allocs, bytes float64
			lat               Percentiles
		}
		samples := make([][]sample, len(s.Impls))
		for round := range opt.Rounds {
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "[%d/%d] %s round %d/%d\n", si+1, len(scenarios), s.ID(), round+1, opt.Rounds)
			}
			// Rotate the starting implementation so none is always first
			// after the GC or always last before the next scenario.
			for k := range s.Impls {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				i := (k + round) % len(s.Impls)
				m := measure(ctx, s, s.Impls[i], rec, ops[i])
				smp := sample{ns: m.ns / float64(ops[i]), allocs: m.allocs / float64(ops[i]), bytes: m.bytes / float64(ops[i])}
				if s.Latency {
					smp.lat = rec.percentiles(overhead)
					smp.ns = smp.lat.P50
				}
				samples[i] = append(samples[i], smp)
			}
		}
		first := len(out)
		for i, im := range s.Impls {
			ss := samples[i]
			field := func(f func(sample) float64) []float64 {
				v := make([]float64, len(ss))
				for j := range ss {
					v[j] = f(ss[j])
				}
				return v
			}
			ns := field(func(x sample) float64 { return x.ns })
			r := Result{
				Suite: s.Suite, Scenario: s.Name, Impl: im.Name, Peer: im.Peer,
				Rounds: opt.Rounds, Ops: ops[i],
				NsPerOp:     median(ns),
				MinNsPerOp:  slices.Min(ns),
				MaxNsPerOp:  slices.Max(ns),
				AllocsPerOp: median(field(func(x sample) float64 { return x.allocs })),
				BytesPerOp:  median(field(func(x sample) float64 { return x.bytes })),
			}
			if r.NsPerOp > 0 {
				r.OpsPerSec = 1e9 / r.NsPerOp
			}
			if s.Latency {
				r.Latency = &Percentiles{
					P50:  median(field(func(x sample) float64 { return x.lat.P50 })),
					P90:  median(field(func(x sample) float64 { return x.lat.P90 })),
					P99:  median(field(func(x sample) float64 { return x.lat.P99 })),
					P999: median(field(func(x sample) float64 { return x.lat.P999 })),
					Max:  median(field(func(x sample) float64 { return x.lat.Max })),
				}
			}
			out = append(out, r)
		}
		if ref := out[first].NsPerOp; ref > 0 {
			for i := first; i < len(out); i++ {
				out[i].VsRef = out[i].NsPerOp / ref
			}
		}
	}
	return out, nil
}

type measurement struct {
	ns, allocs, bytes float64
}

// measure runs one implementation once, under pprof labels, after a GC so
// that garbage from the previous run is not charged to this one.
func measure(ctx context.Context, s *Scenario, im Impl, rec *Recorder, n int) measurement {
	rec.reset(n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var elapsed time.Duration
	labels := pprof.Labels("suite", s.Suite, "scenario", s.Name, "impl", im.Name)
	pprof.Do(ctx, labels, func(context.Context) {
		start := time.Now()
		im.Run(n, rec)
		elapsed = time.Since(start)
	})
	runtime.ReadMemStats(&after)
	return measurement{
		ns:     float64(elapsed.Nanoseconds()),
		allocs: float64(after.Mallocs - before.Mallocs),
		bytes:  float64(after.TotalAlloc - before.TotalAlloc),
	}
}

// calibrate finds an operation count whose run takes about target, the way
// testing.B does: grow the count until a run is long enough to time, then
// scale it to the target.
func calibrate(ctx context.Context, s *Scenario, im Impl, rec *Recorder, target time.Duration) int {
	const maxOps = 1 << 28
	// One untimed run first, so that one-time costs (lazy set-up, first
	// page faults) do not distort the estimate.
	n := im.round(1)
	measure(ctx, s, im, rec, n)
	for {
		m := measure(ctx, s, im, rec, n)
		if m.ns >= float64(target)/10 || n >= maxOps {
			// Estimate the cost per operation from a second run of twice
			// the count, so that a fixed cost per run (starting a
			// scheduler, creating threads) is not taken for per-operation
			// cost. While the fixed cost dominates (twice the work takes
			// much less than twice the time), grow the count first.
			perOp := m.ns / float64(n)
			if n < maxOps/2 {
				m2 := measure(ctx, s, im, rec, 2*n)
				if m2.ns < 1.5*m.ns && m.ns < float64(target) && n < maxOps/10 {
					n = im.round(n * 10)
					continue
				}
				if m2.ns > m.ns {
					perOp = min(perOp, (m2.ns-m.ns)/float64(n))
				}
			}
			est := float64(target) / max(perOp, 1e-3)
			return im.round(int(min(max(est, 1), maxOps)))
		}
		if m.ns <= 0 {
			n *= 100
		} else {
			n = int(min(float64(n)*100, float64(n)*float64(target)/10/m.ns*1.5+1))
		}
		n = im.round(min(n, maxOps))
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
