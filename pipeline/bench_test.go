package pipeline

import (
	"context"
	"testing"
)

// benchMap3 runs items through a counting source, three map stages of
// concurrency workers and a summing sink, and reports ns per item.
func benchMap3(b *testing.B, opt Options, workers int) {
	const n = 1 << 20
	for b.Loop() {
		p, err := New(opt)
		if err != nil {
			b.Fatal(err)
		}
		src := Generate(p, "src", func(_ context.Context, emit func(uint64) error) error {
			for i := range uint64(n) {
				if err := emit(i); err != nil {
					return err
				}
			}
			return nil
		})
		x := Map(src, "a", workers, func(_ context.Context, v uint64) (uint64, error) { return v + 1, nil })
		y := Map(x, "b", workers, func(_ context.Context, v uint64) (uint64, error) { return v * 3, nil })
		z := Map(y, "c", workers, func(_ context.Context, v uint64) (uint64, error) { return v - 3, nil })
		sum, err := Reduce(context.Background(), z, 0, func(a, v uint64) uint64 { return a + v })
		if err != nil || sum != 3*(n*(n-1)/2) {
			b.Fatal(sum, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

func BenchmarkMap3Fused(b *testing.B)    { benchMap3(b, Options{}, 1) }
func BenchmarkMap3NoFusion(b *testing.B) { benchMap3(b, Options{NoFusion: true}, 1) }
func BenchmarkMap3Fused2(b *testing.B)   { benchMap3(b, Options{}, 2) }
func BenchmarkMap3NoFusion2(b *testing.B) {
	benchMap3(b, Options{NoFusion: true}, 2)
}

func work(v uint64) uint64 {
	x := v
	for range 40 {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

func benchOrdered(b *testing.B, workers int) {
	const n = 1 << 18
	for b.Loop() {
		p, _ := New(Options{})
		src := Generate(p, "src", func(_ context.Context, emit func(uint64) error) error {
			for i := range uint64(n) {
				if err := emit(i); err != nil {
					return err
				}
			}
			return nil
		})
		m := OrderedMap(src, "work", workers, func(_ context.Context, v uint64) (uint64, error) { return work(v), nil })
		Reduce(context.Background(), m, 0, func(a, v uint64) uint64 { return a + v })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

func BenchmarkOrdered1(b *testing.B) { benchOrdered(b, 1) }
func BenchmarkOrdered2(b *testing.B) { benchOrdered(b, 2) }
func BenchmarkSequential(b *testing.B) {
	const n = 1 << 18
	var s uint64
	for b.Loop() {
		for i := range uint64(n) {
			s += work(i)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}
