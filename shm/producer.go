package shm

import (
	"context"
	"fmt"
)

// Producer is the writing end of a Ring. It belongs to one goroutine at a
// time.
type Producer struct {
	r *Ring
	s side

	// Private to the producer.
	tail       uint64 // the next position to fill; equals the shared tail between records
	cachedHead uint64 // the last head loaded from the consumer's line
	pending    uint64 // size of the reserved record (wrap marker included); 0 if none
	peerClosed bool   // the consumer closed: every push fails
	closed     bool
}

// Producer attaches this process as the ring's producer. It fails with
// ErrBusy while another live process is attached, and with ErrClosed once
// a producer has closed the ring.
func (r *Ring) Producer() (*Producer, error) {
	if err := r.a.check("Producer"); err != nil {
		return nil, err
	}
	h := r.h
	p := &Producer{r: r, s: side{a: r.a,
		flags: &h.prodFlags, pid: &h.prodPid, wake: &h.prodWake,
		peerFlags: &h.consFlags, peerPid: &h.consPid, peerWake: &h.consWake,
	}}
	if err := p.s.attach("producer"); err != nil {
		return nil, err
	}
	p.tail = h.tail.Load()
	p.cachedHead = h.head.Load()
	err := p.checkHead(p.cachedHead)
	if err == nil && p.tail%8 != 0 {
		err = fmt.Errorf("%w: ring tail %d", ErrCorrupt, p.tail)
	}
	if err != nil {
		h.prodPid.Store(0)
		return nil, err
	}
	return p, nil
}

// checkHead validates a head loaded from the consumer's line against our
// tail: it can lag by at most the capacity and never pass us.
func (p *Producer) checkHead(head uint64) error {
	if head > p.tail || p.tail-head > p.r.cap || head%8 != 0 {
		return fmt.Errorf("%w: ring head %d with tail %d", ErrCorrupt, head, p.tail)
	}
	return nil
}

// TryReserve is Reserve without waiting: ErrFull when the record does not
// fit now.
func (p *Producer) TryReserve(n int) ([]byte, error) {
	if err := p.ready(n); err != nil {
		return nil, err
	}
	return p.reserve(n)
}

// Reserve makes room for a record of n bytes and returns its payload, in
// the ring itself, to be filled in place; Commit publishes it. It waits
// while the ring is full, until ctx ends or the consumer closes
// (ErrClosed) or dies (ErrPeerDead). A reservation must be committed
// before the next one.
func (p *Producer) Reserve(ctx context.Context, n int) ([]byte, error) {
	if err := p.ready(n); err != nil {
		return nil, err
	}
	var rec []byte
	err := p.s.await(ctx, func() (err error) {
		rec, err = p.reserve(n)
		return err
	}, ErrFull)
	return rec, err
}

// ready checks what makes any reservation fail.
func (p *Producer) ready(n int) error {
	switch {
	case p.closed:
		return fmt.Errorf("%w: push to a closed producer", ErrClosed)
	case p.peerClosed:
		return fmt.Errorf("%w: the consumer has closed", ErrClosed)
	case p.pending != 0:
		return fmt.Errorf("%w: Reserve before Commit of the previous record", ErrInvalid)
	case n < 0 || n > p.r.max:
		return fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, n, p.r.max)
	}
	return p.r.a.check("push")
}

// reserve writes the headers of a record of n bytes (and of a wrap marker
// before it, if it does not fit before the end of the data) beyond the
// published tail, where the consumer does not look.
func (p *Producer) reserve(n int) ([]byte, error) {
	size := recordSize(n)
	off := p.tail & (p.r.cap - 1)
	need := size
	if off+size > p.r.cap {
		need += p.r.cap - off // the wrap marker's padding
	}
	if p.r.cap-(p.tail-p.cachedHead) < need {
		head := p.r.h.head.Load()
		if err := p.checkHead(head); err != nil {
			return nil, err
		}
		p.cachedHead = head
		if p.r.cap-(p.tail-head) < need {
			if err := p.s.peerGone(false); err != nil {
				p.peerClosed = err == ErrClosed
				return nil, fmt.Errorf("%w (the consumer)", err)
			}
			return nil, ErrFull
		}
	}
	pos := p.tail
	if need != size {
		putHeader(p.r.data, off, wrapMarker, pos)
		pos += p.r.cap - off
		off = 0
	}
	putHeader(p.r.data, off, uint32(n), pos)
	p.pending = need
	return p.r.data[off+recordHeaderSize : off+recordHeaderSize+uint64(n) : off+recordHeaderSize+uint64(n)], nil
}

// Commit publishes the reserved record to the consumer.
func (p *Producer) Commit() error {
	if p.pending == 0 {
		return fmt.Errorf("%w: Commit without Reserve", ErrInvalid)
	}
	p.tail += p.pending
	p.pending = 0
	// The publication: a sequentially consistent store, so that the
	// load of the consumer's flags below cannot pass it (see side.await).
	// (A plain release store with a cross-process membarrier in the
	// sleeper was measured: no faster streaming, slower round trips.)
	p.r.h.tail.Store(p.tail)
	if f := p.r.h.consFlags.Load(); f != 0 {
		p.s.wakePeer(f)
		if f&flagClosed != 0 {
			p.peerClosed = true
		}
	}
	return nil
}

// TryPush copies rec into the ring as one record, or returns ErrFull.
func (p *Producer) TryPush(rec []byte) error {
	buf, err := p.TryReserve(len(rec))
	if err != nil {
		return err
	}
	copy(buf, rec)
	return p.Commit()
}

// Push copies rec into the ring as one record, waiting for room as
// Reserve does.
func (p *Producer) Push(ctx context.Context, rec []byte) error {
	buf, err := p.Reserve(ctx, len(rec))
	if err != nil {
		return err
	}
	copy(buf, rec)
	return p.Commit()
}

// Close marks the ring closed from the producer's side: the consumer gets
// every record committed so far, then ErrClosed. A pending reservation is
// dropped. Closing is final: no producer can attach again.
func (p *Producer) Close() error {
	if p.closed {
		return fmt.Errorf("%w: producer already closed", ErrClosed)
	}
	p.closed, p.pending = true, 0
	if err := p.r.a.check("Producer.Close"); err != nil {
		return err
	}
	p.s.close()
	return nil
}
