package ring_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/weftlabs/weft/ring"
)

func ExampleNewSPSC() {
	q, err := ring.NewSPSC[string](3) // rounded up to 4
	if err != nil {
		panic(err)
	}
	fmt.Println("cap:", q.Cap())

	for _, s := range []string{"a", "b", "c", "d", "e"} {
		if err := q.TryPush(s); errors.Is(err, ring.ErrFull) {
			fmt.Println("full, dropped", s)
		}
	}
	for {
		s, err := q.TryPop()
		if errors.Is(err, ring.ErrEmpty) {
			break
		}
		fmt.Print(s, " ")
	}
	fmt.Println()
	// Output:
	// cap: 4
	// full, dropped e
	// a b c d
}

func ExampleNewMPMC() {
	_, err := ring.NewMPMC[int](0)
	fmt.Println(err)

	q, _ := ring.NewMPMC[int](1) // MPMC holds at least 2
	fmt.Println("cap:", q.Cap())
	// Output:
	// ring: invalid capacity: 0 (want 1..1073741824)
	// cap: 2
}

func ExampleMPMC_TryPushBatch() {
	q, _ := ring.NewMPMC[int](4)

	// A batch pushes the prefix that fits.
	n, err := q.TryPushBatch([]int{1, 2, 3, 4, 5, 6})
	fmt.Println("pushed", n, err)
	_, err = q.TryPushBatch([]int{7})
	fmt.Println(err)

	dst := make([]int, 3)
	n, _ = q.TryPopBatch(dst)
	fmt.Println("popped", dst[:n])
	n, _ = q.TryPopBatch(dst)
	fmt.Println("popped", dst[:n])
	// Output:
	// pushed 4 <nil>
	// ring: full
	// popped [1 2 3]
	// popped [4]
}

func ExampleSPSC_Close() {
	ctx := context.Background()
	q, _ := ring.NewSPSC[int](8)
	q.Push(ctx, 1)
	q.Push(ctx, 2)
	q.Close()

	fmt.Println(q.Push(ctx, 3)) // pushes fail at once
	for {
		v, err := q.Pop(ctx) // pops drain what is left
		if errors.Is(err, ring.ErrClosed) {
			fmt.Println("drained")
			break
		}
		fmt.Println(v)
	}
	// Output:
	// ring: closed
	// 1
	// 2
	// drained
}

// A producer goroutine hands work to a consumer through a small queue; the
// producer closes the queue when it is done, and the consumer stops once it
// has taken everything.
func Example() {
	ctx := context.Background()
	q, _ := ring.NewSPSC[int](2)

	go func() {
		for i := 1; i <= 5; i++ {
			if err := q.Push(ctx, i*i); err != nil { // waits while the queue is full
				panic(err)
			}
		}
		q.Close()
	}()

	sum := 0
	for {
		v, err := q.Pop(ctx) // waits while the queue is empty
		if err != nil {
			break // ring.ErrClosed: closed and drained
		}
		sum += v
	}
	fmt.Println("sum:", sum)
	// Output:
	// sum: 55
}

func ExampleMPMC_PopBatch() {
	ctx := context.Background()
	q, _ := ring.NewMPMC[string](16)

	done := make(chan struct{})
	go func() {
		defer close(done)
		q.PushBatch(ctx, []string{"x", "y", "z"})
		q.Close()
	}()
	<-done

	dst := make([]string, 8)
	for {
		n, err := q.PopBatch(ctx, dst)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(dst[:n])
	}
	// Output:
	// [x y z]
	// ring: closed
}
