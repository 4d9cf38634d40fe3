package affinity

import (
	"fmt"
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// MaxCPUs is the number of CPUs a CPUSet can hold: CPU numbers run from 0 to
// MaxCPUs-1, as in the kernel's default cpu_set_t and unix.CPUSet.
const MaxCPUs = 1024

// CPUSet is a set of logical CPU numbers in [0, MaxCPUs). The zero value is
// the empty set. It is a value type: copies are independent, and two sets
// are equal (==) exactly when they hold the same CPUs.
type CPUSet struct {
	w [MaxCPUs / 64]uint64 // bit cpu%64 of w[cpu/64] is set iff cpu is in the set
}

// CPUSetOf returns the set holding cpus. Like Add, it panics on a CPU
// outside [0, MaxCPUs).
func CPUSetOf(cpus ...int) CPUSet {
	var s CPUSet
	for _, c := range cpus {
		s.Add(c)
	}
	return s
}

// Add puts cpu in the set. It panics if cpu is outside [0, MaxCPUs): a
// CPU number that cannot exist is a programming error, not a run-time
// condition (ParseCPUList and Pin report such numbers as errors).
func (s *CPUSet) Add(cpu int) {
	if cpu < 0 || cpu >= MaxCPUs {
		panic(fmt.Sprintf("affinity: CPUSet.Add(%d): CPU outside [0, %d)", cpu, MaxCPUs))
	}
	s.w[cpu/64] |= 1 << (cpu % 64)
}

// Has reports whether cpu is in the set; false for any cpu outside
// [0, MaxCPUs).
func (s CPUSet) Has(cpu int) bool {
	return cpu >= 0 && cpu < MaxCPUs && s.w[cpu/64]&(1<<(cpu%64)) != 0
}

// Len returns the number of CPUs in the set.
func (s CPUSet) Len() int {
	n := 0
	for _, w := range s.w {
		n += bits.OnesCount64(w)
	}
	return n
}

// All yields the CPUs in the set in ascending order.
func (s CPUSet) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for i, w := range s.w {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				if !yield(i*64 + b) {
					return
				}
				w &= w - 1
			}
		}
	}
}

// and returns the CPUs in both s and o.
func (s CPUSet) and(o CPUSet) CPUSet {
	for i := range s.w {
		s.w[i] &= o.w[i]
	}
	return s
}

// andNot returns the CPUs in s but not in o.
func (s CPUSet) andNot(o CPUSet) CPUSet {
	for i := range s.w {
		s.w[i] &^= o.w[i]
	}
	return s
}

// max returns the highest CPU in the set, or -1 when it is empty.
func (s CPUSet) max() int {
	for i := len(s.w) - 1; i >= 0; i-- {
		if s.w[i] != 0 {
			return i*64 + 63 - bits.LeadingZeros64(s.w[i])
		}
	}
	return -1
}

// String formats the set as the kernel's cpulist (the format of
// /sys/devices/system/cpu/online): ascending, runs of two or more
// consecutive CPUs as "first-last", separated by commas, e.g. "0-3,6". The
// empty set is the empty string.
func (s CPUSet) String() string {
	var b strings.Builder
	first, last := -1, -1
	flush := func() {
		if first < 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(first))
		if last > first {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(last))
		}
	}
	for c := range s.All() {
		if c != last+1 || first < 0 {
			flush()
			first = c
		}
		last = c
	}
	flush()
	return b.String()
}

// ParseCPUList parses the kernel's cpulist format, as written by String and
// found in sysfs: comma-separated CPU numbers and inclusive ranges "a-b"
// with a <= b, e.g. "0-3,6". Surrounding white space (the trailing newline
// of a sysfs file) is ignored. An empty list, an empty item, a range that
// runs backwards, anything but decimal digits, and a CPU at or beyond
// MaxCPUs are errors wrapping ErrCPUList. The kernel's stride syntax
// ("0-7:2") is not accepted: sysfs never writes it.
func ParseCPUList(s string) (CPUSet, error) {
	var set CPUSet
	list := strings.TrimSpace(s)
	if list == "" {
		return set, fmt.Errorf("%w %q: empty", ErrCPUList, s)
	}
	for item := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parseCPU(lo)
		if err != nil {
			return CPUSet{}, fmt.Errorf("%w %q: item %q: %v", ErrCPUList, s, item, err)
		}
		b := a
		if isRange {
			if b, err = parseCPU(hi); err != nil {
				return CPUSet{}, fmt.Errorf("%w %q: item %q: %v", ErrCPUList, s, item, err)
			}
			if b < a {
				return CPUSet{}, fmt.Errorf("%w %q: range %q runs backwards", ErrCPUList, s, item)
			}
		}
		for c := a; c <= b; c++ {
			set.Add(c)
		}
	}
	return set, nil
}

// parseCPU parses one CPU number: decimal digits only, below MaxCPUs.
func parseCPU(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing CPU number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a CPU number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n >= MaxCPUs {
		return 0, fmt.Errorf("CPU %s beyond the %d a CPUSet holds", s, MaxCPUs)
	}
	return int(n), nil
}
