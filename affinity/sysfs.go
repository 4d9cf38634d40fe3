package affinity

import (
	"io/fs"
	"strconv"
	"strings"
)

// cpuDir and nodeDir are relative to the file-system root, as fs.FS paths.
const (
	cpuDir  = "sys/devices/system/cpu"
	nodeDir = "sys/devices/system/node"
)

// coreKey identifies a physical core: core_id is unique only within its
// package, and on some arm64 machines only within its die or cluster. The
// ids are the kernel's, -1 (or absent) when it does not know them. Every
// logical CPU of a core shares all four.
type coreKey struct{ pkg, die, cluster, core int }

// readCoreKeys reads the core of each CPU in online, in ascending order. It
// reports false if any CPU lacks its core_id or physical_package_id.
func readCoreKeys(fsys fs.FS, online CPUSet) ([]coreKey, bool) {
	keys := make([]coreKey, 0, online.Len())
	for id := range online.All() {
		dir := cpuDir + "/cpu" + strconv.Itoa(id) + "/topology/"
		core, ok1 := readInt(fsys, dir+"core_id")
		pkg, ok2 := readInt(fsys, dir+"physical_package_id")
		if !ok1 || !ok2 {
			return nil, false
		}
		die, ok := readInt(fsys, dir+"die_id")
		if !ok {
			die = -1
		}
		cluster, ok := readInt(fsys, dir+"cluster_id")
		if !ok {
			cluster = -1
		}
		keys = append(keys, coreKey{pkg: pkg, die: die, cluster: cluster, core: core})
	}
	return keys, len(keys) > 0
}

// readNodes maps each CPU to its NUMA node, from nodeN/cpulist. CPUs
// without a node, and every CPU when the directory is absent, map to 0.
func readNodes(fsys fs.FS) [MaxCPUs]int {
	var node [MaxCPUs]int
	entries, err := fs.ReadDir(fsys, nodeDir)
	if err != nil {
		return node
	}
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), "node")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			continue
		}
		cpus, ok := readCPUList(fsys, nodeDir+"/"+e.Name()+"/cpulist") // empty for a memory-only node
		if !ok {
			continue
		}
		for c := range cpus.All() {
			node[c] = n
		}
	}
	return node
}

// caches are the sizes sysfs reports for one CPU's caches, 0 when it does
// not.
type caches struct{ line, l1d, l2, l3 int }

// readCaches reads cpuN/cache/index*/{level,type,size,coherency_line_size}.
func readCaches(fsys fs.FS, cpu int) caches {
	var c caches
	dir := cpuDir + "/cpu" + strconv.Itoa(cpu) + "/cache"
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return c
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "index") {
			continue
		}
		idx := dir + "/" + e.Name() + "/"
		level, _ := readInt(fsys, idx+"level")
		typ, _ := readString(fsys, idx+"type")
		size := readSize(fsys, idx+"size")
		if line, ok := readInt(fsys, idx+"coherency_line_size"); ok && c.line == 0 && line > 0 {
			c.line = line
		}
		switch {
		case level == 1 && typ == "Data":
			c.l1d = size
		case level == 2 && typ != "Instruction":
			c.l2 = size
		case level == 3 && typ != "Instruction":
			c.l3 = size
		}
	}
	return c
}

func readString(fsys fs.FS, name string) (string, bool) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

func readInt(fsys fs.FS, name string) (int, bool) {
	s, ok := readString(fsys, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// readCPUList reads a cpulist file; false if it is absent, empty or
// malformed.
func readCPUList(fsys fs.FS, name string) (CPUSet, bool) {
	s, ok := readString(fsys, name)
	if !ok || s == "" {
		return CPUSet{}, false
	}
	set, err := ParseCPUList(s)
	return set, err == nil
}

// readSize reads a cache size such as "32K" or "32768K"; 0 when absent or
// malformed.
func readSize(fsys fs.FS, name string) int {
	s, ok := readString(fsys, name)
	if !ok {
		return 0
	}
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n * mul
}
