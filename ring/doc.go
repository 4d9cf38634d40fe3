// Package ring provides bounded lock-free FIFO queues: [SPSC] for one
// producer and one consumer, and [MPMC] for any number of each.
//
// Both hold a fixed number of items (a power of two), allocate nothing per
// operation, and offer three ways to move items:
//
//   - TryPush / TryPop never park: they report ErrFull or ErrEmpty.
//   - Push / Pop wait while the queue is full or empty: they spin briefly,
//     then yield, then park until the other side makes progress, the queue
//     is closed, or the context is done. A side that finds nobody parked
//     pays one atomic load for the wake-up check.
//   - The batch forms (TryPushBatch, PushBatch, TryPopBatch, PopBatch) move
//     many items per synchronisation: on SPSC one atomic operation per batch,
//     on MPMC one compare-and-swap per batch.
//
// Close ends a queue's life: pushes fail with ErrClosed at once, pops
// drain what is left and then fail with ErrClosed, and every parked
// goroutine is woken.
//
// Use SPSC wherever one goroutine feeds one other (a pipeline hand-off, a
// worker's inbox with a single sender); it is several times cheaper than
// MPMC. Use MPMC for shared queues.
//
// The zero value of a queue is not usable; create queues with NewSPSC or
// NewMPMC. Passing a nil context to a blocking method panics, whether or not
// the call would have had to wait.
package ring
