// Command pipeline shows weft's streaming pipelines: a telemetry stream of
// two million sensor readings, calibrated and filtered in parallel (in
// order), observed, grouped into windows by size or time, summarised, and
// smoothed by a stage with state of its own; then an endless stream
// stopped by a deadline, and an error that names its stage. It prints the
// results and each stage's counters.
//
//	go run ./examples/pipeline
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/weftlabs/weft/pipeline"
	"github.com/weftlabs/weft/sched"
)

// reading is one sensor sample.
type reading struct {
	Seq    int
	Sensor int
	Value  float64
}

// window summarises a group of readings.
type window struct {
	First, Last int // sequence numbers
	N           int
	Mean, Max   float64
}

const readings = 2_000_000

func main() {
	ctx := context.Background()

	// The parallel stages run their batches on a scheduler's CPU workers.
	s, err := sched.New(sched.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	p, err := pipeline.New(pipeline.Options{Scheduler: s})
	if err != nil {
		log.Fatal(err)
	}

	src := pipeline.Generate(p, "sensors", func(ctx context.Context, emit func(reading) error) error {
		x := uint64(42)
		for i := range readings {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			v := float64(x%10_000) / 100 // 0 … 100
			if x%997 == 0 {
				v = math.NaN() // a broken sample now and then
			}
			if err := emit(reading{Seq: i, Sensor: int(x>>32) % 8, Value: v}); err != nil {
				return err
			}
		}
		return nil
	})
	calibrated := pipeline.OrderedMap(src, "calibrate", 2, func(_ context.Context, r reading) (reading, error) {
		r.Value = r.Value*1.8 + 32 // to Fahrenheit, say
		return r, nil
	})
	valid := pipeline.OrderedFilter(calibrated, "valid", 2, func(_ context.Context, r reading) (bool, error) {
		return !math.IsNaN(r.Value), nil
	})
	var perSensor [8]atomic.Int64
	counted := pipeline.Tap(valid, "count", 1, func(_ context.Context, r reading) error {
		perSensor[r.Sensor].Add(1)
		return nil
	})
	groups := pipeline.Batch(counted, "window", 1, 50_000, 20*time.Millisecond)
	summaries := pipeline.Map(groups, "summarise", 1, func(_ context.Context, g []reading) (window, error) {
		w := window{First: g[0].Seq, Last: g[len(g)-1].Seq, N: len(g), Max: math.Inf(-1)}
		for _, r := range g {
			w.Mean += r.Value
			w.Max = max(w.Max, r.Value)
		}
		w.Mean /= float64(len(g))
		return w, nil
	})
	smoothed := pipeline.Process(summaries, "smooth", 1, func(int) pipeline.Processor[window, string] {
		return &ewma{}
	})

	start := time.Now()
	lines := 0
	for line, err := range pipeline.All(ctx, smoothed) {
		if err != nil {
			log.Fatal(err)
		}
		if lines++; lines <= 3 || lines%10 == 0 {
			fmt.Println(line)
		}
	}
	elapsed := time.Since(start)
	total := int64(0)
	for i := range perSensor {
		total += perSensor[i].Load()
	}
	fmt.Printf("\n%d readings, %d valid, in %d windows, in %v (%.1f M readings/s)\n",
		readings, total, lines, elapsed.Round(time.Millisecond), float64(readings)/elapsed.Seconds()/1e6)
	printStats(p.Stats())

	// An endless stream, stopped by the context's deadline: the sink
	// returns the context's error once every stage has stopped.
	p2, _ := pipeline.New(pipeline.Options{})
	endless := pipeline.Generate(p2, "ticks", func(ctx context.Context, emit func(int) error) error {
		for i := 0; ; i++ {
			if err := emit(i); err != nil {
				return err
			}
		}
	})
	squares := pipeline.Map(endless, "square", 2, func(_ context.Context, v int) (int, error) { return v * v, nil })
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	n, err := pipeline.Reduce(dctx, squares, 0, func(n, _ int) int { return n + 1 })
	fmt.Printf("\nendless stream: %d items before %v\n", n, err)

	// The first error stops the pipeline and names its stage.
	p3, _ := pipeline.New(pipeline.Options{})
	parsed := pipeline.Map(pipeline.FromSlice(p3, "input", []string{"1", "2", "three", "4"}), "parse", 1,
		func(_ context.Context, s string) (int, error) {
			var v int
			if _, err := fmt.Sscan(s, &v); err != nil {
				return 0, fmt.Errorf("%q: not a number", s)
			}
			return v, nil
		})
	_, err = pipeline.Collect(ctx, parsed)
	var se *pipeline.StageError
	if errors.As(err, &se) {
		fmt.Printf("failed in stage %q: %v\n", se.Stage, se.Err)
	}
}

// ewma smooths window means with an exponentially weighted moving
// average: state that only this stage's worker touches.
type ewma struct {
	avg float64
	n   int
}

func (e *ewma) Process(_ context.Context, w window, emit func(string) error) error {
	if e.n == 0 {
		e.avg = w.Mean
	}
	e.avg = 0.8*e.avg + 0.2*w.Mean
	e.n++
	return emit(fmt.Sprintf("window %3d: readings %7d–%7d (%5d)  mean %6.2f  max %6.2f  smoothed %6.2f",
		e.n, w.First, w.Last, w.N, w.Mean, w.Max, e.avg))
}

func (e *ewma) Flush(_ context.Context, emit func(string) error) error {
	return emit(fmt.Sprintf("smoothed over %d windows: %.2f", e.n, e.avg))
}

func printStats(stats []pipeline.StageStats) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tworkers\tfused\tin\tout\tbusy\twait in\twait out\tM items/s\t")
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%d\t%d\t%v\t%v\t%v\t%.1f\t\n", s.Name, s.Workers, s.Fused, s.In, s.Out,
			s.Busy.Round(time.Millisecond), s.WaitIn.Round(time.Millisecond), s.WaitOut.Round(time.Millisecond), s.Throughput/1e6)
	}
	tw.Flush()
}
