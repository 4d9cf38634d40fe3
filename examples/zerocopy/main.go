// Command zerocopy is the guide's section 4, "Zero-Copy Data Transfer", in
// Go: a 1 MiB buffer transferred to a worker (the sender's handle is
// detached), a million float64s shared with a worker that processes them
// in parallel where they lie, and a batch transfer of three buffers. The
// memory is an shm arena: off the Go heap, never scanned by the GC, never
// copied.
//
//	go run ./examples/zerocopy
package main

import (
	"context"
	"fmt"
	"log"
	"unsafe"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/shm"
	"github.com/weftlabs/weft/worker"
)

func main() {
	ctx := context.Background()
	arena, err := shm.New(64<<20, shm.Options{}) // the SharedArrayBuffer: 64 MiB off the Go heap
	if err != nil {
		log.Fatal(err)
	}
	defer arena.Close()

	// The ZeroCopyWorker: a long-lived worker with a mailbox.
	b, err := worker.NewBroker(worker.BrokerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	// A scheduler for the parallel kernel of processLargeData.
	s, err := sched.New(sched.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// transferBuffer: the handler owns what it receives.
	must(worker.Handle(b, "checksum", func(ctx context.Context, buf *shm.Buffer) (string, error) {
		defer buf.Release()
		bs, err := buf.Bytes()
		if err != nil {
			return "", err
		}
		var sum uint32
		for _, c := range bs {
			sum = sum*31 + uint32(c)
		}
		return fmt.Sprintf("%d bytes at %p, checksum %08x", len(bs), unsafe.SliceData(bs), sum), nil
	}))
	// processLargeData: the float64s stay where they are; the worker
	// squares them in place on every core.
	must(worker.Handle(b, "square", func(ctx context.Context, buf *shm.Buffer) (float64, error) {
		defer buf.Release()
		xs, err := shm.View[float64](buf)
		if err != nil {
			return 0, err
		}
		if err := sched.ParallelFor(ctx, s, 0, len(xs), 0, func(_ *sched.Worker, lo, hi int) {
			for i := lo; i < hi; i++ {
				xs[i] *= xs[i]
			}
		}); err != nil {
			return 0, err
		}
		return sched.ReduceOrdered(ctx, s, xs, 0, func() float64 { return 0 },
			func(acc, x float64) float64 { return acc + x },
			func(a, b float64) float64 { return a + b })
	}))
	// transferMultiple
	must(worker.Handle(b, "sizes", func(ctx context.Context, bufs []*shm.Buffer) (int, error) {
		total := 0
		for _, buf := range bufs {
			total += buf.Len()
			buf.Release()
		}
		return total, nil
	}))

	// const buffer = new ArrayBuffer(1024 * 1024)
	buffer, err := arena.Alloc(1 << 20)
	if err != nil {
		log.Fatal(err)
	}
	bs, _ := buffer.Bytes()
	for i := range bs {
		bs[i] = byte(i)
	}
	fmt.Printf("sender:  %d bytes at %p\n", len(bs), unsafe.SliceData(bs))
	processed, err := worker.TransferRequest[string](ctx, b, "checksum", buffer)
	if err != nil {
		log.Fatal(err)
	}
	_, useErr := buffer.Bytes()
	fmt.Printf("worker:  %s\nsender's handle after the transfer: length %d, use: %v\n", processed, buffer.Len(), useErr)

	// const data = new Float64Array(1000000), shared with the worker.
	data, err := arena.Alloc(8 * 1_000_000)
	if err != nil {
		log.Fatal(err)
	}
	xs, err := shm.View[float64](data)
	if err != nil {
		log.Fatal(err)
	}
	for i := range xs {
		xs[i] = float64(i%100) / 10
	}
	sum, err := worker.ShareRequest[float64](ctx, b, "square", data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("shared:  sum of squares %.1f; the sender sees xs[99] = %.2f (was 9.9)\n", sum, xs[99])

	// const buffers = [buffer1, buffer2, buffer3]
	var buffers []*shm.Buffer
	for _, n := range []int{4096, 8192, 16384} {
		buf, err := arena.Alloc(n)
		if err != nil {
			log.Fatal(err)
		}
		buffers = append(buffers, buf)
	}
	moved, err := worker.TransferAll(buffers...)
	if err != nil {
		log.Fatal(err)
	}
	total, err := worker.Request[[]*shm.Buffer, int](ctx, b, "sizes", moved)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("batch:   %d buffers, %d bytes transferred; senders detached: %v %v %v\n",
		len(moved), total, buffers[0].Detached(), buffers[1].Detached(), buffers[2].Detached())
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
