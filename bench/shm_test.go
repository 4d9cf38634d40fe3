package bench

import (
	"os"
	"testing"
)

// TestShmChild is where a re-executed test binary plays the child of a
// cross-process scenario (startChild runs it with -test.run=^TestShmChild$).
// In a normal test run it has nothing to do.
func TestShmChild(t *testing.T) {
	if os.Getenv(childRoleEnv) == "" {
		t.Skip("not a child process")
	}
	RunChildIfRequested() // exits
}
