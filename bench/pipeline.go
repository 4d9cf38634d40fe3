package bench

import (
	"context"
	"fmt"
	"sync"

	"github.com/weftlabs/weft/pipeline"
	"github.com/weftlabs/weft/sched"
)

// pipeCap is the capacity of every queue and buffered channel in the
// pipeline suite, so that both sides have the same slack.
const pipeCap = 1024

func init() {
	Register(
		map3Scenario(1),
		map3Scenario(2),
		&Scenario{
			Suite: "pipeline", Name: "ordered-scaling",
			Doc: "one item of ~100 ns of work through an ordered parallel map, against a loop calling the same function",
			Impls: []Impl{
				{Name: "weft.OrderedMap-2", Run: orderedWork(2, false)},
				{Name: "weft.OrderedMap-1", Run: orderedWork(1, false)},
				{Name: "weft.OrderedMap-2-sched", Run: orderedWork(2, true)},
				{Name: "sequential", Peer: true, Run: sequentialWork},
			},
		},
		&Scenario{
			Suite: "pipeline", Name: "ordering-cost",
			Doc: "one 8-byte item through a 2-worker parallel map that adds 1, ordered or not",
			Impls: []Impl{
				{Name: "weft.OrderedMap-2", Run: orderCost(true)},
				{Name: "weft.Map-2", Run: orderCost(false)},
				{Name: "chan-2", Peer: true, Run: chanOrderCost},
			},
		},
	)
}

func map3Scenario(workers int) *Scenario {
	impls := []Impl{
		{Name: "weft.pipeline", Run: func(n int, _ *Recorder) { map3Weft(n, workers, false) }},
		{Name: "weft.pipeline-nofusion", Run: func(n int, _ *Recorder) { map3Weft(n, workers, true) }},
	}
	if workers == 1 {
		impls = append(impls, Impl{Name: "weft.one-stage", Run: map3Composed})
	}
	return &Scenario{
		Suite: "pipeline", Name: fmt.Sprintf("map3-c%d", workers),
		Doc:   fmt.Sprintf("one 8-byte item through a source, three map stages of concurrency %d and a sink", workers),
		Impls: append(impls, Impl{Name: "chan", Peer: true, Run: func(n int, _ *Recorder) { map3Chan(n, workers) }}),
	}
}

// The three stages: their composition is v ↦ 3v, so the sink can check
// that every item arrived once. Both pipelines call them through a func
// value, as a stage library must.
func stageA(v uint64) uint64 { return v + 1 }
func stageB(v uint64) uint64 { return v * 3 }
func stageC(v uint64) uint64 { return v - 3 }

func mapA(_ context.Context, v uint64) (uint64, error) { return v + 1, nil }
func mapB(_ context.Context, v uint64) (uint64, error) { return v * 3, nil }
func mapC(_ context.Context, v uint64) (uint64, error) { return v - 3, nil }

func checkTriple(sum uint64, n int) {
	if want := 3 * (uint64(n) * uint64(n-1) / 2); sum != want {
		panic(fmt.Sprintf("bench: items lost or duplicated: sum %d, want %d", sum, want))
	}
}

// counting is a source of 0, 1, …, n-1.
func counting(p *pipeline.Pipeline, n int) *pipeline.Stream[uint64] {
	return pipeline.Generate(p, "src", func(_ context.Context, emit func(uint64) error) error {
		for i := range uint64(n) {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	})
}

func sumSink(a, v uint64) uint64 { return a + v }

func map3Weft(n, workers int, noFusion bool) {
	p, err := pipeline.New(pipeline.Options{Capacity: pipeCap, NoFusion: noFusion})
	if err != nil {
		panic(err)
	}
	a := pipeline.Map(counting(p, n), "a", workers, mapA)
	b := pipeline.Map(a, "b", workers, mapB)
	c := pipeline.Map(b, "c", workers, mapC)
	sum, err := pipeline.Reduce(context.Background(), c, 0, sumSink)
	if err != nil {
		panic(err)
	}
	checkTriple(sum, n)
}

// map3Composed runs the three functions as one stage of concurrency 1:
// what fusion can at best achieve.
func map3Composed(n int, _ *Recorder) {
	p, err := pipeline.New(pipeline.Options{Capacity: pipeCap})
	if err != nil {
		panic(err)
	}
	fns := []func(context.Context, uint64) (uint64, error){mapA, mapB, mapC}
	abc := pipeline.Map(counting(p, n), "abc", 1, func(ctx context.Context, v uint64) (uint64, error) {
		for _, f := range fns {
			v, _ = f(ctx, v)
		}
		return v, nil
	})
	sum, err := pipeline.Reduce(context.Background(), abc, 0, sumSink)
	if err != nil {
		panic(err)
	}
	checkTriple(sum, n)
}

// chanStage is the classic Go pipeline stage: workers goroutines ranging
// over in, sending f(v) to out, closing out when all are done.
func chanStage(in <-chan uint64, workers int, f func(uint64) uint64) <-chan uint64 {
	out := make(chan uint64, pipeCap)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for v := range in {
				out <- f(v)
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

func chanCounting(n int) <-chan uint64 {
	src := make(chan uint64, pipeCap)
	go func() {
		for i := range uint64(n) {
			src <- i
		}
		close(src)
	}()
	return src
}

func map3Chan(n, workers int) {
	out := chanStage(chanStage(chanStage(chanCounting(n), workers, stageA), workers, stageB), workers, stageC)
	var sum uint64
	for v := range out {
		sum += v
	}
	checkTriple(sum, n)
}

// itemWork is ~100 ns of arithmetic that the compiler cannot skip.
func itemWork(v uint64) uint64 {
	x := v
	for range 40 {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

// orderedWork runs itemWork through an OrderedMap of the given concurrency,
// and checks the order of what comes out.
func orderedWork(workers int, onSched bool) func(n int, _ *Recorder) {
	return func(n int, _ *Recorder) {
		opt := pipeline.Options{Capacity: pipeCap}
		if onSched {
			s, err := sched.New(sched.Options{Workers: workers})
			if err != nil {
				panic(err)
			}
			defer s.Close()
			opt.Scheduler = s
		}
		p, err := pipeline.New(opt)
		if err != nil {
			panic(err)
		}
		m := pipeline.OrderedMap(counting(p, n), "work", workers, func(_ context.Context, v uint64) ([2]uint64, error) {
			return [2]uint64{v, itemWork(v)}, nil
		})
		next := uint64(0)
		err = pipeline.ForEach(context.Background(), m, func(r [2]uint64) error {
			if r[0] != next {
				panic(fmt.Sprintf("bench: out of order: %d, want %d", r[0], next))
			}
			next++
			return nil
		})
		if err != nil {
			panic(err)
		}
		if next != uint64(n) {
			panic(fmt.Sprintf("bench: %d items, want %d", next, n))
		}
	}
}

// workFunc is itemWork called through a func value, as a pipeline calls
// its stage functions: one item at a time, so that the CPU cannot overlap
// the work of consecutive items as it can in an inlined loop.
var workFunc = itemWork

func sequentialWork(n int, _ *Recorder) {
	var sink uint64
	for i := range uint64(n) {
		sink += workFunc(i)
	}
	if sink == 1 {
		panic("unreachable") // the check keeps the loop from being removed
	}
}

func orderCost(ordered bool) func(n int, _ *Recorder) {
	return func(n int, _ *Recorder) {
		p, err := pipeline.New(pipeline.Options{Capacity: pipeCap})
		if err != nil {
			panic(err)
		}
		inc := mapA
		var m *pipeline.Stream[uint64]
		if ordered {
			m = pipeline.OrderedMap(counting(p, n), "inc", 2, inc)
		} else {
			m = pipeline.Map(counting(p, n), "inc", 2, inc)
		}
		sum, err := pipeline.Reduce(context.Background(), m, 0, sumSink)
		if err != nil {
			panic(err)
		}
		checkSum(sum-uint64(n), n)
	}
}

func chanOrderCost(n int, _ *Recorder) {
	var sum uint64
	for v := range chanStage(chanCounting(n), 2, func(v uint64) uint64 { return v + 1 }) {
		sum += v
	}
	checkSum(sum-uint64(n), n)
}
