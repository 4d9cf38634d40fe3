package shm

import (
	"context"
	"fmt"
)

// Consumer is the reading end of a Ring. It belongs to one goroutine at a
// time.
type Consumer struct {
	r *Ring
	s side

	// Private to the consumer.
	head       uint64 // the next position to read; equals the shared head between records
	cachedTail uint64 // the last tail loaded from the producer's line
	peeked     uint64 // how far head moves past the peeked record; 0 if none
	peekOff    uint64 // the peeked record's payload offset and length
	peekN      int
	closed     bool
}

// Consumer attaches this process as the ring's consumer. It fails with
// ErrBusy while another live process is attached, and with ErrClosed once
// a consumer has closed the ring.
func (r *Ring) Consumer() (*Consumer, error) {
	if err := r.a.check("Consumer"); err != nil {
		return nil, err
	}
	h := r.h
	c := &Consumer{r: r, s: side{a: r.a,
		flags: &h.consFlags, pid: &h.consPid, wake: &h.consWake,
		peerFlags: &h.prodFlags, peerPid: &h.prodPid, peerWake: &h.prodWake,
	}}
	if err := c.s.attach("consumer"); err != nil {
		return nil, err
	}
	c.head = h.head.Load()
	c.cachedTail = c.head
	if c.head%8 != 0 {
		h.consPid.Store(0)
		return nil, fmt.Errorf("%w: ring head %d", ErrCorrupt, c.head)
	}
	return c, nil
}

// TryPeek is Peek without waiting: ErrEmpty when no record is there.
func (c *Consumer) TryPeek() ([]byte, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	return c.peek()
}

// Peek waits for the next record and returns its payload, in the ring
// itself, without copying. The record stays until Advance; Peek returns
// it again until then. The slice is shared memory that the producer may
// reuse after Advance. Peek waits until ctx ends, or the producer closes
// (ErrClosed, once every record is read) or dies (ErrPeerDead, likewise).
func (c *Consumer) Peek(ctx context.Context) ([]byte, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	var rec []byte
	err := c.s.await(ctx, func() (err error) {
		rec, err = c.peek()
		return err
	}, ErrEmpty)
	return rec, err
}

func (c *Consumer) ready() error {
	if c.closed {
		return fmt.Errorf("%w: pop from a closed consumer", ErrClosed)
	}
	return c.r.a.check("pop")
}

// peek finds and validates the next record.
func (c *Consumer) peek() ([]byte, error) {
	if c.peeked != 0 {
		return c.r.data[c.peekOff : c.peekOff+uint64(c.peekN) : c.peekOff+uint64(c.peekN)], nil
	}
	if c.head == c.cachedTail {
		tail := c.r.h.tail.Load()
		if tail < c.head || tail-c.head > c.r.cap || tail%8 != 0 {
			return nil, fmt.Errorf("%w: ring tail %d with head %d", ErrCorrupt, tail, c.head)
		}
		if tail == c.head {
			// Empty. If the producer has closed, everything it
			// published came before its close: reload tail to be sure.
			if c.r.h.prodFlags.Load()&flagClosed != 0 &&
				c.r.h.tail.Load() == c.head {
				return nil, fmt.Errorf("%w: the producer has closed", ErrClosed)
			}
			return nil, ErrEmpty
		}
		c.cachedTail = tail
	}
	off, n, adv, err := c.r.readRecord(c.head, c.cachedTail)
	if err != nil {
		return nil, err
	}
	c.peeked, c.peekOff, c.peekN = adv, off, n
	return c.r.data[off : off+uint64(n) : off+uint64(n)], nil
}

// Advance consumes the peeked record, handing its space back to the
// producer.
func (c *Consumer) Advance() error {
	if c.peeked == 0 {
		return fmt.Errorf("%w: Advance without Peek", ErrInvalid)
	}
	c.head += c.peeked
	c.peeked = 0
	// Hands the bytes back: a sequentially consistent store, so that the
	// load of the producer's flags below cannot pass it (see side.await).
	c.r.h.head.Store(c.head)
	if f := c.r.h.prodFlags.Load(); f&flagWaiting != 0 {
		c.s.wakePeer(f)
	}
	return nil
}

// TryPop appends the next record to dst and consumes it, or returns
// ErrEmpty. With room in dst it allocates nothing.
func (c *Consumer) TryPop(dst []byte) ([]byte, error) {
	rec, err := c.TryPeek()
	if err != nil {
		return dst, err
	}
	dst = append(dst, rec...)
	return dst, c.Advance()
}

// Pop appends the next record to dst and consumes it, waiting for one as
// Peek does.
func (c *Consumer) Pop(ctx context.Context, dst []byte) ([]byte, error) {
	rec, err := c.Peek(ctx)
	if err != nil {
		return dst, err
	}
	dst = append(dst, rec...)
	return dst, c.Advance()
}

// Close marks the ring closed from the consumer's side: the producer's
// pushes fail with ErrClosed from now on. Closing is final.
func (c *Consumer) Close() error {
	if c.closed {
		return fmt.Errorf("%w: consumer already closed", ErrClosed)
	}
	c.closed, c.peeked = true, 0
	if err := c.r.a.check("Consumer.Close"); err != nil {
		return err
	}
	c.s.close()
	return nil
}
