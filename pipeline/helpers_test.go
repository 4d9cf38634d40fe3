package pipeline

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/weftlabs/weft/sched"
)

// config is one way of running the same pipeline.
type config struct {
	name  string
	opt   Options
	sch   bool // run parallel stages on a scheduler
	procs int  // GOMAXPROCS for the test, if set (one CPU: every chain fuses whole)
}

var configs = []config{
	{name: "default"},
	{name: "nofusion", opt: Options{NoFusion: true}},
	{name: "small", opt: Options{Capacity: 16, Batch: 4, Window: 3}},
	{name: "sched", sch: true},
	{name: "1cpu", procs: 1},
}

// newPipeline makes a pipeline for c, with a scheduler when c asks for
// one (closed when the test ends).
func newPipeline(t testing.TB, c config) *Pipeline {
	t.Helper()
	opt := c.opt
	if c.procs > 0 {
		old := runtime.GOMAXPROCS(c.procs)
		t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	}
	if c.sch {
		s, err := sched.New(sched.Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		opt.Scheduler = s
	}
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNew(t testing.TB, opt Options) *Pipeline {
	t.Helper()
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hash mixes v into pseudo-random bits (splitmix64's finaliser).
func hash(v uint64) uint64 {
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	return v ^ v>>31
}

// jitter delays item v (of stage salt) by a pseudo-random amount: mostly
// nothing, sometimes a yield, rarely a spin of up to ~20µs. It never
// blocks, so it may run on a scheduler's CPU workers.
func jitter(v, salt uint64) {
	h := hash(v ^ salt*0x9e3779b97f4a7c15)
	switch {
	case h%1024 == 0:
		spin(time.Duration(h>>20%20) * time.Microsecond)
	case h%64 == 1:
		runtime.Gosched()
	}
}

func spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

func ints(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

func ident[T any](_ context.Context, v T) (T, error) { return v, nil }

// hangTimeout bounds waits that only a bug could make endless.
const hangTimeout = 30 * time.Second
