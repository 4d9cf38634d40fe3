package shm

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running. When
// the test binary is re-executed as a child process (childRoleEnv set), it
// plays that role instead of running tests.
func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
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

// newArena maps a private arena of size bytes, closed at the end of the test.
func newArena(t testing.TB, size int) *Arena {
	t.Helper()
	a, err := New(size, Options{})
	if err != nil {
		t.Fatalf("New(%d): %v", size, err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

// wantErr fails the test unless err matches target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// must fails the test on a non-nil error.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// uniqueName returns an arena name no other test run uses.
func uniqueName(t testing.TB) string {
	return fmt.Sprintf("weft-test-%d-%s", os.Getpid(), sanitize(t.Name()))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
