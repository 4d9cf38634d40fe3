package shm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// record returns the payload of record i of a test stream: 8 to 104 bytes,
// starting with i, then a pattern derived from i.
func record(dst []byte, i uint64) []byte {
	n := 8 + int(i*7%97)
	dst = binary.LittleEndian.AppendUint64(dst[:0], i)
	for j := 8; j < n; j++ {
		dst = append(dst, byte(i)^byte(j*31))
	}
	return dst
}

// checkRecord verifies that rec is record i of the stream.
func checkRecord(rec []byte, i uint64, want []byte) error {
	want = record(want, i)
	if !bytes.Equal(rec, want) {
		got := uint64(0)
		if len(rec) >= 8 {
			got = binary.LittleEndian.Uint64(rec)
		}
		return fmt.Errorf("record %d: got %d bytes starting with %d", i, len(rec), got)
	}
	return nil
}

// newRing makes a ring of capacity bytes in a fresh private arena, with a
// producer and a consumer attached.
func newRing(t testing.TB, capacity int) (*Ring, *Producer, *Consumer) {
	t.Helper()
	a := newArena(t, capacity+4096)
	r, err := NewRing(a, capacity)
	must(t, "NewRing", err)
	p, err := r.Producer()
	must(t, "Producer", err)
	c, err := r.Consumer()
	must(t, "Consumer", err)
	return r, p, c
}

func TestRingOrderAndWrap(t *testing.T) {
	r, p, c := newRing(t, 1024)
	if r.Cap() != 1024 || r.MaxRecord() != 504 {
		t.Fatalf("Cap %d MaxRecord %d", r.Cap(), r.MaxRecord())
	}
	var buf, want []byte
	next := uint64(0)
	// Many laps of varied sizes, pushing ahead as far as it fits.
	for i := uint64(0); i < 5000; {
		for ; ; i++ {
			if err := p.TryPush(record(buf, i)); errors.Is(err, ErrFull) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		for {
			rec, err := c.TryPop(buf[:0])
			if errors.Is(err, ErrEmpty) {
				break
			}
			must(t, "TryPop", err)
			if err := checkRecord(rec, next, want); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	if next < 5000 {
		t.Fatalf("popped %d records", next)
	}
}

func TestRingRecordSizes(t *testing.T) {
	_, p, c := newRing(t, 1024)
	ctx := context.Background()
	for _, n := range []int{0, 1, 7, 8, 9, 500, 504, 0, 504, 3} {
		rec := bytes.Repeat([]byte{byte(n)}, n)
		must(t, "Push", p.Push(ctx, rec))
		got, err := c.Pop(ctx, nil)
		must(t, "Pop", err)
		if !bytes.Equal(got, rec) {
			t.Fatalf("%d-byte record came back as %d bytes", n, len(got))
		}
	}
	wantErr(t, "Push too large", p.Push(ctx, make([]byte, 505)), ErrTooLarge)
	wantErr(t, "TryPush too large", p.TryPush(make([]byte, 505)), ErrTooLarge)
	_, err := p.TryReserve(-1)
	wantErr(t, "TryReserve(-1)", err, ErrTooLarge)
}

func TestRingReservePeek(t *testing.T) {
	_, p, c := newRing(t, 256)
	ctx := context.Background()
	buf, err := p.Reserve(ctx, 5)
	must(t, "Reserve", err)
	copy(buf, "hello")
	_, err = p.TryReserve(1)
	wantErr(t, "second Reserve", err, ErrInvalid)
	_, err = c.TryPeek()
	wantErr(t, "Peek before Commit", err, ErrEmpty)
	must(t, "Commit", p.Commit())
	wantErr(t, "second Commit", p.Commit(), ErrInvalid)

	rec, err := c.Peek(ctx)
	must(t, "Peek", err)
	again, err := c.TryPeek()
	must(t, "second Peek", err)
	if string(rec) != "hello" || &rec[0] != &again[0] {
		t.Fatalf("Peek = %q, again %q", rec, again)
	}
	if &rec[0] != &buf[0] {
		t.Fatal("the record was copied between Reserve and Peek")
	}
	must(t, "Advance", c.Advance())
	wantErr(t, "second Advance", c.Advance(), ErrInvalid)
	_, err = c.TryPeek()
	wantErr(t, "TryPeek of an empty ring", err, ErrEmpty)
}

func TestRingAllocatesNothing(t *testing.T) {
	_, p, c := newRing(t, 4096)
	rec := make([]byte, 64)
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := p.TryPush(rec); err != nil {
			panic(err)
		}
		var err error
		if dst, err = c.TryPop(dst[:0]); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per push+pop", allocs)
	}
}

func TestRingCloseByProducer(t *testing.T) {
	r, p, c := newRing(t, 1024)
	ctx := context.Background()
	must(t, "Push", p.Push(ctx, []byte("a")))
	must(t, "Push", p.Push(ctx, []byte("b")))
	must(t, "Close", p.Close())
	wantErr(t, "second Close", p.Close(), ErrClosed)
	wantErr(t, "Push after Close", p.Push(ctx, []byte("c")), ErrClosed)
	for _, want := range []string{"a", "b"} {
		got, err := c.Pop(ctx, nil)
		if err != nil || string(got) != want {
			t.Fatalf("Pop = %q, %v; want %q", got, err, want)
		}
	}
	_, err := c.Pop(ctx, nil)
	wantErr(t, "Pop after the producer closed", err, ErrClosed)
	_, err = c.TryPop(nil)
	wantErr(t, "TryPop after the producer closed", err, ErrClosed)
	_, err = r.Producer()
	wantErr(t, "attach to a closed producer side", err, ErrClosed)
}

func TestRingCloseByConsumer(t *testing.T) {
	r, p, c := newRing(t, 256)
	ctx := context.Background()
	// A producer blocked on a full ring is woken by the consumer's Close.
	for p.TryPush(make([]byte, 100)) == nil {
	}
	done := make(chan error)
	go func() { done <- p.Push(ctx, make([]byte, 100)) }()
	time.Sleep(20 * time.Millisecond)
	must(t, "Close", c.Close())
	wantErr(t, "blocked Push when the consumer closes", <-done, ErrClosed)
	wantErr(t, "TryPush after the consumer closed", p.TryPush(nil), ErrClosed)
	wantErr(t, "second Close", c.Close(), ErrClosed)
	_, err := c.TryPop(nil)
	wantErr(t, "TryPop after Close", err, ErrClosed)
	_, err = r.Consumer()
	wantErr(t, "attach to a closed consumer side", err, ErrClosed)
}

func TestRingAttach(t *testing.T) {
	r, p, c := newRing(t, 256)
	_, err := r.Producer()
	wantErr(t, "second producer", err, ErrBusy)
	_, err = r.Consumer()
	wantErr(t, "second consumer", err, ErrBusy)
	ctx := context.Background()
	must(t, "Push", p.Push(ctx, []byte("x")))

	// A producer whose process died is replaced, and the ring carries on.
	r.h.prodPid.Store(deadPid)
	q, err := r.Producer()
	must(t, "take over a dead producer's side", err)
	must(t, "Push", q.Push(ctx, []byte("y")))
	for _, want := range []string{"x", "y"} {
		got, err := c.Pop(ctx, nil)
		if err != nil || string(got) != want {
			t.Fatalf("Pop = %q, %v; want %q", got, err, want)
		}
	}
	// OpenRing gives a second view of the same ring: its sides are taken.
	r2, err := OpenRing(r.a, r.Offset())
	must(t, "OpenRing", err)
	_, err = r2.Consumer()
	wantErr(t, "consumer through a second view", err, ErrBusy)
}

// deadPid is a process id above the kernel's maximum (2^22): never alive.
const deadPid = 1 << 30

func TestRingPeerDead(t *testing.T) {
	r, p, c := newRing(t, 256)
	ctx := context.Background()
	must(t, "Push", p.Push(ctx, []byte("last words")))
	r.h.prodPid.Store(deadPid)
	// Everything committed is delivered first.
	got, err := c.Pop(ctx, nil)
	if err != nil || string(got) != "last words" {
		t.Fatalf("Pop = %q, %v", got, err)
	}
	_, err = c.Pop(ctx, nil)
	wantErr(t, "Pop from a dead producer", err, ErrPeerDead)

	r.h.consPid.Store(deadPid)
	for p.TryPush(make([]byte, 100)) == nil {
	}
	wantErr(t, "Push to a dead consumer", p.Push(ctx, make([]byte, 100)), ErrPeerDead)
}

func TestRingContext(t *testing.T) {
	_, p, c := newRing(t, 256)
	tctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	_, err := c.Pop(tctx, nil)
	wantErr(t, "Pop with a deadline", err, context.DeadlineExceeded)
	for p.TryPush(make([]byte, 100)) == nil {
	}
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Push(cctx, make([]byte, 100)) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	wantErr(t, "Push cancelled", <-done, context.Canceled)
}

func TestRingAfterArenaClose(t *testing.T) {
	r, p, c := newRing(t, 256)
	must(t, "Close", r.a.Close())
	wantErr(t, "TryPush", p.TryPush([]byte("x")), ErrClosed)
	_, err := c.TryPop(nil)
	wantErr(t, "TryPop", err, ErrClosed)
	_, err = r.Producer()
	wantErr(t, "Producer", err, ErrClosed)
	_, err = OpenRing(r.a, r.Offset())
	wantErr(t, "OpenRing", err, ErrClosed)
}

// Closing the arena ends a wait: the sleeper notices within a slice and
// returns ErrClosed without touching the unmapped ring.
func TestRingWaitEndsWithArenaClose(t *testing.T) {
	r, _, c := newRing(t, 256)
	done := make(chan error)
	go func() {
		_, err := c.Pop(context.Background(), nil)
		done <- err
	}()
	time.Sleep(30 * time.Millisecond) // asleep by now, or about to be
	must(t, "Close", r.a.Close())
	wantErr(t, "Pop across the arena's Close", <-done, ErrClosed)
}

func TestNewRingBadCapacity(t *testing.T) {
	a := newArena(t, 1<<16)
	for _, n := range []int{0, 100, 128, 1000, MaxRingCapacity * 2} {
		_, err := NewRing(a, n)
		wantErr(t, "NewRing", err, ErrInvalid)
	}
	_, err := NewRing(a, 1<<17)
	wantErr(t, "NewRing larger than the arena", err, ErrNoSpace)
}

func TestOpenRingRejectsBadHeaders(t *testing.T) {
	a := newArena(t, 1<<16)
	r, err := NewRing(a, 1024)
	must(t, "NewRing", err)
	h := r.h
	saved := struct {
		version       uint32
		capacity, off uint64
	}{h.version, h.capacity, h.dataOff}
	restore := func() {
		h.version, h.capacity, h.dataOff = saved.version, saved.capacity, saved.off
		h.crc = h.checksum()
	}
	cases := []struct {
		name   string
		target error
		edit   func()
	}{
		{"version", ErrVersion, func() { h.version = 2 }},
		{"crc", ErrCorrupt, func() { h.crc++ }},
		{"capacity not a power of two", ErrCorrupt, func() { h.capacity = 1000; h.crc = h.checksum() }},
		{"capacity too small", ErrCorrupt, func() { h.capacity = 8; h.crc = h.checksum() }},
		{"capacity past the arena", ErrCorrupt, func() { h.capacity = 1 << 20; h.crc = h.checksum() }},
		{"data offset", ErrCorrupt, func() { h.dataOff += 8; h.crc = h.checksum() }},
	}
	for _, c := range cases {
		restore()
		c.edit()
		_, err := OpenRing(a, r.Offset())
		wantErr(t, "OpenRing with a bad "+c.name, err, c.target)
	}
	restore()
	_, err = OpenRing(a, r.Offset()+8)
	wantErr(t, "OpenRing misaligned", err, ErrAlignment)
	_, err = OpenRing(a, r.Offset()+DefaultAlign)
	wantErr(t, "OpenRing where there is none", err, ErrCorrupt)
	l, hi := a.Data()
	_, err = OpenRing(a, hi-DefaultAlign)
	wantErr(t, "OpenRing at the end", err, ErrOutOfRange)
	_ = l
}

func TestRingRejectsCorruptRecords(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(r *Ring)
	}{
		{"tail beyond capacity", func(r *Ring) { r.h.tail.Store(r.cap + 8) }},
		{"tail misaligned", func(r *Ring) { r.h.tail.Store(4) }},
		{"tail behind head", func(r *Ring) { r.h.tail.Store(^uint64(7)) }},
		{"garbage header", func(r *Ring) { r.h.tail.Store(16); putRaw(r, 0, 0xdeadbeef) }},
		{"stale header from another lap", func(r *Ring) { r.h.tail.Store(16); putHeader(r.data, 0, 8, r.cap) }},
		{"record larger than max", func(r *Ring) { r.h.tail.Store(16); putHeader(r.data, 0, uint32(r.max+8), 0) }},
		{"record past published data", func(r *Ring) { r.h.tail.Store(16); putHeader(r.data, 0, 64, 0) }},
		{"short publication", func(r *Ring) {
			r.h.tail.Store(r.cap)
			putHeader(r.data, 0, 0, 0)
			putRaw(r, 8, 0)
			r.h.tail.Store(8)
			putHeader(r.data, 0, 4, 0)
		}},
		{"wrap marker past published data", func(r *Ring) { r.h.tail.Store(64); putHeader(r.data, 0, wrapMarker, 0) }},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			r, _, c := newRing(t, 256)
			cs.edit(r)
			_, err := c.TryPop(nil)
			wantErr(t, "TryPop", err, ErrCorrupt)
			tctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err = c.Pop(tctx, nil)
			wantErr(t, "Pop", err, ErrCorrupt)
		})
	}
	t.Run("head corrupted under the producer", func(t *testing.T) {
		r, p, _ := newRing(t, 256)
		for p.TryPush(make([]byte, 100)) == nil {
		}
		r.h.head.Store(1 << 40)
		wantErr(t, "TryPush", p.TryPush(make([]byte, 100)), ErrCorrupt)
	})
}

func putRaw(r *Ring, off uint64, v uint64) {
	for i := range 8 {
		r.data[off+uint64(i)] = byte(v >> (8 * i))
	}
}

// One goroutine produces, one consumes, through a small ring so that it
// wraps and fills constantly: every record arrives once, in order, intact.
func TestStressRingInProcess(t *testing.T) {
	n := uint64(scaled(1_000_000))
	_, p, c := newRing(t, 4096)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		var buf []byte
		for i := range n {
			if err := p.Push(ctx, record(buf, i)); err != nil {
				t.Error(err)
				return
			}
		}
		p.Close()
	})
	var buf, want []byte
	for i := uint64(0); ; i++ {
		rec, err := c.Pop(ctx, buf[:0])
		if errors.Is(err, ErrClosed) {
			if i != n {
				t.Fatalf("closed after %d records, want %d", i, n)
			}
			break
		}
		must(t, "Pop", err)
		if err := checkRecord(rec, i, want); err != nil {
			t.Fatal(err)
		}
		buf = rec
	}
	wg.Wait()
}
