package worker

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

type envTestConfig struct {
	API     string
	Retries int
	Count   int
	Hosts   map[string]int
}

// Clone copies the map, so that updates never modify a published one.
func (c envTestConfig) Clone() envTestConfig {
	c.Hosts = maps.Clone(c.Hosts)
	return c
}

func TestConfigUpdate(t *testing.T) {
	c := NewConfig(envTestConfig{API: "https://api", Retries: 5, Hosts: map[string]int{"db": 5432}})
	v1 := c.Load()
	if v1.Version != 1 || c.Version() != 1 || c.Get().Retries != 5 {
		t.Fatalf("initial: %+v", v1)
	}
	v2, err := c.Update(func(v *envTestConfig) error {
		v.Retries = 10
		v.Hosts["cache"] = 6379 // a clone: version 1's map is untouched
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || c.Load() != v2 || v2.Value.Retries != 10 || v2.Value.API != "https://api" || len(v2.Value.Hosts) != 2 {
		t.Fatalf("after update: %+v", v2)
	}
	if v1.Value.Retries != 5 || len(v1.Value.Hosts) != 1 {
		t.Fatalf("the old snapshot changed: %+v", v1)
	}
	bad := errors.New("invalid")
	if _, err := c.Update(func(v *envTestConfig) error { v.Retries = -1; return bad }); err != bad {
		t.Fatalf("failing update = %v", err)
	}
	if c.Version() != 2 || c.Get().Retries != 10 {
		t.Fatal("a failed update was published")
	}
	if v3, err := c.Set(envTestConfig{API: "x"}); err != nil || v3.Version != 3 || c.Get().API != "x" {
		t.Fatalf("Set = %+v, %v", v3, err)
	}
	if _, err := c.Update(nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Update(nil) = %v", err)
	}
	c.Close()
	if _, err := c.Update(func(*envTestConfig) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close = %v", err)
	}
	if _, err := c.Set(envTestConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close = %v", err)
	}
	if v, err := c.Wait(context.Background(), 3); !errors.Is(err, ErrClosed) || v.Version != 3 {
		t.Fatalf("Wait after Close = %v, %v", v, err)
	}
	if c.Get().API != "x" {
		t.Fatal("reads after Close lost the value")
	}
	c.Close()
}

// TestStressConfig races updaters with readers and watchers. Every update
// adds one to Count, so every snapshot must have Count == Version-1 (no
// update lost, no torn snapshot), versions seen by a reader only go up,
// and the final Count is the number of updates.
func TestStressConfig(t *testing.T) {
	c := NewConfig(envTestConfig{})
	updaters, n := 4, 2000
	if raceEnabled || testing.Short() {
		n = 300
	}
	total := uint64(updaters * n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg, readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var last uint64
			for ctx.Err() == nil {
				v := c.Load()
				if v.Version < last || uint64(v.Value.Count) != v.Version-1 {
					t.Errorf("reader saw version %d (after %d) with count %d", v.Version, last, v.Value.Count)
					return
				}
				last = v.Version
			}
		}()
	}
	watched := make(chan []uint64, 1)
	go func() {
		var seen []uint64
		for v := range c.Watch(ctx) {
			if uint64(v.Value.Count) != v.Version-1 {
				t.Errorf("watcher saw version %d with count %d", v.Version, v.Value.Count)
			}
			seen = append(seen, v.Version)
			if v.Version == total+1 {
				break
			}
		}
		watched <- seen
	}()
	for range updaters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if _, err := c.Update(func(v *envTestConfig) error { v.Count++; return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := <-watched
	cancel()
	readers.Wait()
	if got := c.Load(); got.Version != total+1 || uint64(got.Value.Count) != total {
		t.Fatalf("final %d, count %d, want %d updates", got.Version, got.Value.Count, total)
	}
	if !slices.IsSorted(seen) || seen[len(seen)-1] != total+1 {
		t.Fatalf("watcher versions not increasing to the last: %v…", seen[:min(len(seen), 10)])
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] == seen[i-1] {
			t.Fatalf("watcher saw version %d twice", seen[i])
		}
	}
	t.Logf("watcher saw %d of %d versions", len(seen), total+1)
}

// TestConfigWatchEvery: a watcher that keeps up (each update waits for it)
// sees every version.
func TestConfigWatchEvery(t *testing.T) {
	c := NewConfig(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan uint64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range c.Watch(ctx) {
			got <- v.Version
		}
	}()
	if v := <-got; v != 1 {
		t.Fatalf("first version seen %d", v)
	}
	for want := uint64(2); want <= 20; want++ {
		if _, err := c.Update(func(v *int) error { *v++; return nil }); err != nil {
			t.Fatal(err)
		}
		if v := <-got; v != want {
			t.Fatalf("saw version %d, want %d", v, want)
		}
	}
	cancel() // ends the watcher: no goroutine left behind
	<-done
}

func TestConfigWatchEnds(t *testing.T) {
	c := NewConfig("a")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with nothing new = %v", err)
	}
	done := make(chan int)
	go func() {
		n := 0
		for range c.Watch(context.Background()) {
			n++
		}
		done <- n
	}()
	c.Set("b")
	time.Sleep(time.Millisecond)
	c.Close() // ends the watcher
	if n := <-done; n < 1 || n > 2 {
		t.Fatalf("watcher saw %d versions before Close", n)
	}
}

type envCloseLog struct {
	name string
	log  *[]string
	err  error
}

func (c *envCloseLog) Close() error { *c.log = append(*c.log, c.name); return c.err }

func TestResources(t *testing.T) {
	var rs Resources
	var log []string
	dbErr := errors.New("db close failed")
	if err := AddResource(&rs, "db", &envCloseLog{name: "db", log: &log, err: dbErr}, nil); err != nil {
		t.Fatal(err)
	}
	if err := AddResource(&rs, "cache", map[string]int{"a": 1}, func(map[string]int) error {
		log = append(log, "cache")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := AddResource(&rs, "plain", 42, nil); err != nil {
		t.Fatal(err)
	}
	var lateErr error
	if err := AddResource(&rs, "reentrant", 0, func(int) error {
		lateErr = AddResource(&rs, "from-close", 1, nil) // must not deadlock
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	q := &envCloseLog{name: "queue", log: &log, err: errors.New("queue close failed")}
	if err := AddResource(&rs, "queue", q, nil); err != nil {
		t.Fatal(err)
	}
	if err := AddResource(&rs, "db", &envCloseLog{}, nil); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name = %v", err)
	}
	if err := AddResource[any](&rs, "nil", nil, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("nil resource = %v", err)
	}
	if got, err := GetResource[*envCloseLog](&rs, "queue"); err != nil || got != q {
		t.Fatalf("GetResource = %v, %v", got, err)
	}
	if _, err := GetResource[string](&rs, "plain"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("wrong type = %v", err)
	}
	if _, err := GetResource[int](&rs, "nope"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("unknown name = %v", err)
	}
	if got := rs.Names(); !slices.Equal(got, []string{"db", "cache", "plain", "reentrant", "queue"}) {
		t.Fatalf("Names = %v", got)
	}
	err := rs.Close()
	if !slices.Equal(log, []string{"queue", "cache", "db"}) {
		t.Fatalf("close order %v", log)
	}
	if !errors.Is(err, dbErr) || !errors.Is(err, q.err) {
		t.Fatalf("Close = %v", err)
	}
	if !errors.Is(lateErr, ErrClosed) {
		t.Fatalf("AddResource from a close function = %v", lateErr)
	}
	if err2 := rs.Close(); err2 != err || len(log) != 3 {
		t.Fatalf("second Close = %v, closed again: %v", err2, log)
	}
	if _, err := GetResource[int](&rs, "plain"); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetResource after Close = %v", err)
	}
	if err := AddResource(&rs, "late", 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddResource after Close = %v", err)
	}
	var empty Resources
	if _, err := GetResource[int](&empty, "x"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("empty registry = %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	env := NewEnvironment(envTestConfig{Retries: 5})
	var log []string
	if err := AddResource(env.Resources(), "db", &envCloseLog{name: "db", log: &log}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Config().Update(func(c *envTestConfig) error { c.Retries = 10; return nil }); err != nil {
		t.Fatal(err)
	}
	if env.Config().Get().Retries != 10 {
		t.Fatal("update lost")
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(log, []string{"db"}) {
		t.Fatalf("resources closed: %v", log)
	}
	if _, err := env.Config().Set(envTestConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close = %v", err)
	}
}
