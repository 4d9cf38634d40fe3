package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/weftlabs/weft/shm"
)

// Zero-copy hand-off, the guide's section 4. A message's payload is a Go
// value, so passing an *shm.Buffer through a Broker or a Pool already
// copies nothing but the handle: the handler reads and writes the same
// arena memory the sender filled. What the helpers below add is the
// ownership discipline of transferable objects.
//
//   - TransferRequest moves the buffer to the handler: the sender's handle
//     is detached first (Len 0, every later use shm.ErrDetached), as
//     postMessage(buf, [buf]) detaches an ArrayBuffer, so the sender
//     cannot touch memory the handler now owns.
//   - ShareRequest gives the handler a second handle on the same memory
//     and keeps the sender's, as posting a SharedArrayBuffer does; the two
//     sides then coordinate through the data (or shm's atomics).
//   - TransferAll detaches several buffers for one message (the guide's
//     transferMultiple).
//
// The handler owns what it receives: it releases the handles it does not
// return (Buffer.Release), so that pool blocks go back to their pool.

// TransferRequest sends buf to the broker's handler for msgType as a
// transferred handle and returns the handler's reply. buf is detached
// before the request is sent, whatever happens next; if the request is not
// accepted (ErrClosed, ErrUnknownType, ctx's error before it was queued)
// the transferred handle is released, so that a pool block is not lost.
// Once accepted, the handler owns it.
func TransferRequest[Out any](ctx context.Context, b *Broker, msgType string, buf *shm.Buffer) (Out, error) {
	var zero Out
	moved, err := buf.Transfer()
	if err != nil {
		return zero, fmt.Errorf("worker: transfer: %w", err)
	}
	out, err := Request[*shm.Buffer, Out](ctx, b, msgType, moved)
	if refused(err) {
		moved.Release()
	}
	return out, err
}

// ShareRequest sends the handler for msgType a second handle on buf's
// memory and returns its reply; the caller keeps buf. The handler's handle
// is its own to release.
func ShareRequest[Out any](ctx context.Context, b *Broker, msgType string, buf *shm.Buffer) (Out, error) {
	var zero Out
	second, err := buf.Share()
	if err != nil {
		return zero, fmt.Errorf("worker: share: %w", err)
	}
	out, err := Request[*shm.Buffer, Out](ctx, b, msgType, second)
	if refused(err) {
		second.Release()
	}
	return out, err
}

// TransferAll transfers every buffer of bufs and returns the new handles,
// in order, for one message — the guide's transferMultiple. Either all are
// transferred or, when one cannot be (already detached, closed arena),
// none is: the buffers are checked first, and a transfer that still fails
// (a race with another Transfer of the same handle) hands the ones already
// moved back to new handles returned with the error.
func TransferAll(bufs ...*shm.Buffer) ([]*shm.Buffer, error) {
	for i, b := range bufs {
		if b == nil || b.Detached() {
			return nil, fmt.Errorf("worker: transfer buffer %d: %w", i, shm.ErrDetached)
		}
	}
	out := make([]*shm.Buffer, 0, len(bufs))
	for i, b := range bufs {
		moved, err := b.Transfer()
		if err != nil {
			return out, fmt.Errorf("worker: transfer buffer %d: %w", i, err)
		}
		out = append(out, moved)
	}
	return out, nil
}

// refused reports whether a request's error says the handler never got
// the message: the broker refused it (closed, no such handler, wrong
// types) or dropped it unrun at shutdown. A timeout or an ended context is
// not one: the message may be with the handler, which then owns it.
func refused(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrUnknownType) ||
		errors.Is(err, ErrTypeMismatch) || errors.Is(err, ErrInvalidOptions)
}
