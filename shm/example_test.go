package shm_test

import (
	"errors"
	"fmt"
	"log"

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
