// Package worker is the guide's worker API in Go, on weft's engine: typed
// pools of CPU workers (pinned, on a sched.Scheduler, never blocked) and
// I/O workers (an elastic pool that may block); long-lived workers with a
// mailbox for request/response, batches, streams and events; zero-copy
// hand-off of shm buffers; recycling and health monitoring; a shared,
// versioned configuration; thread utilities; and a System that composes
// them with graceful shutdown.
//
// Every call that can wait takes a context.Context first and returns its
// error; errors are sentinel values (ErrClosed, ErrTimeout, …) usable with
// errors.Is, wrapped with what failed.
package worker
