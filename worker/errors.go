package worker

import "errors"

var (
	// ErrClosed is returned by every operation on a pool, worker, bus or
	// system that has been closed (or is shutting down).
	ErrClosed = errors.New("worker: closed")

	// ErrTimeout is returned when a call's default timeout passes before
	// its reply. A context deadline set by the caller is reported as the
	// context's own error.
	ErrTimeout = errors.New("worker: timed out")

	// ErrQueueFull is returned by non-blocking submissions when the queue
	// has no room.
	ErrQueueFull = errors.New("worker: queue full")

	// ErrInvalidOptions is returned (wrapped, naming the field) for
	// options or arguments that cannot work: zero or negative sizes, nil
	// handlers.
	ErrInvalidOptions = errors.New("worker: invalid options")

	// ErrUnknownType is returned for a message type no handler is
	// registered for.
	ErrUnknownType = errors.New("worker: unknown message type")
)

var (
	// ErrNotRegistered is returned for a name or handle the registry,
	// monitor or environment it is given to does not hold: a resource
	// never added (or of another type), a recorder already unregistered.
	ErrNotRegistered = errors.New("worker: not registered")

	// ErrNameTaken is returned when registering a name that is already
	// registered (a resource, an expvar page).
	ErrNameTaken = errors.New("worker: name already taken")

	// ErrNotAcquired is returned by Recycler.Release and Retire for a
	// worker that is not out on loan from that recycler (released twice,
	// or another recycler's).
	ErrNotAcquired = errors.New("worker: not acquired")

	// ErrNotOnWorker is returned by thread utilities called outside a task
	// of a CPU worker (or on a worker of another scheduler).
	ErrNotOnWorker = errors.New("worker: not on a worker")
)

var (
	// ErrMemoryLimit is returned by a System's non-blocking submissions
	// while the live heap is over SystemOptions.MemoryLimit.
	ErrMemoryLimit = errors.New("worker: over the memory limit")
)

// Sentinels of the message broker.
var (
	// ErrTypeMismatch is returned when a message type, an event or a
	// stream is used with other Go types than those it was registered
	// with.
	ErrTypeMismatch = errors.New("worker: type mismatch")
)
