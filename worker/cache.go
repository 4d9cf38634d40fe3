package worker

import (
	"fmt"
	"hash/maphash"
	"iter"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/pad"
)

// CacheOptions configure a Cache. The zero value is an unbounded cache of
// 64 shards whose entries never expire.
type CacheOptions struct {
	// Shards is the number of independently locked parts, rounded up to a
	// power of two (0: 64). More shards, less contention between writers.
	Shards int
	// MaxEntries bounds the entries (0: no bound). The bound is kept per
	// shard (MaxEntries/Shards, rounded up): a full shard evicts one of
	// its entries, the first in Go's map order — effectively at random.
	MaxEntries int
	// TTL, if positive, is how long an entry lives after it was set; an
	// expired entry is not returned, and is dropped when next found.
	TTL time.Duration
}

// Cache is a typed key-value cache shared by workers — the guide's
// getCache. It is safe for concurrent use. Keys are spread over shards by
// hash; a read takes its shard's read lock (an atomic add on the shard's
// own cache line, never blocked by other readers), a write its write
// lock, so readers of different shards never touch the same line and
// writers only wait for others on the same shard.
type Cache[K comparable, V any] struct {
	seed     maphash.Seed
	mask     uint64
	perShard int // 0: unbounded
	ttl      time.Duration
	epoch    time.Time
	shards   []cacheShard[K, V]
}

type cacheShard[K comparable, V any] struct {
	mu        sync.RWMutex
	m         map[K]cacheEntry[V]
	hits      atomic.Uint64
	misses    atomic.Uint64
	evictions atomic.Uint64
	_         pad.Line
}

type cacheEntry[V any] struct {
	v   V
	exp time.Duration // expiry, since the cache's epoch; 0: never
}

// NewCache returns an empty cache.
func NewCache[K comparable, V any](opt CacheOptions) (*Cache[K, V], error) {
	switch {
	case opt.Shards < 0:
		return nil, fmt.Errorf("%w: Shards = %d", ErrInvalidOptions, opt.Shards)
	case opt.MaxEntries < 0:
		return nil, fmt.Errorf("%w: MaxEntries = %d", ErrInvalidOptions, opt.MaxEntries)
	case opt.TTL < 0:
		return nil, fmt.Errorf("%w: TTL = %v", ErrInvalidOptions, opt.TTL)
	}
	n := 64
	if opt.Shards > 0 {
		n = 1 << bits.Len(uint(opt.Shards-1))
	}
	c := &Cache[K, V]{seed: maphash.MakeSeed(), mask: uint64(n - 1), ttl: opt.TTL, epoch: time.Now(), shards: make([]cacheShard[K, V], n)}
	if opt.MaxEntries > 0 {
		c.perShard = (opt.MaxEntries + n - 1) / n
	}
	for i := range c.shards {
		c.shards[i].m = make(map[K]cacheEntry[V])
	}
	return c, nil
}

func (c *Cache[K, V]) shard(k K) *cacheShard[K, V] {
	return &c.shards[maphash.Comparable(c.seed, k)&c.mask]
}

func (c *Cache[K, V]) live(e cacheEntry[V]) bool {
	return e.exp == 0 || time.Since(c.epoch) < e.exp
}

// Get returns the value cached for k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if ok && c.ttl > 0 && !c.live(e) {
		ok = false
		s.mu.Lock()
		if e2, ok2 := s.m[k]; ok2 && !c.live(e2) {
			delete(s.m, k)
		}
		s.mu.Unlock()
	}
	if !ok {
		s.misses.Add(1)
		var zero V
		return zero, false
	}
	s.hits.Add(1)
	return e.v, true
}

// Set caches v for k, replacing what was there.
func (c *Cache[K, V]) Set(k K, v V) {
	s := c.shard(k)
	s.mu.Lock()
	c.setLocked(s, k, v)
	s.mu.Unlock()
}

func (c *Cache[K, V]) setLocked(s *cacheShard[K, V], k K, v V) {
	e := cacheEntry[V]{v: v}
	if c.ttl > 0 {
		e.exp = time.Since(c.epoch) + c.ttl
	}
	if _, ok := s.m[k]; !ok && c.perShard > 0 && len(s.m) >= c.perShard {
		for old := range s.m {
			delete(s.m, old)
			s.evictions.Add(1)
			break
		}
	}
	s.m[k] = e
}

// GetOrSet returns the value cached for k, or else caches and returns the
// one fn returns. fn runs without a lock, so that a slow fn does not
// hold up its shard: two goroutines missing the same key at once may both
// run it, and the value cached first is the one both return. An error
// from fn is returned and nothing is cached.
func (c *Cache[K, V]) GetOrSet(k K, fn func() (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	v, err := fn()
	if err != nil {
		return v, err
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && c.live(e) {
		return e.v, nil
	}
	c.setLocked(s, k, v)
	return v, nil
}

// Delete removes k's entry, if any.
func (c *Cache[K, V]) Delete(k K) {
	s := c.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// Len returns the number of entries, expired ones not yet dropped
// included.
func (c *Cache[K, V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// Clear removes every entry.
func (c *Cache[K, V]) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// All yields the live entries, a shard at a time: each shard is copied
// under its read lock, so the loop body may use the cache.
func (c *Cache[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		type kv struct {
			k K
			v V
		}
		var buf []kv
		for i := range c.shards {
			s := &c.shards[i]
			buf = buf[:0]
			s.mu.RLock()
			for k, e := range s.m {
				if c.live(e) {
					buf = append(buf, kv{k, e.v})
				}
			}
			s.mu.RUnlock()
			for _, e := range buf {
				if !yield(e.k, e.v) {
					return
				}
			}
		}
	}
}

// CacheStats are a Cache's counters.
type CacheStats struct {
	Entries   int
	Hits      uint64
	Misses    uint64
	Evictions uint64 // entries dropped for MaxEntries
}

// Stats returns the cache's counters.
func (c *Cache[K, V]) Stats() CacheStats {
	st := CacheStats{Entries: c.Len()}
	for i := range c.shards {
		s := &c.shards[i]
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
		st.Evictions += s.evictions.Load()
	}
	return st
}
