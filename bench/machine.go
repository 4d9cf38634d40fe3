package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/loov/hrtime"
)

// Machine describes where a run happened, for the report's header.
type Machine struct {
	CPU           string `json:"cpu"`
	LogicalCPUs   int    `json:"logical_cpus"`
	PhysicalCores int    `json:"physical_cores"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
	CacheLine     int    `json:"cache_line"`
	GoVersion     string `json:"go_version"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	Kernel        string `json:"kernel,omitempty"`
	TimerOverhead string `json:"timer_overhead"`
	Date          string `json:"date"`
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	m := Machine{
		CPU:           strings.TrimSpace(cpuid.CPU.BrandName),
		LogicalCPUs:   runtime.NumCPU(),
		PhysicalCores: cpuid.CPU.PhysicalCores,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		CacheLine:     cpuid.CPU.CacheLine,
		GoVersion:     runtime.Version(),
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		TimerOverhead: hrtime.Overhead().String(),
		Date:          time.Now().UTC().Format("2006-01-02"),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func (m Machine) String() string {
	return fmt.Sprintf("%s; %d logical CPUs, %d physical cores, GOMAXPROCS=%d; %s %s/%s kernel %s; timer overhead %s; %s",
		m.CPU, m.LogicalCPUs, m.PhysicalCores, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch, m.Kernel, m.TimerOverhead, m.Date)
}
