// Package worker is the guide's worker API in Go, on weft's engine: typed
// pools of CPU workers (pinned, on a sched.Scheduler, never blocked) and
// I/O workers (an elastic pool that may block); long-lived workers with a
// mailbox for request/response, batches, streams and events; zero-copy
// hand-off of shm buffers; recycling and health monitoring; a shared,
// versioned configuration; thread utilities; and a System that composes
// them with graceful shutdown.
//
// The guide's sections, and where they are:
//
//   - §1, §2 pools and specialised workers: NewPool, NewStatefulPool
//     (a worker type with state of its own), PoolOptions.Kind CPU or IO;
//     Pool.Execute, Map, Submit, TrySubmit, Stats, Close, Shutdown.
//   - §3 message patterns: NewBroker; Handle and HandleStream register
//     typed handlers by message type; Request, Post, NewBatch with
//     AddRequest, Stream (chunks as an iter.Seq2), and an Endpoint's
//     Client for a goroutine that calls in a loop; events with On and
//     Emit.
//   - §4 zero-copy: TransferRequest, ShareRequest and TransferAll pass
//     shm.Buffer handles with the ownership rules of transferable and
//     shared buffers.
//   - §5 lifecycle: NewRecycler (retire by tasks, age, idle time, heap or
//     state size) and NewHealthMonitor (per-worker TaskRecorder, metrics
//     with percentiles, stuck and failing workers, expvar).
//   - §6 environment: NewEnvironment, Config (lock-free snapshots,
//     versioned copy-on-write updates, watchers), Cache, Resources.
//   - §7 thread utilities: Thread, IsMainThread, CurrentWorker,
//     RunInWorker, NewThreadLocal, Measure.
//   - §8 the worker system: NewSystem, NewStatefulSystem; ProcessBatch,
//     Metrics, Broadcast, Resources, Shutdown with a report.
//
// docs/guide.md walks through each with the programs in examples/.
//
// Every call that can wait takes a context.Context first and returns its
// error; errors are sentinel values (ErrClosed, ErrTimeout, …) usable with
// errors.Is, wrapped with what failed.
package worker
