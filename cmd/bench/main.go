// Command bench runs weft's benchmark suite and prints a table.
//
// With no flags it runs the quick suite (every scenario, 5 rounds of 50ms
// per implementation). Each scenario compares weft with its peers in the
// same process, alternating between them every round; the table gives the
// median time per operation, allocations per operation, and "vs ref", the
// factor by which the scenario's first implementation (weft's) is faster.
//
// Usage:
//
//	go run ./cmd/bench [flags]
//
//	-list                 list scenarios and exit
//	-suite ring,sched     only these suites
//	-run REGEXP           only scenarios whose suite/name matches
//	-rounds N             rounds per implementation (default 5)
//	-duration D           target time per implementation per round (default 50ms)
//	-json                 one JSON object per result on stdout
//	-markdown             a Markdown table, for docs/perf.md
//	-cpuprofile FILE      write a CPU profile (split it with -tagfocus=scenario=NAME)
//	-memprofile FILE      write a heap profile at the end
//	-trace FILE           write an execution trace
//	-q                    no progress lines on stderr
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"time"

	"github.com/weftlabs/weft/bench"
)

func main() {
	// Cross-process scenarios re-execute this binary as their child.
	bench.RunChildIfRequested()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		list       = fs.Bool("list", false, "list scenarios and exit")
		suites     = fs.String("suite", "", "comma-separated suites to run (default: all)")
		pattern    = fs.String("run", "", "run only scenarios whose suite/name matches this regexp")
		rounds     = fs.Int("rounds", 5, "rounds per implementation; the median is reported")
		duration   = fs.Duration("duration", 50*time.Millisecond, "target time per implementation per round")
		asJSON     = fs.Bool("json", false, "print one JSON object per result")
		asMarkdown = fs.Bool("markdown", false, "print a Markdown table")
		cpuprofile = fs.String("cpuprofile", "", "write a CPU profile to this file")
		memprofile = fs.String("memprofile", "", "write a heap profile to this file")
		tracefile  = fs.String("trace", "", "write an execution trace to this file")
		quiet      = fs.Bool("q", false, "do not print progress on stderr")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1, got %d", *rounds)
	}
	if *duration <= 0 {
		return fmt.Errorf("-duration must be positive, got %v", *duration)
	}
	if *asJSON && *asMarkdown {
		return fmt.Errorf("-json and -markdown are exclusive")
	}

	scenarios, err := selectScenarios(bench.Scenarios(), *suites, *pattern)
	if err != nil {
		return err
	}
	if *list {
		for _, s := range scenarios {
			names := make([]string, len(s.Impls))
			for i, im := range s.Impls {
				names[i] = im.Name
			}
			fmt.Fprintf(stdout, "%-28s %s [%s]\n", s.ID(), s.Doc, strings.Join(names, ", "))
		}
		return nil
	}
	if len(scenarios) == 0 {
		return fmt.Errorf("no scenario matches -suite %q -run %q (see -list)", *suites, *pattern)
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer closeInto(f, &err)
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *tracefile != "" {
		f, err := os.Create(*tracefile)
		if err != nil {
			return err
		}
		defer closeInto(f, &err)
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opt := bench.Options{Rounds: *rounds, Duration: *duration}
	if !*quiet {
		opt.Progress = stderr
	}
	results, runErr := bench.Run(ctx, scenarios, opt)

	m := bench.ThisMachine()
	switch {
	case *asJSON:
		err = bench.WriteJSON(stdout, m, results)
	case *asMarkdown:
		err = bench.WriteMarkdown(stdout, m, results)
	default:
		err = bench.WriteTable(stdout, m, results)
	}
	if err != nil {
		return err
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer closeInto(f, &err)
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	return runErr
}

func selectScenarios(all []*bench.Scenario, suites, pattern string) ([]*bench.Scenario, error) {
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("-run: %w", err)
		}
	}
	var want []string
	if suites != "" {
		want = strings.Split(suites, ",")
		for _, s := range want {
			if !slices.ContainsFunc(all, func(sc *bench.Scenario) bool { return sc.Suite == s }) {
				return nil, fmt.Errorf("-suite: unknown suite %q", s)
			}
		}
	}
	var out []*bench.Scenario
	for _, s := range all {
		if want != nil && !slices.Contains(want, s.Suite) {
			continue
		}
		if re != nil && !re.MatchString(s.ID()) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func closeInto(c io.Closer, err *error) {
	if cerr := c.Close(); *err == nil {
		*err = cerr
	}
}
