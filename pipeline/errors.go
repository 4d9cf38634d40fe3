package pipeline

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid is returned (wrapped, with the offending value) for
	// options and stage arguments that cannot work: a concurrency below 1,
	// a nil function, a batch size below 1, a negative capacity.
	ErrInvalid = errors.New("pipeline: invalid argument")

	// ErrConsumed is returned when a stream is given to a second stage or
	// sink: every stream has exactly one consumer (use Tee to copy one).
	ErrConsumed = errors.New("pipeline: stream already consumed")

	// ErrUnconsumed is returned by a sink when some other stream of the
	// pipeline has no consumer, so that its items would have nowhere to go.
	ErrUnconsumed = errors.New("pipeline: stream has no consumer")

	// ErrForeign is returned when streams of different pipelines are
	// combined.
	ErrForeign = errors.New("pipeline: stream of another pipeline")

	// ErrDuplicateName is returned when two stages of a pipeline have the
	// same name: stats, errors and profiles name stages, so names must be
	// unique.
	ErrDuplicateName = errors.New("pipeline: duplicate stage name")

	// ErrReused is returned by a sink on a pipeline that has already run
	// (or is running): a pipeline runs once.
	ErrReused = errors.New("pipeline: already run")

	// ErrPanic is matched (errors.Is) by the *PanicError of a stage whose
	// function panicked.
	ErrPanic = errors.New("pipeline: stage panicked")
)

// StageError is the error of a pipeline that failed in a stage: the
// stage's name and what went wrong there (the function's own error, a
// *PanicError, or a construction error such as ErrInvalid).
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return "pipeline: stage " + e.Stage + ": " + e.Err.Error() }

// Unwrap returns the stage's error.
func (e *StageError) Unwrap() error { return e.Err }

// PanicError is what a panic in a stage's function becomes: the value it
// panicked with and the stack of the panicking goroutine.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Is reports ErrPanic as a match, so errors.Is(err, ErrPanic) works.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// stageErr wraps err as the error of the named stage.
func stageErr(stage string, err error) error { return &StageError{Stage: stage, Err: err} }
