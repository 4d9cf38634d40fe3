package shm

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"
)

// sharedArena creates an arena to share with a child: a memfd on Linux
// (byName false), else a named one.
func sharedArena(t testing.TB, size int, byName bool) *Arena {
	t.Helper()
	var a *Arena
	var err error
	if byName || runtime.GOOS != "linux" {
		name := uniqueName(t)
		a, err = Create(name, size, Options{})
		t.Cleanup(func() { Remove(name) })
	} else {
		a, err = CreateMemfd(size, Options{})
	}
	must(t, "create shared arena", err)
	t.Cleanup(func() { a.Close() })
	return a
}

// withRings lays out the down and up rings and publishes them in the
// root slots the child reads.
func withRings(t testing.TB, a *Arena, capacity int) (down, up *Ring) {
	t.Helper()
	down, err := NewRing(a, capacity)
	must(t, "NewRing", err)
	up, err = NewRing(a, capacity)
	must(t, "NewRing", err)
	must(t, "SetRoot", a.SetRoot(rootDown, down.Offset()))
	must(t, "SetRoot", a.SetRoot(rootUp, up.Offset()))
	return down, up
}

// waitChild waits for the child and fails the test unless it succeeded.
func waitChild(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

// The parent streams records down to a child, which checks each and
// echoes it up; the parent checks what comes back. Millions of records,
// through a ring small enough to wrap and fill all the time: every one
// arrives exactly once, in order, intact, both ways.
func TestStressRingAcrossProcesses(t *testing.T) {
	for _, byName := range []bool{false, true} {
		name := "memfd"
		if byName || runtime.GOOS != "linux" {
			name = "named"
		}
		t.Run(name, func(t *testing.T) {
			n := uint64(scaled(2_000_000))
			if byName {
				n = uint64(scaled(200_000))
			}
			a := sharedArena(t, 1<<20, byName)
			down, up := withRings(t, a, 1<<16)
			p, err := down.Producer()
			must(t, "Producer", err)
			c, err := up.Consumer()
			must(t, "Consumer", err)
			cmd := startChild(t, a, "echo", n)

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			wg.Go(func() {
				var buf []byte
				for i := range n {
					if err := p.Push(ctx, record(buf, i)); err != nil {
						t.Errorf("push %d: %v", i, err)
						break
					}
				}
				p.Close()
			})
			var buf, want []byte
			var i uint64
			for ; ; i++ {
				rec, err := c.Pop(ctx, buf[:0])
				if errors.Is(err, ErrClosed) {
					break
				}
				if err != nil {
					t.Fatalf("pop %d: %v", i, err)
				}
				if err := checkRecord(rec, i, want); err != nil {
					t.Fatal(err)
				}
				buf = rec
			}
			wg.Wait()
			waitChild(t, cmd)
			if i != n {
				t.Fatalf("%d records came back, want %d", i, n)
			}
		})
	}
}

// A producer killed in the middle of its stream: the consumer gets an
// unbroken prefix of the stream, then ErrPeerDead — no corrupt record, no
// hang. The child is not reaped until then, so it is a zombie when the
// consumer looks.
func TestRingProducerKilled(t *testing.T) {
	a := sharedArena(t, 1<<20, false)
	_, up := withRings(t, a, 1<<12)
	c, err := up.Consumer()
	must(t, "Consumer", err)
	cmd := startChild(t, a, "produce", 1<<62)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf, want []byte
	killAt := uint64(scaled(100_000))
	var i uint64
	for ; ; i++ {
		if i == killAt {
			must(t, "kill", cmd.Process.Kill())
		}
		rec, err := c.Pop(ctx, buf[:0])
		if errors.Is(err, ErrPeerDead) {
			break
		}
		if err != nil {
			t.Fatalf("pop %d: %v", i, err)
		}
		if err := checkRecord(rec, i, want); err != nil {
			t.Fatal(err)
		}
		buf = rec
	}
	if i < killAt {
		t.Fatalf("peer reported dead after %d records, before it was killed at %d", i, killAt)
	}
	cmd.Wait()
	// The dead producer's side can be taken over.
	p, err := up.Producer()
	must(t, "Producer after the old one died", err)
	must(t, "Push", p.TryPush(record(nil, i)))
	rec, err := c.TryPop(nil)
	must(t, "TryPop", err)
	if err := checkRecord(rec, i, nil); err != nil {
		t.Fatal(err)
	}
}

// A producer that dies between Reserve and Commit, its record half
// written: the consumer sees every committed record and then ErrPeerDead,
// never the torn one.
func TestRingProducerDiesMidWrite(t *testing.T) {
	a := sharedArena(t, 1<<20, false)
	_, up := withRings(t, a, 1<<12)
	c, err := up.Consumer()
	must(t, "Consumer", err)
	const committed = 20 // fits in the ring: the child never waits
	cmd := startChild(t, a, "die-mid-write", committed)
	waitChild(t, cmd) // exits 0 without committing its last record
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range uint64(committed) {
		rec, err := c.Pop(ctx, nil)
		must(t, "Pop", err)
		if err := checkRecord(rec, i, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Pop(ctx, nil)
	wantErr(t, "Pop after the producer died", err, ErrPeerDead)
}

// A consumer killed while the producer waits for room: the producer gets
// ErrPeerDead instead of waiting forever.
func TestRingConsumerKilled(t *testing.T) {
	a := sharedArena(t, 1<<20, false)
	down, _ := withRings(t, a, 1<<12)
	p, err := down.Producer()
	must(t, "Producer", err)
	// The child echoes into the up ring, which nobody reads: it soon
	// blocks, and so does the parent, on a full down ring. Then the child
	// is killed.
	cmd := startChild(t, a, "echo", 1<<62)
	// Kill it only once it has attached: a producer waits for a consumer
	// that has not attached yet, however long it takes to start.
	for deadline := time.Now().Add(time.Minute); down.h.consPid.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the child never attached")
		}
	}
	kill := time.AfterFunc(20*time.Millisecond, func() { cmd.Process.Kill() })
	defer kill.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf []byte
	var err2 error
	for i := uint64(0); err2 == nil; i++ {
		err2 = p.Push(ctx, record(buf, i))
	}
	wantErr(t, "Push to a killed consumer", err2, ErrPeerDead)
	cmd.Wait()
}

// Wait and Notify across processes: the parent and a child take turns on
// one word of a shared arena, each sleeping in Wait until the other's
// Notify. A lost wake-up would hang the exchange (and time out).
func TestWaitNotifyAcrossProcesses(t *testing.T) {
	if !futexSupported {
		t.Skip("no futex here")
	}
	a := sharedArena(t, 1<<16, false)
	buf, err := a.Alloc(4)
	must(t, "Alloc", err)
	off, _ := buf.Offset()
	must(t, "SetRoot", a.SetRoot(rootWord, off))
	w, err := a.Uint32(off)
	must(t, "Uint32", err)
	rounds := uint64(scaled(20000))
	cmd := startChild(t, a, "handshake", rounds)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range rounds {
		w.Add(1)
		_, err := Notify(w, 1)
		must(t, "Notify", err)
		must(t, "wait for the child", waitForValue(ctx, w, uint32(2*i+2)))
	}
	waitChild(t, cmd)
}
