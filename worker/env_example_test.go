package worker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/weftlabs/weft/worker"
)

type envAppConfig struct {
	APIBaseURL string
	MaxRetries int
	Timeout    time.Duration
	Database   struct {
		Host string
		Port int
	}
}

// The guide's EnvironmentManager: initialise, read from any worker,
// update.
func ExampleEnvironment() {
	var cfg envAppConfig
	cfg.APIBaseURL, cfg.MaxRetries, cfg.Timeout = "https://api.production.com", 5, 30*time.Second
	cfg.Database.Host, cfg.Database.Port = "localhost", 5432
	env := worker.NewEnvironment(cfg)
	defer env.Close()

	cache, err := worker.NewCache[string, []byte](worker.CacheOptions{MaxEntries: 10000})
	if err != nil {
		panic(err)
	}
	if err := worker.AddResource(env.Resources(), "cache", cache, func(c *worker.Cache[string, []byte]) error {
		c.Clear()
		return nil
	}); err != nil {
		panic(err)
	}

	// In a worker: a lock-free read of the current snapshot.
	c := env.Config().Load()
	fmt.Println("version", c.Version, "retries", c.Value.MaxRetries, "db port", c.Value.Database.Port)
	shared, err := worker.GetResource[*worker.Cache[string, []byte]](env.Resources(), "cache")
	if err != nil {
		panic(err)
	}
	shared.Set("greeting", []byte("hello"))

	// Update: copy-on-write, the next version.
	v, err := env.Config().Update(func(c *envAppConfig) error { c.MaxRetries = 10; return nil })
	if err != nil {
		panic(err)
	}
	fmt.Println("version", v.Version, "retries", v.Value.MaxRetries)
	fmt.Println("the old snapshot still says", c.Value.MaxRetries)
	// Output:
	// version 1 retries 5 db port 5432
	// version 2 retries 10
	// the old snapshot still says 5
}

// Watchers see the latest version: one that keeps up sees every one.
func ExampleConfig_Watch() {
	cfg := worker.NewConfig(map[string]int{"workers": 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range cfg.Watch(ctx) {
			fmt.Println("version", v.Version, "workers", v.Value["workers"])
			seen <- struct{}{}
		}
	}()
	<-seen
	cfg.Set(map[string]int{"workers": 4}) // a new map: snapshots are never modified
	<-seen
	cfg.Close() // ends the watcher
	<-done
	// Output:
	// version 1 workers 2
	// version 2 workers 4
}

func ExampleCache() {
	c, err := worker.NewCache[string, int](worker.CacheOptions{TTL: time.Minute})
	if err != nil {
		panic(err)
	}
	c.Set("a", 1)
	v, _ := c.GetOrSet("b", func() (int, error) { return 2, nil })
	a, ok := c.Get("a")
	fmt.Println(a, ok, v, c.Len())
	// Output: 1 true 2 2
}
