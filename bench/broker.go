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
			{Name: "weft.Broker-pinned", Run: brokerRequest(true, false)},
			{Name: "weft.Broker", Run: brokerRequest(false, false)},
			{Name: "weft.Request-by-name", Run: brokerRequest(true, true)},
			{Name: "chan-unbuffered", Peer: true, Run: pingPongChan},
			{Name: "atomic-floor", Peer: true, Run: pingPongAtomic},
		},
	})
}

// brokerRequest measures Endpoint.Request (or, byName, the Request
// function, which looks the endpoint up first) against a broker whose
// worker is pinned or not. Pinning falls back to unpinned where the
// platform has no affinity.
func brokerRequest(pin, byName bool) func(int, *Recorder) {
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
		ctx := context.Background()
		for i := range uint64(n) {
			start := r.Now()
			var v uint64
			if byName {
				v, err = worker.Request[uint64, uint64](ctx, b, "inc", i)
			} else {
				v, err = ep.Request(ctx, i)
			}
			if err != nil || v != i+1 {
				panic("bench: broker reply lost")
			}
			r.Lap(start)
		}
	}
}
