//go:build linux

package affinity

import (
	"errors"
	"math"
	"runtime"
	"testing"
)

// onThread runs f on a fresh goroutine and waits for it to end, so that a
// thread left locked or pinned by a failing test dies with that goroutine.
func onThread(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestPinEachAllowedCPU(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	for cpu := range allowed.All() {
		onThread(t, func() {
			runtime.LockOSThread() // so that "before" is this thread's mask
			defer runtime.UnlockOSThread()
			before, err := ThreadAffinity()
			if err != nil {
				t.Error(err)
				return
			}
			undo, err := Pin(cpu)
			if err != nil {
				t.Errorf("Pin(%d): %v", cpu, err)
				return
			}
			if m, err := ThreadAffinity(); err != nil || m != CPUSetOf(cpu) {
				t.Errorf("Pin(%d): thread mask %v, %v", cpu, m, err)
			}
			got := -1
			for range 5 { // exact once the kernel has migrated the thread; retry in case it has not yet
				c, node, err := Current()
				if err != nil {
					t.Errorf("Current: %v", err)
					break
				}
				if node < 0 {
					t.Errorf("Current: node %d", node)
				}
				if got = c; got == cpu {
					break
				}
				runtime.Gosched()
			}
			if got != cpu {
				t.Errorf("pinned to %d, Current says %d", cpu, got)
			}
			if allowed2, err := Allowed(); err != nil || allowed2 != allowed {
				t.Errorf("Allowed while pinned = %v, %v; want the process mask %v", allowed2, err, allowed)
			}
			if err := undo(); err != nil {
				t.Errorf("undo: %v", err)
			}
			if err := undo(); err != nil {
				t.Errorf("second undo: %v", err)
			}
			if after, err := ThreadAffinity(); err != nil || after != before {
				t.Errorf("after undo: mask %v, %v; want %v", after, err, before)
			}
		})
	}
}

func TestPinSetAllowed(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	onThread(t, func() {
		undo, err := PinSet(allowed)
		if err != nil {
			t.Errorf("PinSet(%v): %v", allowed, err)
			return
		}
		defer func() {
			if err := undo(); err != nil {
				t.Errorf("undo: %v", err)
			}
		}()
		if m, err := ThreadAffinity(); err != nil || m != allowed {
			t.Errorf("thread mask %v, %v; want %v", m, err, allowed)
		}
		if c, _, err := Current(); err != nil || !allowed.Has(c) {
			t.Errorf("Current = %d, %v; want one of %v", c, err, allowed)
		}
	})
}

func TestPinInvalid(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	outside := allowed.max() + 1 // beyond the highest allowed CPU
	for _, cpu := range []int{-1, MaxCPUs, math.MaxInt, outside} {
		onThread(t, func() {
			before, err := ThreadAffinity()
			if err != nil {
				t.Error(err)
			}
			undo, err := Pin(cpu)
			if !errors.Is(err, ErrInvalidCPU) || undo != nil {
				t.Errorf("Pin(%d) = %v; want ErrInvalidCPU and no undo", cpu, err)
				if undo != nil {
					_ = undo()
				}
				return
			}
			if after, _ := ThreadAffinity(); after != before {
				t.Errorf("Pin(%d) failed but changed the mask from %v to %v", cpu, before, after)
			}
		})
	}
	for _, set := range []CPUSet{{}, CPUSetOf(allowed.max(), outside)} {
		if undo, err := PinSet(set); !errors.Is(err, ErrInvalidCPU) || undo != nil {
			t.Errorf("PinSet(%q) = %v; want ErrInvalidCPU", set, err)
		}
	}
	_, err = Pin(outside)
	t.Log(err) // names the CPU and the allowed set
}

func TestUndoFromAnotherGoroutine(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	cpu := allowed.max()
	onThread(t, func() {
		undo, err := Pin(cpu)
		if err != nil {
			t.Errorf("Pin(%d): %v", cpu, err)
			return
		}
		defer undo()
		// Another goroutine runs on another thread: this one is locked.
		var other error
		onThread(t, func() { other = undo() })
		if !errors.Is(other, ErrWrongThread) {
			t.Errorf("undo from another goroutine = %v, want ErrWrongThread", other)
		}
		if m, _ := ThreadAffinity(); m != CPUSetOf(cpu) {
			t.Errorf("the failed undo changed the mask to %v", m)
		}
	})
}

func TestPinNested(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	cpus := []int{allowed.max(), allowed.max()}
	for c := range allowed.All() { // the lowest CPU, distinct from the highest if there are two
		cpus[0] = c
		break
	}
	onThread(t, func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before, _ := ThreadAffinity()
		outer, err := Pin(cpus[0])
		if err != nil {
			t.Errorf("Pin(%d): %v", cpus[0], err)
			return
		}
		inner, err := Pin(cpus[1])
		if err != nil {
			t.Errorf("nested Pin(%d): %v", cpus[1], err)
			_ = outer()
			return
		}
		if a, err := Allowed(); err != nil || a != allowed {
			t.Errorf("Allowed inside nested pins = %v, %v; want %v", a, err, allowed)
		}
		if err := inner(); err != nil {
			t.Error(err)
		}
		if m, _ := ThreadAffinity(); m != CPUSetOf(cpus[0]) {
			t.Errorf("after the inner undo: mask %v, want %d", m, cpus[0])
		}
		if err := outer(); err != nil {
			t.Error(err)
		}
		if m, _ := ThreadAffinity(); m != before {
			t.Errorf("after both undos: mask %v, want %v", m, before)
		}
	})
}

func TestPinTableStale(t *testing.T) {
	p := pinTable{byTID: make(map[int][]CPUSet)}
	all, a, b := CPUSetOf(0, 1, 2, 3), CPUSetOf(1), CPUSetOf(2)
	p.push(7, all, a)
	p.push(7, a, b)
	if got := p.base(7, b); got != all {
		t.Errorf("base of nested pins = %v, want %v", got, all)
	}
	p.pop(7)
	if got := p.base(7, a); got != all {
		t.Errorf("base after one pop = %v, want %v", got, all)
	}
	// The thread died pinned; a new thread got its id and a fresh mask.
	if got := p.base(7, CPUSetOf(0, 1)); got != CPUSetOf(0, 1) || len(p.byTID) != 0 {
		t.Errorf("stale entry: base %v, table %v", got, p.byTID)
	}
	p.push(8, all, a)
	p.push(8, all, b) // prev is not the recorded a: stale, restart
	if got := p.byTID[8]; len(got) != 2 || got[0] != all || got[1] != b {
		t.Errorf("push over a stale entry: %v", got)
	}
	p.pop(8)
	p.pop(8) // popping a missing entry is harmless
	if len(p.byTID) != 0 {
		t.Errorf("table not empty: %v", p.byTID)
	}
}
