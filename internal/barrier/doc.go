// Package barrier provides the two halves of an asymmetric memory barrier,
// so that the fast path of a queue can publish with a plain release store
// while the rare slow path pays for the ordering both sides need.
//
// On x86-64, every sequentially consistent store the Go toolchain emits is
// an XCHG: a locked instruction that waits for exclusive ownership of the
// cache line and drains the store buffer. When the other core has just read
// that line (a consumer polling a producer's index), each such store stalls
// for a cross-core transfer, and a single-item SPSC queue runs at the speed
// of that transfer. A plain MOV is already a release store under x86-TSO; it
// retires into the store buffer and the core moves on. (An assembly MOV
// would be opaque to the compiler, but a call into assembly pays the ABI
// wrapper, measured here at over a nanosecond per store, a third of a
// queue operation; StoreRelease documents why the compiler keeps a plain
// store in order.) What it gives up is
// store→load order: a producer's load of "is anybody parked?" may complete
// before its release store of the new index is visible, which is exactly
// the Dekker pattern a no-lost-wake-up protocol depends on.
//
// The slow side restores that order with Heavy, which on Linux is
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): when it returns, every
// thread of the process has executed a full barrier, so a release store
// that precedes the store side's load in program order is visible, or the
// load comes after the barrier and sees what the slow side wrote before
// calling Heavy. Heavy costs about a microsecond and is called only by
// goroutines that are about to park, or by Close.
//
// Where the asymmetric scheme is unavailable (another OS or architecture,
// a kernel without expedited membarrier, or the race detector, which must
// see every synchronising store), StoreRelease is a sequentially consistent
// atomic store and Heavy does nothing; the protocols built on top are
// correct either way. The build tag weft_portable forces the portable form
// everywhere, so that both can be tested on one machine. On arm64 the plain
// atomic store is already a store-release (STLR) ordered before later
// load-acquires, so nothing is gained there and the portable form is used.
package barrier
