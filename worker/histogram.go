package worker

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/barrier"
)

// A latency histogram with log-linear buckets, as in HdrHistogram: values
// below latSub nanoseconds have a bucket each; above, every power of two
// is cut into latSub equal sub-buckets. A bucket is then never wider than
// 1/latSub of its lower bound, so a percentile read as a bucket's midpoint
// is within 1/(2·latSub) — 3.1% — of the true sample, over the whole
// uint64 range (976 buckets, 7.6 KiB).
const (
	latSubBits = 4
	latSub     = 1 << latSubBits
	latBuckets = (64 - latSubBits + 1) * latSub
)

// latHistogram counts durations into buckets. It has one writer — the
// worker that owns the TaskRecorder holding it — which bumps a count with
// a load and a release store (no locked instruction); any goroutine may
// read the counts with atomic loads. A reader sees each count exact as of
// some moment, not all counts as of the same moment.
type latHistogram struct {
	counts [latBuckets]atomic.Uint64
}

// latBucket returns the bucket of v.
func latBucket(v uint64) int {
	if v < latSub {
		return int(v)
	}
	e := bits.Len64(v) - 1 // v's top bit, ≥ latSubBits
	m := (v >> (e - latSubBits)) & (latSub - 1)
	return (e-latSubBits+1)<<latSubBits | int(m)
}

// latBounds returns the smallest value of bucket i and the bucket's width.
func latBounds(i int) (lower, width uint64) {
	if i < latSub {
		return uint64(i), 1
	}
	e := i>>latSubBits + latSubBits - 1
	m := uint64(i & (latSub - 1))
	return (latSub + m) << (e - latSubBits), 1 << (e - latSubBits)
}

// record adds v. Only the histogram's writer may call it.
func (h *latHistogram) record(v uint64) {
	c := &h.counts[latBucket(v)]
	barrier.StoreRelease(c, c.Load()+1)
}

// latCounts is a reader's copy of one or more histograms.
type latCounts [latBuckets]uint64

// add adds h's current counts to c.
func (c *latCounts) add(h *latHistogram) {
	for i := range h.counts {
		c[i] += h.counts[i].Load()
	}
}

// merge adds o to c.
func (c *latCounts) merge(o *latCounts) {
	for i := range o {
		c[i] += o[i]
	}
}

// quantiles fills out[k] with the qs[k]-quantile of the counted values,
// qs ascending: the value of rank ⌈q·n⌉ in sorted order (the smallest for
// q = 0), read as the midpoint of its bucket and never above hi, the
// largest value recorded. With no values every quantile is 0.
func (c *latCounts) quantiles(hi uint64, qs []float64, out []time.Duration) {
	var n uint64
	for _, v := range c {
		n += v
	}
	k := 0
	if n == 0 {
		for ; k < len(qs); k++ {
			out[k] = 0
		}
		return
	}
	var cum uint64
	for i, v := range c {
		if v == 0 {
			continue
		}
		cum += v
		for k < len(qs) && cum >= latRank(qs[k], n) {
			v := hi // the largest value is known exactly
			if latRank(qs[k], n) < n {
				lo, w := latBounds(i)
				v = min(lo+(w-1)/2, hi)
			}
			out[k] = latDuration(v)
			k++
		}
		if k == len(qs) {
			return
		}
	}
	for ; k < len(qs); k++ {
		out[k] = latDuration(hi)
	}
}

// latDuration converts ns to a Duration, saturating.
func latDuration(ns uint64) time.Duration {
	return time.Duration(min(ns, math.MaxInt64))
}

// latRank is the 1-based rank of the q-quantile among n values.
func latRank(q float64, n uint64) uint64 {
	r := uint64(q * float64(n))
	if float64(r) < q*float64(n) {
		r++ // ceiling
	}
	return min(max(r, 1), n)
}
