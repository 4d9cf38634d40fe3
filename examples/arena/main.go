// Command arena shows the guide's section 4 in weft: a numeric batch job
// over a large []float64 that lives in an mmap arena, off the Go heap, and
// is processed in parallel on the scheduler's workers; then the result is
// handed on with Transfer, which detaches the old handle, as transferring
// an ArrayBuffer does.
//
//	go run ./examples/arena
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"runtime"
	"time"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/shm"
)

// n is the number of samples: 2^24 float64, 128 MiB.
const n = 1 << 24

type moments struct{ sum, sumSq float64 }

func main() {
	ctx := context.Background()

	// The arena: 128 MiB of anonymous memory that the GC never scans.
	// Transparent huge pages cut page faults and TLB misses where the
	// kernel allows them.
	arena, err := shm.New(n*8, shm.Options{HugePages: true})
	if errors.Is(err, shm.ErrRefused) || errors.Is(err, shm.ErrUnsupported) {
		fmt.Println("huge pages not available here:", err)
		arena, err = shm.New(n*8, shm.Options{})
	}
	if err != nil {
		log.Fatal(err)
	}
	defer arena.Close()
	buf, err := arena.Alloc(n * 8)
	if err != nil {
		log.Fatal(err)
	}
	xs, err := shm.View[float64](buf) // a Float64Array over the arena
	if err != nil {
		log.Fatal(err)
	}

	s, err := sched.New(sched.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// 1. Generate a signal in parallel: every worker fills its chunks.
	start := time.Now()
	must(sched.ParallelFor(ctx, s, 0, n, 0, func(_ *sched.Worker, lo, hi int) {
		for i := lo; i < hi; i++ {
			t := float64(i) / n
			xs[i] = 10 + 3*math.Sin(2*math.Pi*50*t) + math.Sin(2*math.Pi*1234*t)
		}
	}))
	fill := time.Since(start)

	// 2. Mean and standard deviation, reduced in a fixed order so that
	// the result is the same bit for bit on any number of workers.
	start = time.Now()
	m, err := sched.ReduceOrdered(ctx, s, xs, 0,
		func() moments { return moments{} },
		func(a moments, x float64) moments { return moments{a.sum + x, a.sumSq + x*x} },
		func(a, b moments) moments { return moments{a.sum + b.sum, a.sumSq + b.sumSq} })
	must(err)
	mean := m.sum / n
	std := math.Sqrt(m.sumSq/n - mean*mean)
	reduce := time.Since(start)

	// 3. Standardise in place, in parallel.
	start = time.Now()
	must(sched.ParallelFor(ctx, s, 0, n, 0, func(_ *sched.Worker, lo, hi int) {
		for i := lo; i < hi; i++ {
			xs[i] = (xs[i] - mean) / std
		}
	}))
	scale := time.Since(start)

	runtime.GC() // with 128 MiB of samples live
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	fmt.Printf("%d float64 samples (%d MiB) in an arena, %d workers\n", n, n*8>>20, s.Workers())
	fmt.Printf("fill %v, mean/std %v, standardise %v\n",
		fill.Round(time.Millisecond), reduce.Round(time.Millisecond), scale.Round(time.Millisecond))
	fmt.Printf("mean %.4f, std %.4f; after standardising x[1000]=%.4f x[n-1]=%.4f\n", mean, std, xs[1000], xs[n-1])
	fmt.Printf("Go heap in use: %d MiB (the samples are not on it); GC cycles during the job: %d\n",
		after.HeapAlloc>>20, after.NumGC-before.NumGC)

	// 4. Hand the result on. Share gives a second handle on the same
	// memory; Transfer moves it and detaches the old handle.
	shared, err := buf.Share()
	must(err)
	moved, err := buf.Transfer()
	must(err)
	_, err = buf.Bytes()
	fmt.Printf("after Transfer: old handle length %d, use → %v\n", buf.Len(), err)
	view, err := shm.View[float64](moved)
	must(err)
	other, err := shm.View[float64](shared)
	must(err)
	fmt.Printf("new handle length %d; the shared handle sees the same x[0]: %v\n", moved.Len(), other[0] == view[0])
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
