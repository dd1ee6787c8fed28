package hosts

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"berth/internal/berth"
)

// Registries is what the resolver needs of the metadata store.
type Registries interface {
	Registry(ctx context.Context, name string) (berth.Registry, error)
	RegistryByAlias(ctx context.Context, host string) (berth.Registry, error)
}

// Resolver resolves request hosts to registries.
type Resolver struct {
	store  Registries
	domain string
	ttl    time.Duration

	mu    sync.RWMutex
	cache map[string]entry
}

type entry struct {
	reg     berth.Registry
	err     error
	expires time.Time
}

// maxCached bounds the cache; past it the cache is dropped and rebuilt.
const maxCached = 10_000

// New returns a resolver for login servers under domain (e.g. "example.com").
// Answers, including "not found", are cached for ttl.
func New(store Registries, domain string, ttl time.Duration) *Resolver {
	return &Resolver{store: store, domain: strings.ToLower(strings.TrimSuffix(domain, ".")), ttl: ttl, cache: map[string]entry{}}
}

// ResolveHost returns the registry that answers for host (a Host header,
// with or without port). It returns KindNotFound, naming the host, when no
// registry does.
func (r *Resolver) ResolveHost(ctx context.Context, host string) (berth.Registry, error) {
	now := time.Now()
	r.mu.RLock()
	e, ok := r.cache[host]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.reg, e.err
	}
	reg, err := r.lookup(ctx, host)
	if err != nil && !berth.IsNotFound(err) {
		return reg, err // do not cache failures of the store
	}
	r.mu.Lock()
	if len(r.cache) >= maxCached {
		r.cache = map[string]entry{}
	}
	r.cache[host] = entry{reg: reg, err: err, expires: now.Add(r.ttl)}
	r.mu.Unlock()
	return reg, err
}

func (r *Resolver) lookup(ctx context.Context, hostport string) (berth.Registry, error) {
	host := strings.ToLower(hostport)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	reg, err := r.store.RegistryByAlias(ctx, host)
	if !berth.IsNotFound(err) {
		return reg, err
	}
	if name, ok := strings.CutSuffix(host, "."+r.domain); ok && name != "" && !strings.Contains(name, ".") {
		reg, err = r.store.Registry(ctx, name)
		if !berth.IsNotFound(err) {
			return reg, err
		}
	}
	return berth.Registry{}, berth.E("hosts.ResolveHost", berth.KindNotFound, "no registry answers for host %q", hostport)
}

// Forget drops every cached answer, so that a registry's changed settings
// (or its deletion) take effect on this node at the next request. Other
// nodes see the change within their cache's ttl.
func (r *Resolver) Forget() {
	r.mu.Lock()
	clear(r.cache)
	r.mu.Unlock()
}
