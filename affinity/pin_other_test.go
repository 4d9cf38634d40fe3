//go:build !linux

package affinity

import (
	"errors"
	"runtime"
	"testing"
)

func TestUnsupported(t *testing.T) {
	if undo, err := Pin(0); !errors.Is(err, ErrUnsupported) || undo != nil {
		t.Errorf("Pin(0) = %v, want ErrUnsupported", err)
	}
	if _, err := PinSet(CPUSetOf(0)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PinSet = %v, want ErrUnsupported", err)
	}
	if _, _, err := Current(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Current = %v, want ErrUnsupported", err)
	}
	if _, err := ThreadAffinity(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ThreadAffinity = %v, want ErrUnsupported", err)
	}
	if s, err := Allowed(); err != nil || s.Len() != min(runtime.NumCPU(), MaxCPUs) {
		t.Errorf("Allowed = %v, %v; want every CPU", s, err)
	}
}
