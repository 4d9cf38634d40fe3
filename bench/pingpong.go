package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/weftlabs/weft/ring"
)

func init() {
	Register(&Scenario{
		Suite: "ring", Name: "pingpong",
		Doc:     "round trip of one 8-byte item to another goroutine and back",
		Latency: true,
		Impls: []Impl{
			{Name: "weft.SPSC", Run: pingPongRing(func() (queue, queue) { return newSPSC(), newSPSC() })},
			{Name: "weft.MPMC", Run: pingPongRing(func() (queue, queue) { return newMPMC(), newMPMC() })},
			{Name: "chan-unbuffered", Peer: true, Run: pingPongChan},
			{Name: "atomic-floor", Peer: true, Run: pingPongAtomic},
		},
	})
}

type queue interface {
	Push(context.Context, uint64) error
	Pop(context.Context) (uint64, error)
	Close()
}

func newSPSC() queue { q, _ := ring.NewSPSC[uint64](8); return q }
func newMPMC() queue { q, _ := ring.NewMPMC[uint64](8); return q }

func pingPongRing(mk func() (queue, queue)) func(int, *Recorder) {
	return func(n int, r *Recorder) {
		req, resp := mk()
		ctx := context.Background()
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				v, err := req.Pop(ctx)
				if err != nil {
					resp.Close()
					return
				}
				if err := resp.Push(ctx, v+1); err != nil {
					panic(err)
				}
			}
		})
		for i := range n {
			start := r.Now()
			if err := req.Push(ctx, uint64(i)); err != nil {
				panic(err)
			}
			if v, err := resp.Pop(ctx); err != nil || v != uint64(i)+1 {
				panic("bench: ping-pong reply lost")
			}
			r.Lap(start)
		}
		req.Close()
		wg.Wait()
	}
}

func pingPongChan(n int, r *Recorder) {
	req, resp := make(chan uint64), make(chan uint64)
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := range req {
			resp <- v + 1
		}
	})
	for i := range n {
		start := r.Now()
		req <- uint64(i)
		if v := <-resp; v != uint64(i)+1 {
			panic("bench: ping-pong reply lost")
		}
		r.Lap(start)
	}
	close(req)
	wg.Wait()
}

// pingPongAtomic is the floor: one cache line bouncing between two
// spinning cores, one atomic store each way. Odd values are pings, even
// values pongs; stop tells the echo goroutine to return.
func pingPongAtomic(n int, r *Recorder) {
	const stop = ^uint64(0)
	var line struct {
		_ [64]byte
		v atomic.Uint64
		_ [120]byte
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for last := uint64(0); ; {
			v := spinUntil(&line.v, func(v uint64) bool { return v != last })
			if v == stop {
				return
			}
			last = v + 1
			line.v.Store(last)
		}
	})
	for i := range n {
		start := r.Now()
		ping := 2*uint64(i) + 1
		line.v.Store(ping)
		spinUntil(&line.v, func(v uint64) bool { return v == ping+1 })
		r.Lap(start)
	}
	line.v.Store(stop)
	wg.Wait()
}

// spinUntil polls a until ok accepts its value, yielding the processor now
// and then so that it cannot starve its peer when GOMAXPROCS is 1.
func spinUntil(a *atomic.Uint64, ok func(uint64) bool) uint64 {
	for i := 1; ; i++ {
		if v := a.Load(); ok(v) {
			return v
		}
		if i%4096 == 0 {
			runtime.Gosched()
		}
	}
}
