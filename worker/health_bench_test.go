package worker

import (
	"testing"
	"time"
)

// BenchmarkTaskRecorder is one task's recording on one goroutine: Start
// and Done (two clock reads and the stores), and Observe alone (the
// stores only, the duration given).
func BenchmarkTaskRecorder(b *testing.B) {
	m, err := NewHealthMonitor(HealthOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	r, _ := m.Register("bench")
	b.Run("start-done", func(b *testing.B) {
		for b.Loop() {
			r.Start()
			r.Done(nil)
		}
	})
	b.Run("observe", func(b *testing.B) {
		d := time.Duration(0)
		for b.Loop() {
			d += 37
			r.Observe(d&0xffff, true)
		}
	})
	b.Run("clock-only", func(b *testing.B) {
		var sink time.Duration
		for b.Loop() {
			s := time.Since(m.epoch)
			sink += time.Since(m.epoch) - s
		}
		_ = sink
	})
}
