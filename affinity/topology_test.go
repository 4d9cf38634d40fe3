package affinity

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// fakeCPU is one logical CPU of a fake sysfs tree.
type fakeCPU struct{ pkg, core int }

// writeSysfs writes a sysfs tree under a new temporary root: the online
// list, each CPU's topology, one node per package (plus a memory-only node),
// and cpu0's caches. It returns the root.
func writeSysfs(t *testing.T, cpus []fakeCPU) string {
	t.Helper()
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var online CPUSet
	nodes := map[int]*CPUSet{}
	for id, c := range cpus {
		online.Add(id)
		dir := cpuDir + "/cpu" + strconv.Itoa(id) + "/topology/"
		write(dir+"core_id", strconv.Itoa(c.core))
		write(dir+"physical_package_id", strconv.Itoa(c.pkg))
		write(dir+"die_id", "0")
		write(dir+"cluster_id", "65535")
		if nodes[c.pkg] == nil {
			nodes[c.pkg] = new(CPUSet)
		}
		nodes[c.pkg].Add(id)
	}
	write(cpuDir+"/online", online.String())
	for n, set := range nodes {
		write(nodeDir+"/node"+strconv.Itoa(n)+"/cpulist", set.String())
	}
	write(nodeDir+"/node9/cpulist", "") // memory only
	write(nodeDir+"/online", "0-1,9")   // not a node directory
	for i, c := range []struct{ level, typ, size string }{
		{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "2048K"}, {"3", "Unified", "36M"},
	} {
		dir := cpuDir + "/cpu0/cache/index" + strconv.Itoa(i) + "/"
		write(dir+"level", c.level)
		write(dir+"type", c.typ)
		write(dir+"size", c.size)
		write(dir+"coherency_line_size", "64")
	}
	return root
}

// twoByTwoByTwo is 2 packages x 2 cores x 2 threads, siblings adjacent
// (AMD's numbering), core ids repeating in each package.
var twoByTwoByTwo = []fakeCPU{
	{0, 0}, {0, 0}, {0, 1}, {0, 1},
	{1, 0}, {1, 0}, {1, 1}, {1, 1},
}

func TestDetectFromSysfs(t *testing.T) {
	root := writeSysfs(t, twoByTwoByTwo)
	topo := detectFrom(os.DirFS(root), CPUSetOf(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), facts{numCPU: 1, cacheLine: 128, l1d: 32 << 10})

	want := []CPU{
		{0, 0, 0, 0}, {1, 0, 0, 0}, {2, 1, 0, 0}, {3, 1, 0, 0},
		{4, 2, 1, 1}, {5, 2, 1, 1}, {6, 3, 1, 1}, {7, 3, 1, 1},
	}
	if !slices.Equal(topo.CPUs, want) {
		t.Errorf("CPUs = %v\nwant   %v", topo.CPUs, want)
	}
	if topo.LogicalCPUs != 8 || topo.PhysicalCores != 4 || topo.ThreadsPerCore != 2 {
		t.Errorf("got %d logical, %d cores, %d threads per core; want 8, 4, 2", topo.LogicalCPUs, topo.PhysicalCores, topo.ThreadsPerCore)
	}
	if topo.Allowed != CPUSetOf(0, 1, 2, 3, 4, 5, 6, 7) {
		t.Errorf("Allowed = %v, want 0-7 (offline CPUs dropped)", topo.Allowed)
	}
	// cpuid's figures win; sysfs fills in what cpuid does not know.
	if topo.CacheLine != 128 || topo.L1D != 32<<10 || topo.L2 != 2<<20 || topo.L3 != 36<<20 {
		t.Errorf("caches: line %d, L1D %d, L2 %d, L3 %d", topo.CacheLine, topo.L1D, topo.L2, topo.L3)
	}

	plan, err := topo.Plan(8)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 4, 6, 1, 3, 5, 7}; !slices.Equal(plan, want) {
		t.Errorf("Plan(8) = %v, want %v (one per core, then siblings)", plan, want)
	}
	if plan, _ := topo.Plan(3); !slices.Equal(plan, []int{0, 2, 4}) {
		t.Errorf("Plan(3) = %v, want [0 2 4]", plan)
	}
	if n := topo.PhysicalCoresAllowed(); n != 4 {
		t.Errorf("PhysicalCoresAllowed = %d, want 4", n)
	}
	for _, n := range []int{0, -1} {
		if _, err := topo.Plan(n); !errors.Is(err, ErrWorkerCount) {
			t.Errorf("Plan(%d) error = %v, want ErrWorkerCount", n, err)
		}
	}
	if _, err := topo.Plan(9); !errors.Is(err, ErrTooMany) {
		t.Errorf("Plan(9) error = %v, want ErrTooMany", err)
	}
}

func TestPlanRestricted(t *testing.T) {
	root := writeSysfs(t, twoByTwoByTwo)
	// Core 0 has CPU 1 only, core 1 both its CPUs, core 2 CPU 5, core 3 none.
	topo := detectFrom(os.DirFS(root), CPUSetOf(1, 2, 3, 5), facts{})
	plan, err := topo.Plan(4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 5, 3}; !slices.Equal(plan, want) {
		t.Errorf("Plan(4) = %v, want %v", plan, want)
	}
	if n := topo.PhysicalCoresAllowed(); n != 3 {
		t.Errorf("PhysicalCoresAllowed = %d, want 3", n)
	}
	if _, err := topo.Plan(5); !errors.Is(err, ErrTooMany) {
		t.Errorf("Plan(5) error = %v, want ErrTooMany", err)
	}
	if topo.CacheLine != 64 {
		t.Errorf("CacheLine = %d, want sysfs's 64", topo.CacheLine)
	}
}

// Intel numbers siblings half the machine apart: cores 0-3 are CPUs 0-3,
// their siblings CPUs 4-7.
func TestPlanSiblingsApart(t *testing.T) {
	root := writeSysfs(t, []fakeCPU{
		{0, 0}, {0, 1}, {1, 0}, {1, 1},
		{0, 0}, {0, 1}, {1, 0}, {1, 1},
	})
	topo := detectFrom(os.DirFS(root), CPUSetOf(0, 1, 2, 3, 4, 5, 6, 7), facts{})
	if got := []int{topo.CPUs[4].Core, topo.CPUs[6].Core}; !slices.Equal(got, []int{0, 2}) {
		t.Errorf("cores of CPUs 4 and 6 = %v, want [0 2]", got)
	}
	plan, err := topo.Plan(6)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(plan, want) {
		t.Errorf("Plan(6) = %v, want %v", plan, want)
	}
}

func TestDetectFallback(t *testing.T) {
	broken := writeSysfs(t, twoByTwoByTwo)
	if err := os.Remove(filepath.Join(broken, filepath.FromSlash(cpuDir+"/cpu5/topology/core_id"))); err != nil {
		t.Fatal(err)
	}
	malformed := t.TempDir()
	if err := os.MkdirAll(filepath.Join(malformed, filepath.FromSlash(cpuDir)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(malformed, filepath.FromSlash(cpuDir+"/online")), []byte("0-x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, root := range map[string]string{"absent": t.TempDir(), "incomplete": broken, "malformed": malformed} {
		topo := detectFrom(os.DirFS(root), CPUSetOf(0, 1, 2, 3), facts{numCPU: 4, logical: 2, threadsPerCore: 2})
		want := []CPU{{0, 0, 0, 0}, {1, 0, 0, 0}, {2, 1, 0, 0}, {3, 1, 0, 0}}
		if !slices.Equal(topo.CPUs, want) {
			t.Errorf("%s: CPUs = %v, want %v", name, topo.CPUs, want)
		}
		if topo.LogicalCPUs != 4 || topo.PhysicalCores != 2 || topo.ThreadsPerCore != 2 || topo.Allowed.Len() != 4 {
			t.Errorf("%s: %v", name, topo)
		}
		if name != "incomplete" && (topo.CacheLine != 64 || topo.L1D != 0 || topo.L2 != 0 || topo.L3 != 0) {
			t.Errorf("%s: caches %v, want line 64 and unknown sizes", name, topo)
		}
		if plan, err := topo.Plan(4); err != nil || !slices.Equal(plan, []int{0, 2, 1, 3}) {
			t.Errorf("%s: Plan(4) = %v, %v", name, plan, err)
		}
	}
}

func TestDetect(t *testing.T) {
	topo, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(topo)
	if topo.LogicalCPUs < 1 || len(topo.CPUs) != topo.LogicalCPUs {
		t.Errorf("LogicalCPUs %d, len(CPUs) %d", topo.LogicalCPUs, len(topo.CPUs))
	}
	if !slices.Contains([]int{32, 64, 128, 256}, topo.CacheLine) {
		t.Errorf("CacheLine = %d", topo.CacheLine)
	}
	if topo.PhysicalCores < 1 || topo.PhysicalCores > topo.LogicalCPUs || topo.ThreadsPerCore < 1 {
		t.Errorf("%d cores, %d threads per core", topo.PhysicalCores, topo.ThreadsPerCore)
	}
	if topo.L1D < 0 || topo.L2 < 0 || topo.L3 < 0 {
		t.Errorf("negative cache size: %v", topo)
	}
	var ids CPUSet
	for i, c := range topo.CPUs {
		if i > 0 && c.ID <= topo.CPUs[i-1].ID {
			t.Errorf("CPUs not ascending at %d: %v", i, topo.CPUs)
		}
		if c.Core < 0 || c.Core >= topo.PhysicalCores || c.Package < 0 || c.Node < 0 {
			t.Errorf("bad CPU %+v", c)
		}
		ids.Add(c.ID)
	}
	if topo.Allowed.Len() == 0 || topo.Allowed.andNot(ids).Len() != 0 {
		t.Errorf("Allowed %v not a non-empty subset of CPUs %v", topo.Allowed, ids)
	}
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if topo.Allowed.andNot(allowed).Len() != 0 {
		t.Errorf("Topology.Allowed %v not within Allowed() %v", topo.Allowed, allowed)
	}
	n := topo.PhysicalCoresAllowed()
	if n < 1 || n > topo.Allowed.Len() {
		t.Errorf("PhysicalCoresAllowed = %d with %v allowed", n, topo.Allowed)
	}
	plan, err := topo.Plan(topo.Allowed.Len())
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(plan)
	slices.Sort(got)
	if !slices.Equal(got, slices.Collect(topo.Allowed.All())) {
		t.Errorf("Plan(all) = %v, not a permutation of %v", plan, topo.Allowed)
	}
}
