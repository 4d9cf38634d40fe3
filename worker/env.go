package worker

import "errors"

// Environment is what the workers of a program share — the guide's
// EnvironmentManager: a typed, versioned configuration read without a
// lock (Config), and a registry of shared resources (Resources: caches,
// database handles) closed together on shutdown. Workers get it as any
// other value (a field of their state, a closure's variable), not through
// a global.
type Environment[C any] struct {
	config    *Config[C]
	resources Resources
}

// NewEnvironment returns an environment whose configuration starts as
// config (version 1) — the guide's initialize.
func NewEnvironment[C any](config C) *Environment[C] {
	return &Environment[C]{config: NewConfig(config)}
}

// Config returns the shared configuration.
func (e *Environment[C]) Config() *Config[C] { return e.config }

// Resources returns the registry of shared resources.
func (e *Environment[C]) Resources() *Resources { return &e.resources }

// Close ends the configuration's watchers, then closes the resources in
// reverse order of registration; it returns their errors joined. It is
// idempotent.
func (e *Environment[C]) Close() error {
	return errors.Join(e.config.Close(), e.resources.Close())
}
