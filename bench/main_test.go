package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// ants starts a default pool, with its housekeeping goroutines, when its
// package is initialised; those are not ours to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}
