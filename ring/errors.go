package ring

import "errors"

var (
	// ErrClosed is returned by a push on a closed queue, and by a pop on a
	// closed queue once every item pushed before Close has been popped.
	ErrClosed = errors.New("ring: closed")

	// ErrFull is returned by a non-blocking push when the queue has no free slot.
	ErrFull = errors.New("ring: full")

	// ErrEmpty is returned by a non-blocking pop when the queue holds no item.
	ErrEmpty = errors.New("ring: empty")

	// ErrCapacity is returned (wrapped, with the offending value) by the
	// constructors when the capacity is below 1 or above MaxCapacity.
	ErrCapacity = errors.New("ring: invalid capacity")
)
