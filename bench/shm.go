package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
	"github.com/weftlabs/weft/shm"
)

// The shm suite: messages between processes (shm_ipc.go), and large
// float64 data in an arena against the same on the Go heap (here).
func init() {
	Register(
		&Scenario{
			Suite: "shm", Name: "gc-live-float64",
			Doc: fmt.Sprintf("one forced GC cycle with %d MiB of float64 live (%s for 1 GiB)",
				gcLiveBytes()>>20, fullSizeEnv+"=1"),
			Latency: true,
			Impls: []Impl{
				{Name: "weft.shm.Arena", Run: gcArena, Quantum: gcQuantum},
				{Name: "go-heap", Peer: true, Run: gcHeap, Quantum: gcQuantum},
			},
		},
		&Scenario{
			Suite: "shm", Name: "triad-view",
			Doc: fmt.Sprintf("one element of a[i] = b[i] + 3*c[i] over 3 × %d MiB of float64, sched.ParallelFor on all workers",
				kernelLen()*8>>20),
			Impls: []Impl{
				{Name: "weft.shm.View", Run: kernelArena},
				{Name: "heap-slice", Peer: true, Run: kernelHeap},
			},
		},
	)
}

// gcQuantum is the fewest GC cycles a run of the GC scenario times: the
// heap implementation allocates and fills its data in every run (so that
// it is not live while the arena is measured), and the percentiles need
// enough cycles after that to mean something.
const gcQuantum = 50

// fullSizeEnv, set to 1, gives the GC scenario its full 1 GiB. The quick
// default keeps its one-time set-up (faulting the memory in) within the
// suite's time budget.
const fullSizeEnv = "WEFT_BENCH_SHM_FULL"

// gcLiveBytes is the size of the live data in the GC scenario: 1 GiB in a
// full run, 128 MiB by default (a GC cycle's cost does not grow with
// pointer-free data; faulting it in does), 16 MiB inside tests (where the
// race detector may shadow it).
func gcLiveBytes() int {
	switch {
	case testing.Testing():
		return 16 << 20
	case os.Getenv(fullSizeEnv) == "1":
		return 1 << 30
	}
	return 128 << 20
}

// fillFloat64 gives every element a value, faulting every page in.
func fillFloat64(xs []float64) {
	for i := range xs {
		xs[i] = float64(i)
	}
}

// The arena of the GC scenario is made on first use and kept: it is
// outside the Go heap, so it changes nothing for the other scenarios.
var (
	gcArenaOnce sync.Once
	gcArenaData []float64
)

func gcArenaView() []float64 {
	gcArenaOnce.Do(func() {
		gcArenaData = arenaFloat64s(gcLiveBytes() / 8)
	})
	return gcArenaData
}

// arenaFloat64s maps a private arena holding n float64s, filled, and
// returns the view. The arena stays mapped for the life of the process.
func arenaFloat64s(n int) []float64 {
	a, err := shm.New(n*8, shm.Options{HugePages: true})
	if err != nil {
		a, err = shm.New(n*8, shm.Options{}) // no transparent huge pages here
	}
	if err != nil {
		panic(err)
	}
	b, err := a.Alloc(n * 8)
	if err != nil {
		panic(err)
	}
	xs, err := shm.View[float64](b)
	if err != nil {
		panic(err)
	}
	fillFloat64(xs)
	return xs
}

// gcCycles times n forced GC cycles while live is reachable.
func gcCycles(n int, r *Recorder, live []float64) {
	for range n {
		start := r.Now()
		runtime.GC()
		r.Lap(start)
	}
	runtime.KeepAlive(live)
}

func gcArena(n int, r *Recorder) { gcCycles(n, r, gcArenaView()) }

// gcHeap allocates the data on the Go heap for this run only, so that it
// is not live while the arena is measured.
func gcHeap(n int, r *Recorder) {
	xs := make([]float64, gcLiveBytes()/8)
	fillFloat64(xs)
	gcCycles(n, r, xs)
}

// kernelLen is the length of each of the three arrays of the kernel
// scenario: 2^22 float64 (32 MiB each, 96 MiB in all, beyond the caches),
// 2^20 in tests.
func kernelLen() int {
	if testing.Testing() {
		return 1 << 20
	}
	return 1 << 22
}

var (
	kernelArenaOnce, kernelHeapOnce sync.Once
	kernelArenaData, kernelHeapData [3][]float64
)

func kernelArena(n int, _ *Recorder) {
	kernelArenaOnce.Do(func() {
		for i := range kernelArenaData {
			kernelArenaData[i] = arenaFloat64s(kernelLen())
		}
	})
	kernelOn(kernelArenaData, n)
}

func kernelHeap(n int, _ *Recorder) {
	kernelHeapOnce.Do(func() {
		for i := range kernelHeapData {
			kernelHeapData[i] = make([]float64, kernelLen())
			fillFloat64(kernelHeapData[i])
		}
	})
	kernelOn(kernelHeapData, n)
}

// kernelOn runs n elements of the triad over the arrays, in whole passes
// (a partial first one when n is smaller), split by sched.ParallelFor.
func kernelOn(arrays [3][]float64, n int) {
	s := newSched(false)
	defer s.Close()
	a, b, c := arrays[0], arrays[1], arrays[2]
	ctx := context.Background()
	for n > 0 {
		k := min(n, len(a))
		grain := max(4096, k/(s.Workers()*8))
		if err := sched.ParallelFor(ctx, s, 0, k, grain, func(_ *sched.Worker, lo, hi int) {
			triadKernel(a[lo:hi], b[lo:hi], c[lo:hi])
		}); err != nil {
			panic(err)
		}
		n -= k
	}
}

// Cross-process scenarios re-execute this binary as a child; the child's
// role, its operation count and (where there is no memfd) the arena's
// name travel in the environment.
const (
	childRoleEnv  = "WEFT_BENCH_CHILD"
	childCountEnv = "WEFT_BENCH_N"
	childArenaEnv = "WEFT_BENCH_ARENA"
)

// childArgs is what a child role gets: its operation count, and the
// files its parent handed it (fds 3, 4, … of a child process).
type childArgs struct {
	n     int
	file  func(i int) *os.File
	arena string // the name of a named arena, where there is no memfd
}

// childRoles are the roles a child can play, registered by the files that
// start children.
var childRoles = map[string]func(childArgs) error{}

// RunChildIfRequested makes this process the child of a cross-process
// scenario when the environment says so: it plays its role and exits. In
// any other process it returns at once. A program that runs the suite
// calls it first thing in main, before parsing flags.
func RunChildIfRequested() {
	role := os.Getenv(childRoleEnv)
	if role == "" {
		return
	}
	play := childRoles[role]
	if play == nil {
		fmt.Fprintf(os.Stderr, "bench: unknown child role %q\n", role)
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Getenv(childCountEnv))
	args := childArgs{n: n, arena: os.Getenv(childArenaEnv),
		file: func(i int) *os.File { return os.NewFile(uintptr(3+i), "inherited") }}
	if err := play(args); err != nil {
		fmt.Fprintf(os.Stderr, "bench: child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childTimeout bounds every wait of a cross-process scenario: a child that
// hangs or dies makes the run fail instead of hanging the suite.
const childTimeout = time.Minute

// child is the other side of a cross-process run: a process, or under the
// race detector (where starting an instrumented binary takes a quarter of
// a second) a goroutine playing the same role on the same memory and
// files.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

// startChild starts a child playing role with count n, handing it files
// (fds 3, 4, … of a process; the caller may close its copies once this
// returns) and, for a named arena, its name.
func startChild(role string, n int, files []*os.File, arena string) *child {
	if raceEnabled {
		dups := make([]*os.File, len(files))
		for i, f := range files {
			fd, err := syscall.Dup(int(f.Fd()))
			if err != nil {
				panic(err)
			}
			dups[i] = os.NewFile(uintptr(fd), f.Name())
		}
		c := &child{done: make(chan error, 1)}
		go func() {
			c.done <- childRoles[role](childArgs{n: n, arena: arena, file: func(i int) *os.File { return dups[i] }})
		}()
		return c
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	var args []string
	if testing.Testing() {
		// The test binary: TestShmChild calls RunChildIfRequested.
		args = []string{"-test.run=^TestShmChild$"}
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childRoleEnv+"="+role, childCountEnv+"="+strconv.Itoa(n))
	if arena != "" {
		cmd.Env = append(cmd.Env, childArenaEnv+"="+arena)
	}
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		panic(fmt.Sprintf("bench: start child %s: %v", role, err))
	}
	return &child{cmd: cmd}
}

// wait waits for the child to finish and panics if it failed.
func (c *child) wait() {
	var err error
	if c.cmd != nil {
		err = c.cmd.Wait()
	} else {
		err = <-c.done
	}
	if err != nil {
		panic(fmt.Sprintf("bench: child: %v", err))
	}
}
