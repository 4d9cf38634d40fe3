package bench

import (
	"context"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"

	"github.com/weftlabs/weft/worker"
)

func init() {
	Register(&Scenario{
		Suite: "worker", Name: "pool-map",
		Doc: "one input of a typed pool's Map (a tiny handler, results in input order)",
		Impls: []Impl{
			{Name: "weft.Pool", Run: poolMapWeft},
			{Name: "ants", Peer: true, Run: poolMapAnts},
			{Name: "pond", Peer: true, Run: poolMapPond},
		},
	})
}

func tinyHandler(_ context.Context, x uint64) (uint64, error) { return tiny(x), nil }

// poolInputs is the Map input, allocated once per size.
func poolInputs(n int) []uint64 {
	in := make([]uint64, n)
	for i := range in {
		in[i] = uint64(i) + 1
	}
	return in
}

func poolMapWeft(n int, _ *Recorder) {
	p, err := worker.NewPool(tinyHandler, worker.PoolOptions{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	out, err := p.Map(context.Background(), poolInputs(n), worker.MapOptions{})
	if err != nil || len(out) != n {
		panic(err)
	}
}

func poolMapAnts(n int, _ *Recorder) {
	in := poolInputs(n)
	out := make([]uint64, n)
	var wg sync.WaitGroup
	p, err := ants.NewPoolWithFuncGeneric(workers(), func(i int) {
		out[i], _ = tinyHandler(context.Background(), in[i])
		wg.Done()
	})
	if err != nil {
		panic(err)
	}
	wg.Add(n)
	for i := range n {
		if err := p.Invoke(i); err != nil {
			panic(err)
		}
	}
	wg.Wait()
	if err := p.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
}

func poolMapPond(n int, _ *Recorder) {
	in := poolInputs(n)
	out := make([]uint64, n)
	p := pond.NewPool(workers())
	for i := range n {
		p.Submit(func() { out[i], _ = tinyHandler(context.Background(), in[i]) })
	}
	p.StopAndWait()
}
