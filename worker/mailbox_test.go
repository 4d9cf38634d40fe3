package worker

import (
	"context"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// TestStressMailbox: producers post numbered messages through a small
// mailbox (full most of the time, wrapping constantly); the worker sees
// every message exactly once, each producer's in its order.
func TestStressMailbox(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{MailboxSize: 4, Timeout: -1})
	const producers = 4
	each := brkScaled(50000)
	next := make([]int, producers) // worker only
	var bad []string
	ep, err := Handle(b, "seq", func(_ context.Context, m [2]int) (struct{}, error) {
		p, i := m[0], m[1]
		if next[p] != i && len(bad) < 10 {
			bad = append(bad, "out of order")
		}
		next[p] = i + 1
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				if err := ep.Post(context.Background(), [2]int{p, i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%d messages out of order", len(bad))
	}
	for p, n := range next {
		if n != each {
			t.Fatalf("producer %d: worker saw %d of %d", p, n, each)
		}
	}
	if st := b.Stats(); st.Accepted != producers*uint64(each) || st.Handled != st.Accepted {
		t.Fatalf("stats: %+v", st)
	}
}

// TestMailboxWorkerWakes: requests that arrive after the worker has gone
// to sleep wake it (no lost wake-up), many times over.
func TestMailboxWorkerWakes(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: -1})
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(brkScaled(200)) {
		if i%10 == 0 {
			time.Sleep(200 * time.Microsecond) // long enough for the worker to park
		}
		if v, err := ep.Request(context.Background(), i); v != i+1 || err != nil {
			t.Fatalf("request %d: %d, %v", i, v, err)
		}
	}
}

func TestMailboxSlotLayout(t *testing.T) {
	var m mailbox
	m.init(100)
	if len(m.slots) != 128 {
		t.Fatalf("100 slots rounded to %d, want 128", len(m.slots))
	}
	if size := int(unsafe.Sizeof(mboxSlot{})); size != 64 {
		t.Fatalf("a mailbox slot is %d bytes, want one 64-byte cache line", size)
	}
	// A Client's request and reply share one line for small types.
	b := newTestBroker(t, BrokerOptions{})
	ep, err := Handle(b, "inc", inc)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		c := brkNewCell(ep)
		start := uintptr(unsafe.Pointer(&c.state))
		end := uintptr(unsafe.Pointer(&c.ctx)) + unsafe.Sizeof(c.ctx)
		if start/64 != (end-1)/64 {
			t.Fatalf("a uint64 cell's lane spans [%#x, %#x): more than one cache line", start, end)
		}
	}
	if !brkInlineable[uint64]() || !brkInlineable[[2]int]() || !brkInlineable[struct{}]() {
		t.Fatal("small scalar inputs should travel in the slot")
	}
	if brkInlineable[string]() || brkInlineable[[3]int]() || brkInlineable[*int]() || brkInlineable[struct{ p []byte }]() {
		t.Fatal("inputs with pointers or too big must not travel in the slot")
	}
}
