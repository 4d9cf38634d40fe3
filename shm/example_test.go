package shm_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"runtime"

	"github.com/weftlabs/weft/shm"
)

// A []float64 in an arena: off the Go heap, never scanned by the GC.
func ExampleView() {
	a, err := shm.New(1<<20, shm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	buf, err := a.Alloc(8 * 1000)
	if err != nil {
		log.Fatal(err)
	}
	xs, err := shm.View[float64](buf)
	if err != nil {
		log.Fatal(err)
	}
	for i := range xs {
		xs[i] = float64(i)
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	fmt.Println(len(xs), sum)
	// Output: 1000 499500
}

// Share gives a second handle on the same memory; Transfer moves it and
// detaches the old handle, as transferring an ArrayBuffer does.
func ExampleBuffer_Transfer() {
	a, err := shm.New(4096, shm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	buf, _ := a.Alloc(64)
	shared, _ := buf.Share()
	b, _ := buf.Bytes()
	b[0] = 7
	s, _ := shared.Bytes()
	fmt.Println("shared sees", s[0])

	moved, _ := buf.Transfer()
	_, err = buf.Bytes()
	fmt.Println("old length", buf.Len(), "detached:", errors.Is(err, shm.ErrDetached))
	fmt.Println("new length", moved.Len())
	// Output:
	// shared sees 7
	// old length 0 detached: true
	// new length 64
}

// A pool of message buffers: blocks come and go without garbage.
func ExamplePool() {
	a, err := shm.New(1<<16, shm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	pool, err := a.NewPool(256, 4)
	if err != nil {
		log.Fatal(err)
	}
	var held []*shm.Buffer
	for {
		b, err := pool.Get()
		if errors.Is(err, shm.ErrNoSpace) {
			break
		}
		held = append(held, b)
	}
	fmt.Println("blocks:", len(held))
	for _, b := range held {
		b.Release()
	}
	_, err = pool.Get()
	fmt.Println("after release:", err)
	// Output:
	// blocks: 4
	// after release: <nil>
}

// A ring of byte records in an arena. Here both ends are in one process;
// with a shared arena (Create or CreateMemfd) the other end opens the ring
// with OpenRing in another process, and records cross without a system
// call.
func ExampleRing() {
	a, err := shm.New(1<<16, shm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	r, err := shm.NewRing(a, 4096)
	if err != nil {
		log.Fatal(err)
	}
	a.SetRoot(0, r.Offset()) // where another process would find it

	p, _ := r.Producer()
	c, _ := r.Consumer()
	ctx := context.Background()
	for _, msg := range []string{"hello", "", "zero-copy"} {
		if err := p.Push(ctx, []byte(msg)); err != nil {
			log.Fatal(err)
		}
	}
	p.Close()
	for {
		rec, err := c.Pop(ctx, nil)
		if errors.Is(err, shm.ErrClosed) {
			break
		}
		fmt.Printf("%q\n", rec)
	}
	// Output:
	// "hello"
	// ""
	// "zero-copy"
}

// Wait and Notify on a word of an arena: Atomics.wait and Atomics.notify,
// across processes when the arena is shared.
func ExampleWait() {
	a, err := shm.New(4096, shm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	lo, _ := a.Data()
	word, _ := a.Uint32(lo)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for word.Load() == 0 {
			err := shm.Wait(context.Background(), word, 0)
			if errors.Is(err, shm.ErrUnsupported) {
				runtime.Gosched() // no futex here: poll
			} else if err != nil {
				log.Fatal(err)
			}
		}
		fmt.Println("woken, word =", word.Load())
	}()
	word.Store(1)
	if _, err := shm.Notify(word, 1); err != nil && !errors.Is(err, shm.ErrUnsupported) {
		log.Fatal(err)
	}
	<-done
	// Output: woken, word = 1
}
