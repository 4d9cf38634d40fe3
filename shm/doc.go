// Package shm is weft's shared memory: mmap arenas outside the Go heap,
// private to a process or shared between processes, with buffers that can
// be shared or transferred, typed views, atomics with wait/notify, and a
// ring of byte records that lives inside an arena so that two processes
// exchange messages without a system call per message.
//
// It is the Go form of the guide's zero-copy section: an Arena is the
// SharedArrayBuffer, View gives the Float64Array over it, Buffer.Share and
// Buffer.Transfer are posting a shared buffer and transferring an
// ArrayBuffer (the old handle is detached: length 0, ErrDetached), Wait
// and Notify are Atomics.wait and Atomics.notify.
//
// # Arenas
//
// New maps a private arena: anonymous memory the garbage collector never
// scans, for large numeric data (a []float64 of a gigabyte costs the GC
// nothing). Create makes a shared arena with a name (a file under
// /dev/shm, created exclusively, mode 0600, never through a symlink) that
// another process maps with Open; CreateMemfd makes one with no name, to
// hand to a child process as a file (Arena.File, exec.Cmd.ExtraFiles,
// OpenFile). Options populate the memory up front, ask for transparent
// huge pages, or lock it in memory, each failing clearly (ErrRefused) when
// the system says no.
//
// Every arena starts with a header: magic, layout version, sizes, the
// creator's pid, the allocator's pointer and root slots. The creator
// writes the magic last; Open validates the whole header before using any
// of it. Memory shared with another process is untrusted: every offset
// and length read from it (allocator pointer, roots, pool links, ring
// indices, record headers) is checked before use, so a truncated,
// corrupted or hostile arena gives ErrCorrupt, never a crash or an
// out-of-bounds access.
//
// # Allocation
//
// Arena.Alloc bumps a shared pointer (lock-free, from any process) and
// never frees; Arena.NewPool carves a pool of fixed-size blocks with a
// lock-free, ABA-safe free list, for message buffers. Blocks are passed to
// another process as an offset and a length (Buffer.Offset, Arena.Buffer,
// Pool.BufferAt).
//
// # Rings between processes
//
// NewRing lays a single-producer single-consumer ring of variable-length
// byte records out in an arena; the other process finds it with OpenRing
// (its offset travels in a root slot, Arena.SetRoot). Producer and
// Consumer attach to its two ends. The consumer validates every record
// header it reads; a consumer with nothing to read spins briefly, then
// sleeps on a futex until the producer wakes it; and a side whose peer
// process died (checked by pid while it waits) gets ErrPeerDead after
// every committed record has been delivered.
//
// A short example, one process, private arena:
//
//	a, err := shm.New(1<<20, shm.Options{})
//	if err != nil { ... }
//	defer a.Close()
//	buf, _ := a.Alloc(8 * 1024)
//	xs, _ := shm.View[float64](buf) // 1024 float64s off the Go heap
//	xs[0] = 3.14
//
// Linux is the full implementation. Other Unix systems have arenas (named
// ones are files in the temporary directory), pools, views, atomics and
// rings, whose waits poll; memfd, futex Wait/Notify and huge pages return
// ErrUnsupported there. Without mmap everything returns ErrUnsupported.
package shm
