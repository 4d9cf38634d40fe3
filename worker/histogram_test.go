package worker

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for i := range latBuckets {
		lo, w := latBounds(i)
		if latBucket(lo) != i || latBucket(lo+w-1) != i {
			t.Fatalf("bucket %d = [%d, %d): values map to %d and %d", i, lo, lo+w, latBucket(lo), latBucket(lo+w-1))
		}
		if i+1 < latBuckets {
			if next, _ := latBounds(i + 1); next != lo+w {
				t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, lo+w, i+1, next)
			}
		}
		if i >= latSub && w*latSub > lo {
			t.Fatalf("bucket %d: width %d more than 1/%d of %d", i, w, latSub, lo)
		}
	}
	if got := latBucket(math.MaxUint64); got != latBuckets-1 {
		t.Fatalf("latBucket(max) = %d", got)
	}
}

// TestHistogramQuantiles compares the histogram's percentiles with those
// of the sorted samples.
func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := map[string][]uint64{
		"one":      {12345},
		"tiny":     {0, 1, 2, 3, 5, 8, 13},
		"constant": slices.Repeat([]uint64{777}, 100),
	}
	logn := make([]uint64, 20000)
	for i := range logn {
		logn[i] = uint64(math.Exp(rng.NormFloat64()*2 + 10)) // ~22µs median, long tail
	}
	sets["lognormal"] = logn
	wide := make([]uint64, 5000)
	for i := range wide {
		wide[i] = rng.Uint64() >> (1 + rng.IntN(63)) // within a Duration
	}
	sets["wide"] = wide

	qs := []float64{0, 0.5, 0.9, 0.99, 0.999, 1}
	for name, vs := range sets {
		t.Run(name, func(t *testing.T) {
			var h latHistogram
			var hi uint64
			for _, v := range vs {
				h.record(v)
				hi = max(hi, v)
			}
			var c latCounts
			c.add(&h)
			got := make([]time.Duration, len(qs))
			c.quantiles(hi, qs, got)
			sorted := slices.Clone(vs)
			slices.Sort(sorted)
			for k, q := range qs {
				ref := sorted[latRank(q, uint64(len(sorted)))-1]
				diff := math.Abs(float64(uint64(got[k])) - float64(ref))
				if diff > float64(ref)/(2*latSub)+0.5 {
					t.Errorf("q%v = %d, sorted reference %d (off by %.2f%%)", q, uint64(got[k]), ref, 100*diff/float64(ref))
				}
			}
			if uint64(got[len(qs)-1]) != hi {
				t.Errorf("q1 = %d, max %d", got[len(qs)-1], hi)
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var c latCounts
	got := []time.Duration{1, 1}
	c.quantiles(0, []float64{0.5, 0.99}, got)
	if got[0] != 0 || got[1] != 0 {
		t.Fatalf("empty quantiles = %v", got)
	}
}
