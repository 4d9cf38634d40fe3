package bench

import (
	"context"
	"fmt"
	"sync"

	"github.com/weftlabs/weft/ring"
)

// ringCap is the capacity of every queue and buffered channel in the ring
// suite, so that both sides have the same slack.
const ringCap = 1024

func init() {
	Register(
		&Scenario{
			Suite: "ring", Name: "spsc-1p1c",
			Doc: "one 8-byte item from one producer goroutine to one consumer goroutine",
			Impls: []Impl{
				{Name: "weft.SPSC", Run: spscSingle},
				{Name: "chan", Peer: true, Run: chanSingle},
			},
		},
		spscBatchScenario(64),
		spscBatchScenario(256),
		mpmcScenario(2, 2),
		mpmcScenario(4, 4),
	)
}

func spscSingle(n int, _ *Recorder) {
	q, _ := ring.NewSPSC[uint64](ringCap)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if err := q.Push(ctx, uint64(i)); err != nil {
				panic(err)
			}
		}
	})
	var sum uint64
	for range n {
		v, err := q.Pop(ctx)
		if err != nil {
			panic(err)
		}
		sum += v
	}
	wg.Wait()
	checkSum(sum, n)
}

func spscBatchScenario(batch int) *Scenario {
	return &Scenario{
		Suite: "ring", Name: fmt.Sprintf("spsc-1p1c-batch%d", batch),
		Doc: fmt.Sprintf("one 8-byte item, moved in batches of %d, one producer to one consumer", batch),
		Impls: []Impl{
			{Name: "weft.SPSC", Run: func(n int, _ *Recorder) { spscBatch(n, batch) }},
			{Name: "chan", Peer: true, Run: chanSingle},
			{Name: fmt.Sprintf("chan-of-%d", batch), Peer: true, Run: func(n int, _ *Recorder) { chanOfBatches(n, batch) }},
		},
	}
}

func spscBatch(n, batch int) {
	q, _ := ring.NewSPSC[uint64](ringCap)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]uint64, batch)
		for i := 0; i < n; {
			k := min(batch, n-i)
			for j := range k {
				buf[j] = uint64(i + j)
			}
			if _, err := q.PushBatch(ctx, buf[:k]); err != nil {
				panic(err)
			}
			i += k
		}
	})
	var sum uint64
	buf := make([]uint64, batch)
	for got := 0; got < n; {
		k, err := q.PopBatch(ctx, buf)
		if err != nil {
			panic(err)
		}
		for _, v := range buf[:k] {
			sum += v
		}
		got += k
	}
	wg.Wait()
	checkSum(sum, n)
}

func chanSingle(n int, _ *Recorder) {
	ch := make(chan uint64, ringCap)
	go func() {
		for i := range n {
			ch <- uint64(i)
		}
		close(ch)
	}()
	var sum uint64
	for v := range ch {
		sum += v
	}
	checkSum(sum, n)
}

// chanOfBatches is the channel idiom for batching: a channel of slices,
// recycled through a second channel so that it allocates nothing per batch,
// with the same number of items in flight as the ring.
func chanOfBatches(n, batch int) {
	slots := max(ringCap/batch, 1)
	full, free := make(chan []uint64, slots), make(chan []uint64, slots+1)
	for range slots + 1 {
		free <- make([]uint64, batch)
	}
	go func() {
		for i := 0; i < n; i += batch {
			buf := (<-free)[:min(batch, n-i)]
			for j := range buf {
				buf[j] = uint64(i + j)
			}
			full <- buf
		}
		close(full)
	}()
	var sum uint64
	for buf := range full {
		for _, v := range buf {
			sum += v
		}
		free <- buf[:cap(buf)]
	}
	checkSum(sum, n)
}

func mpmcScenario(p, c int) *Scenario {
	return &Scenario{
		Suite: "ring", Name: fmt.Sprintf("mpmc-%dp%dc", p, c),
		Doc: fmt.Sprintf("one 8-byte item through a shared queue, %d producers and %d consumers", p, c),
		Impls: []Impl{
			{Name: "weft.MPMC", Run: func(n int, _ *Recorder) { mpmc(n, p, c) }},
			{Name: "chan", Peer: true, Run: func(n int, _ *Recorder) { chanMPMC(n, p, c) }},
		},
	}
}

// share splits n operations among k goroutines; goroutine i does share(n,k,i).
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

func mpmc(n, producers, consumers int) {
	q, _ := ring.NewMPMC[uint64](ringCap)
	ctx := context.Background()
	var prod, cons sync.WaitGroup
	for p := range producers {
		prod.Go(func() {
			for i := range share(n, producers, p) {
				if err := q.Push(ctx, uint64(i)); err != nil {
					panic(err)
				}
			}
		})
	}
	sums := make([]paddedSum, consumers)
	for c := range consumers {
		cons.Go(func() {
			var sum uint64
			for {
				v, err := q.Pop(ctx)
				if err != nil {
					break
				}
				sum += v
			}
			sums[c].v = sum
		})
	}
	prod.Wait()
	q.Close()
	cons.Wait()
	checkShares(sums, n, producers)
}

func chanMPMC(n, producers, consumers int) {
	ch := make(chan uint64, ringCap)
	var prod, cons sync.WaitGroup
	for p := range producers {
		prod.Go(func() {
			for i := range share(n, producers, p) {
				ch <- uint64(i)
			}
		})
	}
	sums := make([]paddedSum, consumers)
	for c := range consumers {
		cons.Go(func() {
			var sum uint64
			for v := range ch {
				sum += v
			}
			sums[c].v = sum
		})
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	checkShares(sums, n, producers)
}

// paddedSum keeps consumers' running sums on separate cache lines.
type paddedSum struct {
	v uint64
	_ [120]byte
}

// checkSum panics unless sum is 0+1+…+(n-1): a benchmark that loses or
// duplicates items must not report a time.
func checkSum(sum uint64, n int) {
	if want := uint64(n) * uint64(n-1) / 2; sum != want {
		panic(fmt.Sprintf("bench: items lost or duplicated: sum %d, want %d", sum, want))
	}
}

func checkShares(sums []paddedSum, n, producers int) {
	var got, want uint64
	for _, s := range sums {
		got += s.v
	}
	for p := range producers {
		k := uint64(share(n, producers, p))
		want += k * (k - 1) / 2
	}
	if got != want {
		panic(fmt.Sprintf("bench: items lost or duplicated: sum %d, want %d", got, want))
	}
}
