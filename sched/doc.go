// Package sched is weft's work-stealing scheduler: a fixed set of workers,
// each a goroutine locked to its own OS thread, that run tasks submitted
// from outside and the tasks those tasks spawn.
//
// Each worker owns a bounded Chase–Lev deque. A running task's spawns go
// to the bottom of its worker's deque and run LIFO (the last spawn runs
// next, hot in cache: the deque's bottom is the "LIFO slot" of the Go
// runtime and Tokio); idle workers steal half of a victim's deque from the
// top, oldest first. Submissions from outside go through one lock-free
// MPMC ring (ring.MPMC), from which workers take batches. At most half the
// workers search for work at once; a searcher that finds nothing parks,
// after announcing itself and looking once more, so that a submission
// either is seen by that last look or wakes it: no wake-up is lost.
//
// The API:
//
//   - Scheduler.Submit and Scheduler.TrySubmit run a func(*Worker).
//   - Go starts a task with a typed result: a Future, with Wait (from
//     outside) and Await (from inside a task, running other work while
//     it waits).
//   - Join runs two functions in parallel from inside a task. A worker
//     waiting for the other half runs queued work instead of blocking, so
//     nested fork-join cannot deadlock however deep.
//   - ParallelFor, Map, Reduce and ReduceOrdered split index ranges and
//     slices across the workers; ReduceOrdered gives bit-identical
//     floating-point results run after run.
//   - WorkerLocal holds one padded value per worker (thread-local storage);
//     Worker.ID, Worker.CPU and Worker.Pinned describe the worker a task
//     runs on (thread info).
//   - GoBlocking and SubmitBlocking run calls that may block (files,
//     sockets, locks) on an elastic pool of plain goroutines, so that a
//     blocking call never holds a CPU worker.
//   - Broadcast runs a function once on every worker, on that worker.
//   - Options.Pin pins each worker's thread to a CPU of its own (package
//     affinity): one per physical core first, only CPUs the process may
//     use.
//   - Stats is a lock-free snapshot of the counters.
//
// A task that panics does not take the scheduler down: the panic becomes a
// *PanicError (errors.Is(err, ErrPanic)) on the task's future, is counted,
// is passed to Options.PanicHandler, and the worker's goroutine and thread
// are replaced by fresh ones.
//
// Go cannot preempt a running goroutine, and neither can sched: a task
// that loops forever keeps its worker. Options.StuckAfter makes such tasks
// visible in Stats.Stuck; deadlines are the task's own business, through
// its context.
//
// Workers run under pprof labels sched=<Options.Name> and worker=<id>, so
// that `go tool pprof -tagfocus=worker=3` shows one worker's tasks.
package sched
