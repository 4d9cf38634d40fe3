// Package affinity describes the machine's CPUs and pins goroutines to them.
//
// Detect reads the topology once: the online logical CPUs, how they group
// into physical cores, packages and NUMA nodes (from sysfs on Linux, from
// cpuid elsewhere), the cache sizes (cpuid), and the CPUs the process may
// run on (Allowed: taskset, cgroup cpusets, container limits). Its Plan
// spreads n workers over the allowed CPUs one physical core at a time, so
// that hyperthread siblings are shared only when every core is taken.
//
// Pin locks the calling goroutine to its OS thread and restricts the thread
// to one CPU; the returned undo restores the mask and unlocks the thread.
// A worker goroutine pins itself at the start and undoes at the end:
//
//	topo, err := affinity.Detect()
//	if err != nil {
//		return err
//	}
//	cpus, err := topo.Plan(workers)
//	if err != nil {
//		return err
//	}
//	for _, cpu := range cpus {
//		go func() {
//			undo, err := affinity.Pin(cpu)
//			if err == nil {
//				defer undo()
//			} // else run unpinned: errors.Is(err, affinity.ErrUnsupported) off Linux
//			work()
//		}()
//	}
//
// Pinning is a Linux feature (sched_setaffinity). Elsewhere Pin, PinSet,
// Current and ThreadAffinity return errors wrapping ErrUnsupported, Allowed
// returns every CPU, and Detect and Plan work from cpuid and the runtime's
// CPU count.
//
// A CPUSet holds CPU numbers below MaxCPUs (1024), and prints and parses in
// the kernel's cpulist format ("0-3,6").
package affinity
