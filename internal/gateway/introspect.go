package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	// maxCacheEntries bounds the introspection cache; past it the expired
	// entries go, and if that is not enough, everything.
	maxCacheEntries = 100_000
	// maxIntrospections bounds the introspection calls in flight, so a
	// flood of distinct tokens cannot open unbounded connections to
	// gatehouse.
	maxIntrospections = 64
)

// introspectionCache answers "is this opaque token active, and what does
// it grant" from memory when it can, and asks gatehouse otherwise. Entries
// are keyed by the token's SHA-256, so the cache holds no token. Concurrent
// requests with one token share one call. Safe for concurrent use.
type introspectionCache struct {
	gatehouse   *gatehouseClient
	ttl         time.Duration // active answers, capped by the token's exp
	inactiveTTL time.Duration
	timeout     time.Duration // one call, waiting for a slot included
	now         func() time.Time

	group singleflight.Group
	slots chan struct{}

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	answer introspection
	until  time.Time
}

func newIntrospectionCache(gh *gatehouseClient, ttl, inactiveTTL, timeout time.Duration) *introspectionCache {
	return &introspectionCache{
		gatehouse: gh, ttl: ttl, inactiveTTL: inactiveTTL, timeout: timeout, now: time.Now,
		slots: make(chan struct{}, maxIntrospections), entries: map[string]cacheEntry{},
	}
}

// lookup returns the answer for token, from the cache or from gatehouse.
// An error means gatehouse could not be asked; it is not cached.
func (c *introspectionCache) lookup(ctx context.Context, token string) (introspection, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if a, ok := c.get(key); ok {
		return a, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		if a, ok := c.get(key); ok { // answered while this call waited
			return a, nil
		}
		// The call outlives a caller that gives up: others may share it.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-callCtx.Done():
			return introspection{}, callCtx.Err()
		}
		a, err := c.gatehouse.introspect(callCtx, token)
		if err != nil {
			return introspection{}, err
		}
		c.put(key, a)
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return introspection{}, r.Err
		}
		return r.Val.(introspection), nil
	case <-ctx.Done():
		return introspection{}, ctx.Err()
	}
}

func (c *introspectionCache) get(key string) (introspection, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return introspection{}, false
	}
	if !c.now().Before(e.until) {
		delete(c.entries, key)
		return introspection{}, false
	}
	return e.answer, true
}

// put caches a: an active answer for ttl but never past its exp, an
// inactive one for inactiveTTL.
func (c *introspectionCache) put(key string, a introspection) {
	now := c.now()
	until := now.Add(c.inactiveTTL)
	if a.Active {
		until = now.Add(c.ttl)
		if exp := time.Unix(a.Expiry, 0); exp.Before(until) {
			until = exp
		}
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			c.entries = map[string]cacheEntry{}
		}
	}
	c.entries[key] = cacheEntry{answer: a, until: until}
}
