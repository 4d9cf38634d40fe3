package worker

import (
	"context"
	"fmt"
	"testing"

	"github.com/weftlabs/weft/shm"
)

// A handler that keeps a transferred buffer and fails with the wrapped
// error of a request of its own to another, closed broker keeps the
// buffer: the caller does not release it.
func TestTransferRequestHandlerWrappedErrorKeepsBuffer(t *testing.T) {
	b, a := newZeroCopyBroker(t)
	down, err := NewBroker(BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(down, "x", func(ctx context.Context, x int) (int, error) { return x, nil }); err != nil {
		t.Fatal(err)
	}
	down.Close()
	var kept *shm.Buffer
	if _, err := Handle(b, "fwd", func(ctx context.Context, buf *shm.Buffer) (int, error) {
		kept = buf // the handler owns it from here
		if _, err := Request[int, int](ctx, down, "x", 1); err != nil {
			return 0, fmt.Errorf("forward: %w", err)
		}
		return 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	buf, err := a.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TransferRequest[int](context.Background(), b, "fwd", buf)
	t.Logf("TransferRequest = %v", err)
	if kept == nil {
		t.Fatal("handler did not run")
	}
	if kept.Detached() {
		t.Fatal("the handler received and kept the buffer; TransferRequest released it because the handler's error wrapped an inner notSent")
	}
}

// A TransferRequest whose caller stops waiting while the message is still
// queued, then dropped unrun by a Shutdown past its deadline: nobody ever
// releases the transferred handle (the reply is late, the handler never
