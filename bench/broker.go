package bench

import (
	"context"

	"github.com/weftlabs/weft/worker"
)

func init() {
	Register(&Scenario{
		Suite: "worker", Name: "request",
		Doc:     "round trip of one 8-byte request to a broker's worker and its reply",
		Latency: true,
		Impls: []Impl{
			{Name: "weft.Client-pinned", Run: brokerRequest(true, viaClient)},
			{Name: "weft.Endpoint-pinned", Run: brokerRequest(true, viaEndpoint)},
			{Name: "weft.Request-by-name", Run: brokerRequest(true, viaName)},
			{Name: "weft.Client-unpinned", Run: brokerRequest(false, viaClient)},
			{Name: "chan-unbuffered", Peer: true, Run: pingPongChan},
			{Name: "atomic-floor", Peer: true, Run: pingPongAtomic},
		},
	})
}

// How a broker request is made: through a Client (its own reply cell),
// an Endpoint (a pooled reply cell), or by name (the Request function,
// which looks the endpoint up first).
const (
	viaClient = iota
	viaEndpoint
	viaName
)

// brokerRequest measures one way of requesting against a broker whose
// worker is pinned or not. Pinning falls back to unpinned where the
// platform has no affinity.
func brokerRequest(pin bool, via int) func(int, *Recorder) {
	return func(n int, r *Recorder) {
		b, err := worker.NewBroker(worker.BrokerOptions{Pin: pin, Name: "bench"})
		if err != nil && pin {
			b, err = worker.NewBroker(worker.BrokerOptions{Name: "bench"})
		}
		if err != nil {
			panic(err)
		}
		defer b.Close()
		ep, err := worker.Handle(b, "inc", func(_ context.Context, v uint64) (uint64, error) { return v + 1, nil })
		if err != nil {
			panic(err)
		}
		cl := ep.Client()
		ctx := context.Background()
		for i := range uint64(n) {
			start := r.Now()
			var v uint64
			switch via {
			case viaClient:
				v, err = cl.Request(ctx, i)
			case viaEndpoint:
				v, err = ep.Request(ctx, i)
			default:
				v, err = worker.Request[uint64, uint64](ctx, b, "inc", i)
			}
			if err != nil || v != i+1 {
				panic("bench: broker reply lost")
			}
			r.Lap(start)
		}
	}
}
