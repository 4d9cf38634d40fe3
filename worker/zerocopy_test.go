package worker

import (
	"context"
	"errors"
	"testing"
	"unsafe"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/shm"
)

func newZeroCopyBroker(t *testing.T) (*Broker, *shm.Arena) {
	t.Helper()
	a, err := shm.New(16<<20, shm.Options{})
	if errors.Is(err, shm.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBroker(BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		a.Close()
	})
	return b, a
}

// addr is where a buffer's memory starts: equal addresses on both sides
// of a request mean nothing was copied.
func addr(t *testing.T, b *shm.Buffer) uintptr {
	t.Helper()
	p, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(p)))
}

func TestTransferRequest(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	var seen uintptr
	if _, err := Handle(b, "double", func(ctx context.Context, buf *shm.Buffer) (float64, error) {
		defer buf.Release()
		seen = addr(t, buf)
		xs, err := shm.View[float64](buf)
		if err != nil {
			return 0, err
		}
		var sum float64
		for i := range xs {
			xs[i] *= 2
			sum += xs[i]
		}
		return sum, nil
	}); err != nil {
		t.Fatal(err)
	}
	buf, err := a.Alloc(8 * 1024)
	if err != nil {
		t.Fatal(err)
	}
	xs, err := shm.View[float64](buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range xs {
		xs[i] = 1
	}
	at := addr(t, buf)
	sum, err := TransferRequest[float64](context.Background(), b, "double", buf)
	if err != nil || sum != 2048 {
		t.Fatalf("TransferRequest = %v, %v", sum, err)
	}
	if seen != at {
		t.Fatalf("the handler saw memory at %#x, the sender's was at %#x: copied", seen, at)
	}
	if !buf.Detached() || buf.Len() != 0 {
		t.Fatal("the sender's handle is still attached after a transfer")
	}
	if _, err := buf.Bytes(); !errors.Is(err, shm.ErrDetached) {
		t.Fatalf("use after transfer: %v, want ErrDetached", err)
	}
	if _, err := TransferRequest[float64](context.Background(), b, "double", buf); !errors.Is(err, shm.ErrDetached) {
		t.Fatalf("transferring a detached buffer: %v", err)
	}
}

func TestTransferRequestRefusedReleases(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	p, err := a.NewPool(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	buf, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TransferRequest[int](context.Background(), b, "nobody", buf); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("unknown type: %v", err)
	}
	if !buf.Detached() {
		t.Fatal("the sender's handle is attached after a refused transfer")
	}
	// The refused block went back to its pool: the pool's only block can
	// be taken again.
	again, err := p.Get()
	if err != nil {
		t.Fatalf("the refused block was not released: %v", err)
	}
	again.Release()
}

func TestShareRequest(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	if _, err := Handle(b, "fill", func(ctx context.Context, buf *shm.Buffer) (int, error) {
		defer buf.Release()
		bs, err := buf.Bytes()
		if err != nil {
			return 0, err
		}
		for i := range bs {
			bs[i] = 7
		}
		return len(bs), nil
	}); err != nil {
		t.Fatal(err)
	}
	buf, err := a.Alloc(4096)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ShareRequest[int](context.Background(), b, "fill", buf)
	if err != nil || n != 4096 {
		t.Fatalf("ShareRequest = %d, %v", n, err)
	}
	bs, err := buf.Bytes()
	if err != nil {
		t.Fatalf("the sender's handle after a share: %v", err)
	}
	for i, v := range bs {
		if v != 7 {
			t.Fatalf("byte %d = %d: the handler's writes are not visible to the sender", i, v)
		}
	}
}

func TestTransferAll(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	if _, err := Handle(b, "lengths", func(ctx context.Context, bufs []*shm.Buffer) (int, error) {
		total := 0
		for _, buf := range bufs {
			total += buf.Len()
			buf.Release()
		}
		return total, nil
	}); err != nil {
		t.Fatal(err)
	}
	var bufs []*shm.Buffer
	for _, n := range []int{128, 256, 512} {
		buf, err := a.Alloc(n)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, buf)
	}
	moved, err := TransferAll(bufs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, buf := range bufs {
		if !buf.Detached() {
			t.Fatalf("buffer %d still attached", i)
		}
	}
	total, err := Request[[]*shm.Buffer, int](context.Background(), b, "lengths", moved)
	if err != nil || total != 896 {
		t.Fatalf("lengths = %d, %v", total, err)
	}
	// All or none: a detached buffer among them moves none of the others.
	fresh, err := a.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TransferAll(fresh, bufs[0]); !errors.Is(err, shm.ErrDetached) {
		t.Fatalf("TransferAll with a detached buffer: %v", err)
	}
	if fresh.Detached() {
		t.Fatal("TransferAll detached a buffer although it failed")
	}
}

// TestPoolOverArena processes a large []float64 that lives in an arena
// with a pool's handler running a parallel kernel on the pool's own
// scheduler: the guide's processLargeData.
func TestPoolOverArena(t *testing.T) {
	_, a := newZeroCopyBroker(t)
	const n = 1 << 18
	buf, err := a.Alloc(8 * n)
	if err != nil {
		t.Fatal(err)
	}
	xs, err := shm.View[float64](buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range xs {
		xs[i] = float64(i)
	}
	p, err := NewPool(func(ctx context.Context, buf *shm.Buffer) (float64, error) {
		xs, err := shm.View[float64](buf)
		if err != nil {
			return 0, err
		}
		w, ok := CurrentWorker(ctx)
		if !ok {
			return 0, ErrNotOnWorker
		}
		return sched.ReduceOrdered(ctx, w, xs, 4096, func() float64 { return 0 },
			func(acc, x float64) float64 { return acc + x },
			func(a, b float64) float64 { return a + b })
	}, PoolOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	share, err := buf.Share()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Execute(context.Background(), share)
	if want := float64(n) * float64(n-1) / 2; err != nil || sum != want {
		t.Fatalf("sum = %v, %v; want %v", sum, err, want)
	}
}
