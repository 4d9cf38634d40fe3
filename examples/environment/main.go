// Command environment shows the guide's section 6 in weft: a shared,
// typed configuration that every worker reads without a lock, updated
// copy-on-write with a version number and watched for changes; a shared
// cache; and shared resources closed on shutdown.
//
//	go run ./examples/environment
package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"

	"github.com/weftlabs/weft/worker"
)

type config struct {
	APIBaseURL string
	MaxRetries int
	TimeoutMS  int
	Database   struct {
		Host string
		Port int
	}
}

// db stands for a database handle that every worker shares.
type db struct{ dsn string }

func (d *db) Query(q string) string { return fmt.Sprintf("%s → rows for %q", d.dsn, q) }
func (d *db) Close() error          { fmt.Println("  closed database", d.dsn); return nil }

func main() {
	ctx := context.Background()

	// EnvironmentManager.initialize({...}) in the main thread.
	var cfg config
	cfg.APIBaseURL, cfg.MaxRetries, cfg.TimeoutMS = "https://api.production.com", 5, 30000
	cfg.Database.Host, cfg.Database.Port = "localhost", 5432
	env := worker.NewEnvironment(cfg)

	// Shared resources: a database handle and a cache, registered in
	// order and closed in reverse.
	if err := worker.AddResource(env.Resources(), "db", &db{dsn: "postgres://localhost:5432"}, nil); err != nil {
		log.Fatal(err)
	}
	cache, err := worker.NewCache[string, string](worker.CacheOptions{MaxEntries: 1024})
	if err != nil {
		log.Fatal(err)
	}
	if err := worker.AddResource(env.Resources(), "cache", cache, func(c *worker.Cache[string, string]) error {
		fmt.Println("  cleared cache of", c.Len(), "entries")
		c.Clear()
		return nil
	}); err != nil {
		log.Fatal(err)
	}

	// A watcher: it sees the latest version (every one, if it keeps up),
	// until its context ends or the configuration is closed.
	wctx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		for v := range env.Config().Watch(wctx) {
			fmt.Printf("  watcher: version %d, maxRetries %d\n", v.Version, v.Value.MaxRetries)
		}
	}()

	// Workers read the configuration and the resources — no
	// serialisation, no lock: a snapshot is one atomic load.
	pool, err := worker.NewPool(func(ctx context.Context, q string) (string, error) {
		c := env.Config().Load()
		d, err := worker.GetResource[*db](env.Resources(), "db")
		if err != nil {
			return "", err
		}
		cache, err := worker.GetResource[*worker.Cache[string, string]](env.Resources(), "cache")
		if err != nil {
			return "", err
		}
		rows, err := cache.GetOrSet(q, func() (string, error) { return d.Query(q), nil })
		return fmt.Sprintf("v%d retries=%d %s", c.Version, c.Value.MaxRetries, rows), err
	}, worker.PoolOptions{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	out, err := pool.Map(ctx, []string{"users", "orders", "users"}, worker.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("workers read:\n  " + strings.Join(out, "\n  "))

	// EnvironmentManager.updateConfig({maxRetries: 10}).
	v, err := env.Config().Update(func(c *config) error { c.MaxRetries = 10; return nil })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("updated to version", v.Version)
	// Concurrent updates are serialised: none is lost.
	var updaters sync.WaitGroup
	for range 4 {
		updaters.Add(1)
		go func() {
			defer updaters.Done()
			for range 25 {
				env.Config().Update(func(c *config) error { c.TimeoutMS++; return nil })
			}
		}()
	}
	updaters.Wait()
	last := env.Config().Load()
	fmt.Printf("after 100 concurrent updates: version %d, timeout %dms\n", last.Version, last.Value.TimeoutMS)

	out, _ = pool.Map(ctx, []string{"users"}, worker.MapOptions{})
	fmt.Println("workers now read:", out[0])
	pool.Close()
	st := cache.Stats()
	fmt.Printf("cache: %d entries, %d hits, %d misses\n", st.Entries, st.Hits, st.Misses)

	env.Config().Close() // the watcher sees the last version, then ends
	watcher.Wait()
	fmt.Println("shutdown:")
	if err := env.Close(); err != nil {
		log.Fatal(err)
	}
}
