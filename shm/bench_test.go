package shm

import (
	"context"
	"sync"
	"testing"
)

// BenchmarkRingStream streams 64-byte records from one goroutine to
// another through a 64 KiB ring.
func BenchmarkRingStream(b *testing.B) {
	_, p, c := newRing(b, 1<<16)
	ctx := context.Background()
	msg := make([]byte, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		dst := make([]byte, 0, 64)
		for {
			var err error
			if dst, err = c.Pop(ctx, dst[:0]); err != nil {
				return
			}
		}
	})
	n := 0
	for b.Loop() {
		if err := p.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	p.Close()
	wg.Wait()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

// BenchmarkRingPingPong is a round trip of one 64-byte record through two
// rings.
func BenchmarkRingPingPong(b *testing.B) {
	_, p1, c1 := newRing(b, 1<<12)
	_, p2, c2 := newRing(b, 1<<12)
	ctx := context.Background()
	msg := make([]byte, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		dst := make([]byte, 0, 64)
		for {
			var err error
			if dst, err = c1.Pop(ctx, dst[:0]); err != nil {
				p2.Close()
				return
			}
			if err := p2.Push(ctx, dst); err != nil {
				return
			}
		}
	})
	dst := make([]byte, 0, 64)
	for b.Loop() {
		if err := p1.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
		var err error
		if dst, err = c2.Pop(ctx, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	p1.Close()
	wg.Wait()
}
