package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Every implementation of every scenario must do its work (they check their
// own results and panic on a lost item) for tiny and awkward counts.
func TestEveryImplRuns(t *testing.T) {
	for _, s := range Scenarios() {
		for _, im := range s.Impls {
			t.Run(s.ID()+"/"+im.Name, func(t *testing.T) {
				counts := []int{0, 1, 3, 1000, 20_011}
				if s.Latency {
					// Spinning round trips crawl when another process
					// holds a core; keep them few.
					counts = counts[:4]
				}
				for _, n := range counts {
					rec := new(Recorder)
					rec.reset(n)
					im.Run(n, rec)
					if s.Latency && len(rec.laps) != n {
						t.Fatalf("n=%d: %d laps recorded", n, len(rec.laps))
					}
				}
			})
		}
	}
}

func TestScenariosAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if s.Suite == "" || s.Name == "" || s.Doc == "" {
			t.Errorf("scenario %q has an empty suite, name or doc", s.ID())
		}
		if seen[s.ID()] {
			t.Errorf("scenario %q registered twice", s.ID())
		}
		seen[s.ID()] = true
		if len(s.Impls) < 2 || s.Impls[0].Peer {
			t.Errorf("scenario %q: the first implementation must be weft's (the reference)", s.ID())
		}
		peers := 0
		for _, im := range s.Impls {
			if im.Peer {
				peers++
			}
		}
		if peers == 0 {
			t.Errorf("scenario %q has no peer to compare with", s.ID())
		}
	}
}

func TestRunReportsEveryImpl(t *testing.T) {
	var progress bytes.Buffer
	results, err := Run(context.Background(), Scenarios(), Options{Rounds: 2, Duration: time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range Scenarios() {
		want += len(s.Impls)
	}
	if len(results) != want {
		t.Fatalf("%d results, want %d", len(results), want)
	}
	prev := ""
	for _, r := range results {
		if r.NsPerOp <= 0 || r.Ops <= 0 || r.Rounds != 2 || r.VsRef <= 0 {
			t.Errorf("%s/%s %s: implausible result %+v", r.Suite, r.Scenario, r.Impl, r)
		}
		if id := r.Suite + "/" + r.Scenario; id != prev {
			prev = id
			if r.Peer || r.VsRef != 1 {
				t.Errorf("%s: first result %s is not the reference (peer %v, VsRef %v)", id, r.Impl, r.Peer, r.VsRef)
			}
		}
	}
	if !strings.Contains(progress.String(), "round 2/2") {
		t.Errorf("progress output lacks round lines: %q", progress.String())
	}

	m := ThisMachine()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, m, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(results) {
		t.Fatalf("JSON: %d lines for %d results", len(lines), len(results))
	}
	var first struct {
		Result
		Machine Machine `json:"machine"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Impl != results[0].Impl || first.Machine.GoVersion == "" {
		t.Errorf("JSON round trip lost fields: %+v", first)
	}
	buf.Reset()
	if err := WriteMarkdown(&buf, m, results); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, suite := range []string{"ring", "sched", "worker", "shm", "pipeline"} {
		rows += strings.Count(buf.String(), "\n| "+suite+"/")
	}
	if got := rows; got != len(results) {
		t.Errorf("markdown has %d result rows, want %d", got, len(results))
	}
	buf.Reset()
	if err := WriteTable(&buf, m, results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "weft.SPSC") {
		t.Errorf("table lacks weft.SPSC:\n%s", buf.String())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Scenarios(), Options{Rounds: 1, Duration: time.Millisecond})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestMedianAndPercentiles(t *testing.T) {
	if got := median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("median odd = %v", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if got := median(nil); got != 0 {
		t.Errorf("median empty = %v", got)
	}
	r := new(Recorder)
	r.reset(1000)
	for i := 1; i <= 1000; i++ {
		r.laps = append(r.laps, time.Duration(i))
	}
	p := r.percentiles(0)
	if p.P50 != 501 || p.P99 != 991 || p.Max != 1000 {
		t.Errorf("percentiles = %+v", p)
	}
	if p := r.percentiles(2000); p.Max != 0 {
		t.Errorf("overhead larger than every lap must clamp to 0, got %+v", p)
	}
}
