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

// Sentinels of the message broker.
var (
	// ErrTypeMismatch is returned when a message type, an event or a
	// stream is used with other Go types than those it was registered
	// with.
	ErrTypeMismatch = errors.New("worker: type mismatch")
)
