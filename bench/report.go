package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints results as an aligned text table.
func WriteTable(w io.Writer, m Machine, results []Result) error {
	fmt.Fprintf(w, "machine: %s\n\n", m)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\timpl\tns/op\tmin\tmax\tMops/s\tallocs/op\tvs ref\tp50\tp99\tp99.9\t")
	prev := ""
	for _, r := range results {
		id := r.Suite + "/" + r.Scenario
		if id == prev {
			id = ""
		} else {
			prev = id
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t\n",
			id, r.Impl, ns(r.NsPerOp), ns(r.MinNsPerOp), ns(r.MaxNsPerOp), r.OpsPerSec/1e6,
			allocs(r.AllocsPerOp), ratio(r.VsRef), latencyCols(r, "\t"))
	}
	return tw.Flush()
}

// WriteMarkdown prints results as a Markdown table, for docs/perf.md.
func WriteMarkdown(w io.Writer, m Machine, results []Result) error {
	fmt.Fprintf(w, "Machine: %s\n\n", m)
	fmt.Fprintln(w, "| scenario | impl | ns/op (median) | min | max | Mops/s | allocs/op | vs ref | p50 | p99 | p99.9 |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s/%s | %s | %s | %s | %s | %.1f | %s | %s | %s |\n",
			r.Suite, r.Scenario, r.Impl, ns(r.NsPerOp), ns(r.MinNsPerOp), ns(r.MaxNsPerOp),
			r.OpsPerSec/1e6, allocs(r.AllocsPerOp), ratio(r.VsRef), latencyCols(r, " | "))
	}
	return nil
}

// WriteJSON prints one JSON object per result, one per line.
func WriteJSON(w io.Writer, m Machine, results []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		if err := enc.Encode(struct {
			Result
			Machine Machine `json:"machine"`
		}{r, m}); err != nil {
			return err
		}
	}
	return nil
}

func latencyCols(r Result, sep string) string {
	if r.Latency == nil {
		return strings.Join([]string{"", "", ""}, sep)
	}
	return strings.Join([]string{ns(r.Latency.P50), ns(r.Latency.P99), ns(r.Latency.P999)}, sep)
}

func ns(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func allocs(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%.3g", v)
}

// ratio formats VsRef: the factor by which the reference is faster.
func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", v)
}
