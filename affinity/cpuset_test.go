package affinity

import (
	"errors"
	"slices"
	"testing"
)

func TestCPUListRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		cpus    []int
	}{
		{"0", "0", []int{0}},
		{"0-3,6", "0-3,6", []int{0, 1, 2, 3, 6}},
		{"0-1", "0-1", []int{0, 1}},
		{"0,1", "0-1", []int{0, 1}},
		{"6,0-3", "0-3,6", []int{0, 1, 2, 3, 6}},
		{"3-3", "3", []int{3}},
		{"0-2,2-4", "0-4", []int{0, 1, 2, 3, 4}},
		{"63-64,127,128,1023", "63-64,127-128,1023", []int{63, 64, 127, 128, 1023}},
		{"0-1\n", "0-1", []int{0, 1}}, // as read from sysfs
		{"007", "7", []int{7}},
	} {
		s, err := ParseCPUList(tc.in)
		if err != nil {
			t.Errorf("ParseCPUList(%q): %v", tc.in, err)
			continue
		}
		if got := s.String(); got != tc.out {
			t.Errorf("ParseCPUList(%q).String() = %q, want %q", tc.in, got, tc.out)
		}
		if got := slices.Collect(s.All()); !slices.Equal(got, tc.cpus) {
			t.Errorf("ParseCPUList(%q).All() = %v, want %v", tc.in, got, tc.cpus)
		}
		if s.Len() != len(tc.cpus) {
			t.Errorf("ParseCPUList(%q).Len() = %d, want %d", tc.in, s.Len(), len(tc.cpus))
		}
		if s != CPUSetOf(tc.cpus...) {
			t.Errorf("ParseCPUList(%q) != CPUSetOf(%v)", tc.in, tc.cpus)
		}
		back, err := ParseCPUList(s.String())
		if err != nil || back != s {
			t.Errorf("round trip of %q: %v, %v", s, back, err)
		}
	}
}

func TestCPUListFull(t *testing.T) {
	s, err := ParseCPUList("0-1023")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != MaxCPUs || !s.Has(0) || !s.Has(MaxCPUs-1) || s.String() != "0-1023" {
		t.Errorf("full set: len %d, %q", s.Len(), s)
	}
}

func TestParseCPUListErrors(t *testing.T) {
	for _, in := range []string{
		"", " ", "\n", "3-1", "a", "1,,2", ",1", "1,", "-", "1-", "-1", "1-2-3",
		"+1", "0x1", "1 ,2", "0-7:2", "1024", "0-1024", "99999999999999999999999",
	} {
		s, err := ParseCPUList(in)
		if !errors.Is(err, ErrCPUList) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want ErrCPUList", in, s, err)
		}
		if s != (CPUSet{}) {
			t.Errorf("ParseCPUList(%q) returned non-empty set %v with its error", in, s)
		}
	}
}

func TestCPUSetBasics(t *testing.T) {
	var s CPUSet
	if s.Len() != 0 || s.String() != "" || s.Has(0) || s.max() != -1 {
		t.Errorf("zero CPUSet: len %d, %q, max %d", s.Len(), s, s.max())
	}
	s.Add(5)
	s.Add(5)
	s.Add(700)
	if s.Len() != 2 || !s.Has(5) || !s.Has(700) || s.Has(6) || s.Has(-1) || s.Has(MaxCPUs) || s.max() != 700 {
		t.Errorf("after Add(5,5,700): %q len %d", s, s.Len())
	}
	c := s // a value: copies are independent
	c.Add(1)
	if s.Has(1) || !c.Has(1) || s == c {
		t.Error("CPUSet copy shares state")
	}
	if got := c.and(CPUSetOf(1, 5, 9)); got != CPUSetOf(1, 5) {
		t.Errorf("and = %v", got)
	}
	if got := c.andNot(CPUSetOf(1, 5, 9)); got != CPUSetOf(700) {
		t.Errorf("andNot = %v", got)
	}
	for c := range s.All() { // early break
		if c != 5 {
			t.Errorf("first CPU %d", c)
		}
		break
	}
	for _, bad := range []int{-1, MaxCPUs} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%d) did not panic", bad)
				}
			}()
			s.Add(bad)
		}()
	}
}
