package worker

import (
	"context"
	"fmt"
	"reflect"

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
// before the request is sent, whatever happens next. If the handler never
// gets the message — no such handler, wrong types, a closed broker, no
// room in the mailbox before ctx or the default timeout ended, or dropped
// unrun at shutdown while the caller waited — the transferred handle is
// released, so that a pool block is not lost. Otherwise the handler owns
// it, also when the caller stops waiting for the reply: the message may
// still be with the handler, and releasing it under the handler's feet
// would hand its memory to someone else. (A message whose caller stopped
// waiting and that a shutdown then drops unrun keeps its handle: its
// block is lost until the arena is closed.)
func TransferRequest[Out any](ctx context.Context, b *Broker, msgType string, buf *shm.Buffer) (Out, error) {
	var zero Out
	moved, err := buf.Transfer()
	if err != nil {
		return zero, fmt.Errorf("worker: transfer: %w", err)
	}
	return sendBuffer[Out](ctx, b, msgType, moved)
}

// ShareRequest sends the handler for msgType a second handle on buf's
// memory and returns its reply; the caller keeps buf. The handler's handle
// is its own to release (or, if the handler never got it, is released
// here, as in TransferRequest).
func ShareRequest[Out any](ctx context.Context, b *Broker, msgType string, buf *shm.Buffer) (Out, error) {
	var zero Out
	second, err := buf.Share()
	if err != nil {
		return zero, fmt.Errorf("worker: share: %w", err)
	}
	return sendBuffer[Out](ctx, b, msgType, second)
}

// sendBuffer requests msgType with buf, a handle the handler is to own,
// and releases buf if the handler never got it: the lookup failed, the
// message never reached the worker, or a shutdown dropped it unrun while
// the caller still waited (the endpoint's own dropped reply, told by
// identity, so that an error the handler returns cannot pass for it).
func sendBuffer[Out any](ctx context.Context, b *Broker, msgType string, buf *shm.Buffer) (Out, error) {
	e, err := brkLookup[*Endpoint[*shm.Buffer, Out]](b, msgType, "request", reflect.TypeFor[*shm.Buffer](), reflect.TypeFor[Out]())
	if err != nil {
		buf.Release()
		var zero Out
		return zero, err
	}
	out, err, sent := e.request(ctx, buf)
	if !sent || err == e.dropped {
		buf.Release()
	}
	return out, err
}

// TransferAll transfers every buffer of bufs and returns the new handles,
// in order, for one message — the guide's transferMultiple. Either all are
// transferred or, when one cannot be (nil, detached, in a closed arena, or
// the same handle twice), none is: every buffer is checked first. Only a
// race with another goroutine transferring one of the same handles can
// still fail half-way; the handles already moved are then returned with
// the error, for the caller to release.
func TransferAll(bufs ...*shm.Buffer) ([]*shm.Buffer, error) {
	seen := make(map[*shm.Buffer]int, len(bufs))
	for i, b := range bufs {
		if b == nil {
			return nil, fmt.Errorf("%w: transfer buffer %d: nil", ErrInvalidOptions, i)
		}
		if j, dup := seen[b]; dup {
			return nil, fmt.Errorf("%w: transfer buffer %d: the same handle as buffer %d", ErrInvalidOptions, i, j)
		}
		seen[b] = i
		// Offset fails for a detached handle and for a closed arena.
		if _, err := b.Offset(); err != nil {
			return nil, fmt.Errorf("worker: transfer buffer %d: %w", i, err)
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
