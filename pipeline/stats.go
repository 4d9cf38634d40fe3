package pipeline

import "time"

// StageStats is a snapshot of one stage's counters.
type StageStats struct {
	Name    string
	Kind    string // "slice", "map", "filter", "batch", "merge", …
	Workers int    // concurrency
	// Fused reports that the stage runs on the goroutines of the stage
	// before it (see Options.NoFusion).
	Fused bool
	// In and Out count items received and emitted.
	In, Out uint64
	// Busy is time spent in the stage's own work, summed over workers.
	// WaitIn is time blocked waiting for input (an empty queue, or for an
	// ordered stage the batch next in order), WaitOut time blocked waiting
	// for room downstream (backpressure, or a full reorder window).
	Busy, WaitIn, WaitOut time.Duration
	// Queue is the number of items waiting in the stage's input queue,
	// QueueCap its capacity (both zero for sources and fused stages).
	Queue, QueueCap int
	// Elapsed is the run's time so far (or in all, once it is over), and
	// Throughput is Out per second of it.
	Elapsed    time.Duration
	Throughput float64
}

// Stats returns a snapshot of every stage's counters, in the order the
// stages were added. It may be called from any goroutine while the
// pipeline runs (for progress) and after (for the totals); before the run
// the counters are zero. Reading costs a few loads per worker and takes no
// lock.
func (p *Pipeline) Stats() []StageStats {
	started := p.started.Load()
	var elapsed time.Duration
	if started {
		if e := p.elapsed.Load(); e > 0 {
			elapsed = durationNs(e)
		} else {
			elapsed = time.Since(p.t0)
		}
	}
	out := make([]StageStats, 0, len(p.nodes))
	for _, n := range p.nodes {
		s := StageStats{Name: n.name, Kind: n.kind, Workers: n.workers, Elapsed: elapsed}
		if started {
			s.Fused = n.fused
			for i := range n.lanes {
				l := &n.lanes[i]
				s.In += l.in.Load()
				s.Out += l.out.Load()
				s.Busy += durationNs(l.busy.Load())
				s.WaitIn += durationNs(l.waitIn.Load())
				s.WaitOut += durationNs(l.waitOut.Load())
			}
			if n.queue != nil {
				s.Queue, s.QueueCap = n.queue()
			}
			if elapsed > 0 {
				s.Throughput = float64(s.Out) / elapsed.Seconds()
			}
		}
		out = append(out, s)
	}
	return out
}

func durationNs(ns int64) time.Duration { return time.Duration(ns) }
