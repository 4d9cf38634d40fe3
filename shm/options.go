package shm

// Options tune how an arena is mapped in this process. The zero value maps
// it lazily (pages are faulted in on first touch), with the system's default
// page size, swappable.
//
// Each option that the system refuses makes the constructor fail with an
// error matching ErrRefused (and the system's own error), rather than
// silently doing less than asked.
type Options struct {
	// Populate faults every page in up front, so that no first touch pays
	// a page fault later. For a shared arena it also allocates the backing
	// store (fallocate), so that a full /dev/shm is an error now instead of
	// a SIGBUS on some later write.
	Populate bool

	// HugePages asks for transparent huge pages (madvise MADV_HUGEPAGE),
	// which cut TLB misses on large arenas. It fails when the kernel has
	// transparent huge pages disabled for this kind of memory (see
	// /sys/kernel/mm/transparent_hugepage/enabled, and shmem_enabled for
	// shared arenas), and with ErrUnsupported outside Linux.
	HugePages bool

	// Lock locks the arena in memory (mlock): it is faulted in and never
	// swapped out. It fails when the arena is larger than RLIMIT_MEMLOCK
	// allows (see ulimit -l) and the process lacks CAP_IPC_LOCK.
	Lock bool
}
