package worker

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func cacheTestNew[K comparable, V any](t *testing.T, opt CacheOptions) *Cache[K, V] {
	t.Helper()
	c, err := NewCache[K, V](opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCache(t *testing.T) {
	c := cacheTestNew[string, int](t, CacheOptions{Shards: 3})
	if len(c.shards) != 4 {
		t.Fatalf("%d shards, want 3 rounded up to 4", len(c.shards))
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("empty cache hit")
	}
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("a", 3)
	if v, ok := c.Get("a"); !ok || v != 3 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	calls := 0
	mk := func() (int, error) { calls++; return 10, nil }
	if v, err := c.GetOrSet("c", mk); v != 10 || err != nil {
		t.Fatalf("GetOrSet(c) = %d, %v", v, err)
	}
	if v, err := c.GetOrSet("c", mk); v != 10 || err != nil || calls != 1 {
		t.Fatalf("GetOrSet(c) again = %d, %v (%d calls)", v, err, calls)
	}
	bad := errors.New("no")
	if _, err := c.GetOrSet("d", func() (int, error) { return 0, bad }); err != bad {
		t.Fatalf("GetOrSet error = %v", err)
	}
	if _, ok := c.Get("d"); ok {
		t.Fatal("a failed GetOrSet cached its value")
	}
	c.Delete("b")
	got := map[string]int{}
	for k, v := range c.All() {
		got[k] = v
	}
	if fmt.Sprint(got) != "map[a:3 c:10]" || c.Len() != 2 {
		t.Fatalf("All = %v, Len = %d", got, c.Len())
	}
	st := c.Stats()
	if st.Entries != 2 || st.Hits != 2 || st.Misses != 4 {
		t.Fatalf("stats: %+v", st)
	}
	c.Clear()
	if c.Len() != 0 {
		t.Fatal("Clear left entries")
	}
}

func TestCacheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cacheTestNew[int, string](t, CacheOptions{TTL: time.Second})
		c.Set(1, "one")
		time.Sleep(600 * time.Millisecond)
		c.Set(2, "two")
		if _, ok := c.Get(1); !ok {
			t.Fatal("entry expired early")
		}
		time.Sleep(600 * time.Millisecond)
		if _, ok := c.Get(1); ok {
			t.Fatal("entry 1 outlived its TTL")
		}
		if v, ok := c.Get(2); !ok || v != "two" {
			t.Fatal("entry 2 expired early")
		}
		if c.Len() != 1 {
			t.Fatalf("expired entry not dropped: Len = %d", c.Len())
		}
		n := 0
		time.Sleep(time.Second)
		for range c.All() {
			n++
		}
		if n != 0 {
			t.Fatalf("All yielded %d expired entries", n)
		}
	})
}

func TestCacheMaxEntries(t *testing.T) {
	c := cacheTestNew[int, int](t, CacheOptions{Shards: 4, MaxEntries: 40})
	for i := range 1000 {
		c.Set(i, i)
	}
	if n := c.Len(); n > 40 || n < 4 {
		t.Fatalf("Len = %d, bound 40", n)
	}
	if st := c.Stats(); st.Evictions != uint64(1000-st.Entries) {
		t.Fatalf("stats: %+v", st)
	}
	for k, v := range c.All() {
		if k != v {
			t.Fatalf("entry %d = %d", k, v)
		}
	}
}

func TestCacheBadOptions(t *testing.T) {
	for _, opt := range []CacheOptions{{Shards: -1}, {MaxEntries: -1}, {TTL: -time.Second}} {
		if _, err := NewCache[string, int](opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewCache(%+v) = %v", opt, err)
		}
	}
}

func TestCacheGetAllocs(t *testing.T) {
	c := cacheTestNew[string, int](t, CacheOptions{})
	c.Set("key", 1)
	if a := testing.AllocsPerRun(1000, func() {
		c.Get("key")
		c.Get("missing")
		c.Set("key", 2)
	}); a != 0 {
		t.Fatalf("Get/Set allocate %v", a)
	}
}

// TestStressCache has goroutines write their own keys and read everyone's;
// every key ends with its last value.
func TestStressCache(t *testing.T) {
	c := cacheTestNew[int, int](t, CacheOptions{Shards: 8})
	goroutines, n := 4, 5000
	if raceEnabled || testing.Short() {
		n = 500
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				k := g*n + i%100
				c.Set(k, i)
				if v, ok := c.Get(k); !ok || v != i {
					t.Errorf("Get(%d) = %d, %v after Set %d", k, v, ok, i)
					return
				}
				c.Get((g+1)%goroutines*n + i%100)
			}
		}()
	}
	wg.Wait()
	if c.Len() != goroutines*100 {
		t.Fatalf("Len = %d", c.Len())
	}
	for g := range goroutines {
		for j := range 100 {
			last := n - 100 + j
			if v, _ := c.Get(g*n + j); v != last {
				t.Fatalf("key %d = %d, want %d", g*n+j, v, last)
			}
		}
	}
}
