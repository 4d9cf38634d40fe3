package sched

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by submissions to a scheduler that is closing
	// or closed, and by futures whose task was never run because of it.
	ErrClosed = errors.New("sched: closed")

	// ErrQueueFull is returned by TrySubmit when the submission queue has
	// no room.
	ErrQueueFull = errors.New("sched: queue full")

	// ErrInvalidOptions is returned (wrapped, with the offending field) by
	// New for options that cannot work.
	ErrInvalidOptions = errors.New("sched: invalid options")

	// ErrNilFunc is returned when the function to run is nil.
	ErrNilFunc = errors.New("sched: nil function")

	// ErrPanic is matched (errors.Is) by the *PanicError a panicking task
	// leaves on its future.
	ErrPanic = errors.New("sched: task panicked")
)

// PanicError is the error of a task that panicked: the value it panicked
// with and the stack of the panicking goroutine.
type PanicError struct {
	Value  any
	Stack  []byte
	Worker int // the worker it ran on
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("sched: task panicked on worker %d: %v", e.Worker, e.Value)
}

// Is reports ErrPanic as a match, so errors.Is(err, ErrPanic) works.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
