package ring

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// queue is the method set shared by SPSC[uint64] and MPMC[uint64], so that
// one test body can run against both.
type queue interface {
	TryPush(v uint64) error
	TryPop() (uint64, error)
	TryPushBatch(vs []uint64) (int, error)
	TryPopBatch(dst []uint64) (int, error)
	Push(ctx context.Context, v uint64) error
	Pop(ctx context.Context) (uint64, error)
	PushBatch(ctx context.Context, vs []uint64) (int, error)
	PopBatch(ctx context.Context, dst []uint64) (int, error)
	Close()
	Closed() bool
	Len() int
	Cap() int
}

var (
	_ queue = (*SPSC[uint64])(nil)
	_ queue = (*MPMC[uint64])(nil)
)

// kind is a queue implementation under test.
type kind struct {
	name string
	spsc bool // one producer and one consumer at a time only
	make func(capacity int) (queue, error)
}

var kinds = []kind{
	{"SPSC", true, func(c int) (queue, error) { return NewSPSC[uint64](c) }},
	{"MPMC", false, func(c int) (queue, error) { return NewMPMC[uint64](c) }},
}

func (k kind) new(t testing.TB, capacity int) queue {
	t.Helper()
	q, err := k.make(capacity)
	if err != nil {
		t.Fatalf("New%s(%d): %v", k.name, capacity, err)
	}
	return q
}

// waiters returns the number of goroutines registered to wait for "not
// empty" (consumers) and "not full" (producers).
func waiters(q queue) (consumers, producers int) {
	switch q := q.(type) {
	case *SPSC[uint64]:
		return q.consumers.waiters.Len(), q.producers.waiters.Len()
	case *MPMC[uint64]:
		return q.consumers.waiters.Len(), q.producers.waiters.Len()
	}
	panic("unknown queue type")
}

// hangTimeout bounds every wait that only a bug could make endless.
const hangTimeout = 30 * time.Second

// waitFor polls cond until it holds, failing the test after hangTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangTimeout)
	for i := 0; !cond(); i++ {
		if i < 100 {
			runtime.Gosched()
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// waitParked waits until exactly c consumers and p producers are registered
// on q's waiter lists.
func waitParked(t testing.TB, q queue, c, p int) {
	t.Helper()
	waitFor(t, "goroutines to park", func() bool {
		gc, gp := waiters(q)
		return gc == c && gp == p
	})
}

// scaled returns n reduced for -short and for the race detector, never
// below 1.
func scaled(n int) int {
	if raceEnabled {
		n /= 8
	}
	if testing.Short() {
		n /= 8
	}
	return max(n, 1)
}
