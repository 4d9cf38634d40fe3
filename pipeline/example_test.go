package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weftlabs/weft/pipeline"
)

// A pipeline reads top to bottom like the data flows: a source, stages
// with a name and a concurrency each, a sink that runs it.
func Example() {
	ctx := context.Background()
	p, err := pipeline.New(pipeline.Options{})
	if err != nil {
		panic(err)
	}
	lines := pipeline.FromSlice(p, "lines", []string{"the quick brown fox", "jumps over", "the lazy dog"})
	words := pipeline.FlatMap(lines, "split", 1, func(_ context.Context, line string, emit func(string) error) error {
		for _, w := range strings.Fields(line) {
			if err := emit(w); err != nil {
				return err
			}
		}
		return nil
	})
	long := pipeline.Filter(words, "long", 1, func(_ context.Context, w string) (bool, error) { return len(w) > 3, nil })
	upper := pipeline.OrderedMap(long, "upper", 2, func(_ context.Context, w string) (string, error) {
		return strings.ToUpper(w), nil
	})
	for w, err := range pipeline.All(ctx, upper) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(w)
	}
	// Output:
	// QUICK
	// BROWN
	// JUMPS
	// OVER
	// LAZY
}

// Errors travel to the sink, named after the stage they happened in; the
// first one stops the whole pipeline.
func Example_errors() {
	p, _ := pipeline.New(pipeline.Options{})
	parsed := pipeline.Map(pipeline.FromSlice(p, "input", []string{"1", "2", "x", "4"}), "parse", 2,
		func(_ context.Context, s string) (int, error) {
			var v int
			_, err := fmt.Sscan(s, &v)
			return v, err
		})
	_, err := pipeline.Collect(context.Background(), parsed)
	var se *pipeline.StageError
	if errors.As(err, &se) {
		fmt.Println("failed in stage", se.Stage)
	}
	// Output:
	// failed in stage parse
}

// Batch groups a stream by size (and by time, with a maximum wait);
// Fold and Reduce fold it.
func Example_batch() {
	p, _ := pipeline.New(pipeline.Options{})
	nums := pipeline.FromSlice(p, "nums", []int{1, 2, 3, 4, 5, 6, 7})
	groups := pipeline.Batch(nums, "threes", 1, 3, 10*time.Millisecond)
	sums := pipeline.Map(groups, "sum", 1, func(_ context.Context, g []int) (int, error) {
		s := 0
		for _, v := range g {
			s += v
		}
		return s, nil
	})
	all, err := pipeline.Collect(context.Background(), sums)
	fmt.Println(all, err)
	// Output:
	// [6 15 7] <nil>
}

// Tee copies a stream, Merge joins streams: here a diamond that counts
// and sums the same items.
func Example_fanOutFanIn() {
	p, _ := pipeline.New(pipeline.Options{})
	branches := pipeline.Tee(pipeline.FromSlice(p, "nums", []int{1, 2, 3, 4}), "copy", 2)
	count := pipeline.Fold(branches[0], "count", 1, func() string { return "" },
		func(_ context.Context, acc string, _ int) (string, error) { return acc + "#", nil })
	sum := pipeline.Fold(branches[1], "sum", 1, func() int { return 0 },
		func(_ context.Context, acc, v int) (int, error) { return acc + v, nil })
	sumText := pipeline.Map(sum, "text", 1, func(_ context.Context, v int) (string, error) { return fmt.Sprint(v), nil })
	out, _ := pipeline.Collect(context.Background(), pipeline.Merge("both", count, sumText))
	fmt.Println(len(out), "results")
	// Output:
	// 2 results
}

// Stats show each stage's counters, during the run and after it.
func ExamplePipeline_Stats() {
	p, _ := pipeline.New(pipeline.Options{})
	sq := pipeline.Map(pipeline.FromSlice(p, "nums", make([]int, 1000)), "square", 1,
		func(_ context.Context, v int) (int, error) { return v * v, nil })
	pipeline.Reduce(context.Background(), sq, 0, func(a, v int) int { return a + v })
	for _, s := range p.Stats() {
		fmt.Printf("%s: in %d, out %d, fused %v\n", s.Name, s.In, s.Out, s.Fused)
	}
	// Output:
	// nums: in 0, out 1000, fused false
	// square: in 1000, out 1000, fused false
}
