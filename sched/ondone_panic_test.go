package sched

import (
	"context"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// A panicking OnDone hook does not rewrite the result, and the hooks
// after it still run.
func TestOnDonePanickingHook(t *testing.T) {
	s := newTest(t, Options{Workers: 1})
	hold := make(chan struct{})
	f := Go(context.Background(), s, func(*Worker) (int, error) { <-hold; return 7, nil })
	var second atomic.Bool
	f.OnDone(func() { panic("hook") })
	f.OnDone(func() { second.Store(true) })
	close(hold)
	v, err := f.Wait(context.Background())
	t.Logf("first Wait = %d, %v", v, err)
	time.Sleep(50 * time.Millisecond)
	v2, err2 := f.Wait(context.Background())
	t.Logf("second Wait = %d, %v", v2, err2)
	if v != v2 || (err == nil) != (err2 == nil) {
		t.Errorf("the future's result changed after it completed: %d,%v then %d,%v", v, err, v2, err2)
	}
	if !second.Load() {
		t.Errorf("the hook registered after a panicking one never ran")
	}
}

// The same hook on a future dropped by Shutdown's deadline does not take
// the process down. Run in a child process.
func TestOnDonePanickingHookOnDroppedFuture(t *testing.T) {
	if os.Getenv("REVIEW2_CHILD") == "1" {
		s, _ := New(Options{Workers: 1})
		started, release := make(chan struct{}), make(chan struct{})
		Go(context.Background(), s, func(*Worker) (int, error) { close(started); <-release; return 0, nil })
		<-started
		f := Go(context.Background(), s, func(*Worker) (int, error) { return 1, nil })
		f.OnDone(func() { panic("hook on a dropped future") })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		s.Shutdown(ctx)
		close(release)
		s.Close()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOnDonePanickingHookOnDroppedFuture$")
	cmd.Env = append(os.Environ(), "REVIEW2_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child crashed (%v):\n%.600s", err, out)
	}
}
