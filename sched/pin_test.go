package sched

import (
	"context"
	"errors"
	"testing"

	"github.com/weftlabs/weft/affinity"
)

func TestPinnedWorkers(t *testing.T) {
	allowed, err := affinity.Allowed()
	if err != nil {
		t.Skip(err)
	}
	var cpus []int
	for c := range allowed.All() {
		cpus = append(cpus, c)
	}
	s, err := New(Options{Pin: true, CPUs: cpus})
	if errors.Is(err, affinity.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 50 {
		f := Go(ctx, s, func(w *Worker) ([2]int, error) {
			cur, _, err := affinity.Current()
			if !w.Pinned() {
				return [2]int{}, errors.New("worker not pinned")
			}
			return [2]int{w.CPU(), cur}, err
		})
		got, err := f.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != got[1] {
			t.Fatalf("task %d: worker pinned to CPU %d ran on CPU %d", i, got[0], got[1])
		}
	}
	// A panic replaces the worker; the replacement is pinned too.
	Go(ctx, s, func(*Worker) (int, error) { panic("boom") }).Wait(ctx)
	for range 20 {
		f := Go(ctx, s, func(w *Worker) (bool, error) {
			cur, _, err := affinity.Current()
			return w.Pinned() && cur == w.CPU(), err
		})
		if ok, err := f.Wait(ctx); !ok || err != nil {
			t.Fatalf("after replacement: pinned and on its CPU = %v, %v", ok, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Replaced != 1 {
		t.Errorf("Replaced = %d, want 1", st.Replaced)
	}
}

func TestPinDefaultPlan(t *testing.T) {
	s, err := New(Options{Pin: true, Workers: 1})
	if errors.Is(err, affinity.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := Go(context.Background(), s, func(w *Worker) (int, error) { return w.CPU(), nil })
	if cpu, err := f.Wait(context.Background()); err != nil || cpu < 0 {
		t.Fatalf("CPU = %d, %v", cpu, err)
	}
}

func TestPinInvalidCPUs(t *testing.T) {
	for _, opt := range []Options{
		{Pin: true, CPUs: []int{-1}},
		{Pin: true, CPUs: []int{affinity.MaxCPUs + 5}},
		{Pin: true, CPUs: []int{0, 1}, Workers: 1},
		{CPUs: []int{0}},              // CPUs without Pin
		{Pin: true, Workers: 1 << 12}, // more workers than CPUs
	} {
		if _, err := New(opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: err = %v, want ErrInvalidOptions", opt, err)
		}
	}
	_, err := New(Options{Pin: true, CPUs: []int{affinity.MaxCPUs - 1}})
	if !errors.Is(err, affinity.ErrInvalidCPU) {
		t.Errorf("CPU beyond the machine: err = %v, want affinity.ErrInvalidCPU", err)
	}
}
