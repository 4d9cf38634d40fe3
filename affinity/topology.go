package affinity

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/klauspost/cpuid/v2"
)

// CPU describes one online logical CPU.
type CPU struct {
	ID      int // the kernel's CPU number
	Core    int // physical core: a dense index 0..PhysicalCores-1, unique across packages, numbered in the order of each core's lowest CPU ID
	Package int // physical package (socket) id as the kernel reports it; 0 when unknown
	Node    int // NUMA node; 0 when unknown
}

// Topology is the machine as the process sees it: its logical CPUs, how
// they group into physical cores, packages and NUMA nodes, the cache sizes,
// and which CPUs the process may run on.
type Topology struct {
	LogicalCPUs    int    // online logical CPUs; len(CPUs)
	PhysicalCores  int    // distinct physical cores among CPUs
	ThreadsPerCore int    // the most logical CPUs any one core holds (hybrid parts mix 2 and 1); at least 1
	CacheLine      int    // bytes, per cpuid, else sysfs, else 64
	L1D, L2, L3    int    // bytes per cache instance, per cpuid, else sysfs; 0 when unknown
	Allowed        CPUSet // the CPUs in CPUs that the process may run on: Allowed() restricted to online CPUs
	CPUs           []CPU  // one per online CPU, ascending by ID
}

// Detect reads the machine's topology. It is meant to be called once, at
// start-up: it reads a few sysfs files per CPU.
//
// On Linux, CPUs come from sysfs: /sys/devices/system/cpu/online, then for
// each online CPU its topology/{physical_package_id,die_id,cluster_id,core_id}
// (a core is one distinct combination of these), and the NUMA node of each
// from /sys/devices/system/node/nodeN/cpulist.
//
// Where sysfs is absent or incomplete (other platforms, some sandboxes),
// Detect falls back to cpuid and the runtime: as many CPUs as the larger of
// cpuid's logical count and runtime.NumCPU, numbered from 0, in one package
// and node, with cpuid's ThreadsPerCore siblings adjacent (CPUs 0 and 1 on
// one core, 2 and 3 on the next, ...). That is how Windows and macOS number
// siblings, but not Linux on Intel parts, whose siblings are usually N/2
// apart; there, sysfs is always present.
//
// The error is Allowed's, if it fails.
func Detect() (*Topology, error) {
	allowed, err := Allowed()
	if err != nil {
		return nil, err
	}
	return detectFrom(os.DirFS("/"), allowed, machineFacts()), nil
}

// facts are what Detect learns without sysfs.
type facts struct {
	numCPU         int // runtime.NumCPU
	logical        int // cpuid's logical CPUs; 0 when unknown
	threadsPerCore int // cpuid's; 0 when unknown
	cacheLine      int // bytes; 0 when unknown
	l1d, l2, l3    int // bytes; 0 when unknown
}

func machineFacts() facts {
	c := &cpuid.CPU
	return facts{
		numCPU:         runtime.NumCPU(),
		logical:        max(c.LogicalCores, 0),
		threadsPerCore: max(c.ThreadsPerCore, 0),
		cacheLine:      max(c.CacheLine, 0),
		l1d:            max(c.Cache.L1D, 0),
		l2:             max(c.Cache.L2, 0),
		l3:             max(c.Cache.L3, 0),
	}
}

// detectFrom builds the topology from the sysfs tree under fsys (the
// file-system root: paths start "sys/devices/system"), the process's allowed
// mask, and the facts. It never fails: what it cannot read, it derives from
// the facts.
func detectFrom(fsys fs.FS, allowed CPUSet, f facts) *Topology {
	t := &Topology{}
	online, ok := readCPUList(fsys, cpuDir+"/online")
	var keys []coreKey
	if ok {
		keys, ok = readCoreKeys(fsys, online)
	}
	if !ok {
		online, keys = fallbackCPUs(allowed, f)
	}

	// Dense core indices, in order of each core's lowest CPU: the CPUs come
	// in ascending order, so a core's first appearance is its lowest CPU.
	core := make(map[coreKey]int)
	perCore := []int{}
	nodes := readNodes(fsys)
	i := 0
	for id := range online.All() {
		k := keys[i]
		i++
		c, seen := core[k]
		if !seen {
			c = len(perCore)
			core[k] = c
			perCore = append(perCore, 0)
		}
		perCore[c]++
		t.CPUs = append(t.CPUs, CPU{ID: id, Core: c, Package: max(k.pkg, 0), Node: nodes[id]})
	}
	t.LogicalCPUs = len(t.CPUs)
	t.PhysicalCores = len(perCore)
	t.ThreadsPerCore = 1
	for _, n := range perCore {
		t.ThreadsPerCore = max(t.ThreadsPerCore, n)
	}
	t.Allowed = allowed.and(online)

	first := t.CPUs[0].ID
	caches := readCaches(fsys, first)
	t.CacheLine = firstPositive(f.cacheLine, caches.line, 64)
	t.L1D = firstPositive(f.l1d, caches.l1d, 0)
	t.L2 = firstPositive(f.l2, caches.l2, 0)
	t.L3 = firstPositive(f.l3, caches.l3, 0)
	return t
}

// fallbackCPUs numbers the CPUs 0..n-1, with n the largest of cpuid's and
// the runtime's counts and the highest allowed CPU, and puts each run of
// threadsPerCore adjacent CPUs on one core.
func fallbackCPUs(allowed CPUSet, f facts) (CPUSet, []coreKey) {
	n := min(max(f.logical, f.numCPU, allowed.max()+1, 1), MaxCPUs)
	tpc := max(f.threadsPerCore, 1)
	var online CPUSet
	keys := make([]coreKey, n)
	for id := range n {
		online.Add(id)
		keys[id] = coreKey{core: id / tpc}
	}
	return online, keys
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

// String summarises the topology on one line.
func (t *Topology) String() string {
	return fmt.Sprintf("%d CPUs, %d cores x %d threads, allowed %s, line %d B, L1D %d KiB, L2 %d KiB, L3 %d KiB",
		t.LogicalCPUs, t.PhysicalCores, t.ThreadsPerCore, t.Allowed, t.CacheLine, t.L1D>>10, t.L2>>10, t.L3>>10)
}
