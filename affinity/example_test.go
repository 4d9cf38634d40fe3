package affinity_test

import (
	"errors"
	"fmt"

	"github.com/weftlabs/weft/affinity"
)

func ExampleDetect() {
	topo, err := affinity.Detect()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d logical CPUs on %d cores, %d allowed: %s\n",
		topo.LogicalCPUs, topo.PhysicalCores, topo.Allowed.Len(), topo.Allowed)
	fmt.Printf("cache line %d B, L2 %d KiB\n", topo.CacheLine, topo.L2>>10)
}

func ExamplePin() {
	done := make(chan struct{})
	go func() { // a worker: pinned for its whole life
		defer close(done)
		undo, err := affinity.Pin(0)
		if errors.Is(err, affinity.ErrUnsupported) || errors.Is(err, affinity.ErrInvalidCPU) {
			fmt.Println("running unpinned:", err)
		} else if err != nil {
			panic(err)
		} else {
			defer undo()
		}
		cpu, _, _ := affinity.Current()
		fmt.Println("running on CPU", cpu)
	}()
	<-done
}

func ExampleTopology_Plan() {
	// Two cores with two hyperthreads each, siblings adjacent; CPU 1 is not
	// allowed (taskset -c 0,2,3).
	topo := &affinity.Topology{
		LogicalCPUs: 4, PhysicalCores: 2, ThreadsPerCore: 2,
		Allowed: affinity.CPUSetOf(0, 2, 3),
		CPUs:    []affinity.CPU{{ID: 0, Core: 0}, {ID: 1, Core: 0}, {ID: 2, Core: 1}, {ID: 3, Core: 1}},
	}
	fmt.Println(topo.PhysicalCoresAllowed())
	fmt.Println(topo.Plan(2))
	fmt.Println(topo.Plan(3))
	_, err := topo.Plan(4)
	fmt.Println(errors.Is(err, affinity.ErrTooMany), err)
	// Output:
	// 2
	// [0 2] <nil>
	// [0 2 3] <nil>
	// true affinity: more workers than allowed CPUs: 4 workers, 3 allowed CPUs (0,2-3)
}

func ExampleParseCPUList() {
	set, err := affinity.ParseCPUList("0-3,6\n") // as in /sys/devices/system/cpu/online
	fmt.Println(set, set.Len(), set.Has(6), err)
	_, err = affinity.ParseCPUList("3-1")
	fmt.Println(errors.Is(err, affinity.ErrCPUList), err)
	// Output:
	// 0-3,6 5 true <nil>
	// true affinity: malformed CPU list "3-1": range "3-1" runs backwards
}
