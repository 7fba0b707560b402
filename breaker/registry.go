package breaker

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Registry holds a process's breakers by name. Options given to NewRegistry
// apply to every breaker it creates, so one WithObserver sees the
// transitions of all of them, including breakers created later. There is no
// package-level registry: main builds one and passes it on. Safe for
// concurrent use.
type Registry struct {
	defaults Settings
	opts     []Option

	mu       sync.Mutex
	breakers map[string]*Breaker // guarded by mu
}

// NewRegistry returns an empty registry whose breakers default to defaults
// (validated here, so Breaker cannot fail) and are built with opts.
func NewRegistry(defaults Settings, opts ...Option) (*Registry, error) {
	if _, err := defaults.normalize(); err != nil {
		return nil, fmt.Errorf("new registry: %w", err)
	}
	return &Registry{
		defaults: defaults,
		opts:     slices.Clone(opts),
		breakers: make(map[string]*Breaker),
	}, nil
}

// Breaker returns the breaker named name, creating it with the registry's
// default settings if needed.
func (r *Registry) Breaker(name string) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.breakers[name]; ok {
		return b
	}
	b, err := New(name, r.defaults, r.opts...)
	if err != nil {
		panic("breaker: defaults validated by NewRegistry: " + err.Error()) // unreachable
	}
	r.breakers[name] = b
	return b
}

// Get returns the breaker named name, if any.
func (r *Registry) Get(name string) (*Breaker, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.breakers[name]
	return b, ok
}

// List returns the breakers sorted by name.
func (r *Registry) List() []*Breaker {
	r.mu.Lock()
	list := make([]*Breaker, 0, len(r.breakers))
	for _, b := range r.breakers {
		list = append(list, b)
	}
	r.mu.Unlock()
	slices.SortFunc(list, func(a, b *Breaker) int { return strings.Compare(a.name, b.name) })
	return list
}

// Snapshot returns a snapshot of every breaker, sorted by name. Each
// breaker's snapshot is consistent on its own; they are not taken at one
// instant.
func (r *Registry) Snapshot() []Snapshot {
	list := r.List()
	snaps := make([]Snapshot, len(list))
	for i, b := range list {
		snaps[i] = b.Snapshot()
	}
	return snaps
}
