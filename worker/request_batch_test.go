package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBatchPartialFailure is the guide's batch: three named requests of
// different types; one fails, one names no handler, the others succeed;
// results and failures come back by name.
func TestBatchPartialFailure(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	type userQuery struct{ UserID int }
	type orderQuery struct{ Limit int }
	errNoBooks := errors.New("no books today")
	if _, err := Handle(b, "userStats", func(_ context.Context, q userQuery) (map[string]int, error) {
		return map[string]int{"id": q.UserID, "visits": 7}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(b, "orders", func(_ context.Context, q orderQuery) ([]string, error) {
		return []string{"o1", "o2"}[:min(q.Limit, 2)], nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(b, "recommendations", func(_ context.Context, category string) ([]string, error) {
		return nil, errNoBooks
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Handle(b, "inc", inc); err != nil {
		t.Fatal(err)
	}
	bt := NewBatch(b)
	stats := AddRequest[userQuery, map[string]int](bt, "userStats", userQuery{123})
	orders := AddRequest[orderQuery, []string](bt, "orders", orderQuery{10})
	recs := AddRequest[string, []string](bt, "recommendations", "books")
	missing := AddRequest[int, int](bt, "missing", 1)
	wrong := AddRequest[int, int](bt, "inc", 1) // registered with uint64
	dup := AddRequest[userQuery, map[string]int](bt, "userStats", userQuery{1})
	if _, err := stats.Result(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Result before Do: %v", err)
	}
	err := bt.Do(context.Background())
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Do = %v, want a *BatchError", err)
	}
	if be.Total != 6 || len(be.Errs) != 4 { // recommendations, missing, inc, the duplicate
		t.Fatalf("BatchError: %d of %d failed: %v", len(be.Errs), be.Total, err)
	}
	if !errors.Is(err, errNoBooks) || !errors.Is(err, ErrUnknownType) || !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("errors.Is does not see every failure: %v", err)
	}
	if v, err := stats.Result(); err != nil || v["id"] != 123 {
		t.Fatalf("userStats = %v, %v", v, err)
	}
	if v, err := orders.Result(); err != nil || strings.Join(v, ",") != "o1,o2" {
		t.Fatalf("orders = %v, %v", v, err)
	}
	if _, err := recs.Result(); !errors.Is(err, errNoBooks) || !errors.Is(bt.Err("recommendations"), errNoBooks) {
		t.Fatalf("recommendations: %v", err)
	}
	if _, err := missing.Result(); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := wrong.Result(); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("type mismatch: %v", err)
	}
	if _, err := dup.Result(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("duplicate name: %v", err)
	}
	if bt.Err("orders") != nil || !errors.Is(bt.Err("nope"), ErrInvalidOptions) {
		t.Fatalf("Err by name: %v, %v", bt.Err("orders"), bt.Err("nope"))
	}
	if err := bt.Do(context.Background()); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("second Do: %v", err)
	}
}

func TestBatchAllSucceedAndTimeout(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{Timeout: 20 * time.Millisecond})
	if _, err := Handle(b, "inc", inc); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	defer close(gate)
	if _, err := Handle(b, "stuck", func(ctx context.Context, _ int) (int, error) {
		<-gate
		return 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	bt := NewBatch(b)
	p := AddRequest[uint64, uint64](bt, "inc", 1)
	if err := bt.Do(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Result(); v != 2 || err != nil || p.Name() != "inc" {
		t.Fatalf("%s = %d, %v", p.Name(), v, err)
	}
	bt = NewBatch(b)
	p = AddRequest[uint64, uint64](bt, "inc", 1)
	AddRequest[int, int](bt, "stuck", 0)
	err := bt.Do(context.Background())
	if !errors.Is(err, ErrTimeout) || !errors.Is(bt.Err("stuck"), ErrTimeout) {
		t.Fatalf("stuck request in a batch: %v", err)
	}
	if v, err := p.Result(); v != 2 || err != nil {
		t.Fatalf("the other request: %d, %v", v, err)
	}
}
