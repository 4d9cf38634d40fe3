// Package examples holds one runnable program per section of the guide
// (go run ./examples/NAME); this test keeps docs/guide.md in step with
// them.
package examples

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// source marks a guide block taken from a program: the comment on the line
// before the block's opening fence.
var source = regexp.MustCompile(`^<!-- from (examples/[a-z0-9_]+/main\.go) -->$`)

// TestGuideInSync checks that every Go block of docs/guide.md that names
// its program appears in that program as a run of consecutive lines (the
// block is de-indented in the guide, so lines are compared without their
// leading tabs), and that every Go block names one.
func TestGuideInSync(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "docs", "guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks   int
		from     string
		in       bool
		block    []string
		blockAt  int
		lineNo   int
		previous string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case !in && line == "```go":
			in, block, blockAt = true, nil, lineNo
			from = ""
			if m := source.FindStringSubmatch(previous); m != nil {
				from = m[1]
			}
			if from == "" {
				t.Errorf("guide.md:%d: a Go block that names no program", lineNo)
			}
		case in && line == "```":
			in = false
			blocks++
			if from != "" {
				checkBlock(t, blockAt, from, block)
			}
		case in:
			block = append(block, line)
		}
		previous = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if blocks < 10 {
		t.Fatalf("guide.md has %d Go blocks: not the guide", blocks)
	}
}

func checkBlock(t *testing.T, at int, path string, block []string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Errorf("guide.md:%d: %v", at, err)
		return
	}
	lines := strings.Split(string(src), "\n")
	trim := func(s string) string { return strings.TrimLeft(s, "\t") }
	for start := range lines {
		if start+len(block) > len(lines) {
			break
		}
		match := true
		for i, b := range block {
			if trim(lines[start+i]) != trim(b) {
				match = false
				break
			}
		}
		if match {
			return
		}
	}
	t.Errorf("guide.md:%d: the block is not in %s any more (first line %q)", at, path, block[0])
}
