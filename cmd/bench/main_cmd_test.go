package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-list"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ring/spsc-1p1c", "ring/mpmc-4p4c", "ring/pingpong", "weft.SPSC", "chan"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-list output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-rounds", "0"},
		{"-duration", "-1s"},
		{"-json", "-markdown"},
		{"-suite", "nosuch"},
		{"-run", "("},
		{"-run", "matches-nothing-at-all"},
		{"stray"},
		{"-nosuchflag"},
	} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

func TestRunWithProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof"), filepath.Join(dir, "trace.out")
	var out, errOut bytes.Buffer
	args := []string{"-run", "spsc-1p1c$", "-rounds", "1", "-duration", "1ms", "-markdown",
		"-cpuprofile", cpu, "-memprofile", mem, "-trace", tr}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| ring/spsc-1p1c | weft.SPSC |") {
		t.Errorf("markdown output:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "round 1/1") {
		t.Errorf("no progress on stderr: %q", errOut.String())
	}
	for _, f := range []string{cpu, mem, tr} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: not written (%v)", f, err)
		}
	}
}
