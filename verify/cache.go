package verify

import (
	"context"
	"sync"
	"time"
)

// DefaultCacheSize is how many verified tokens a Verifier remembers when
// Config.CacheSize is zero.
const DefaultCacheSize = 10_000

// tokenCache remembers tokens that passed every check, keyed by the whole
// token, so that a client sending the same token again costs a map lookup
// instead of a signature verification. An entry is used only while now is
// before the token's exp (no leeway: a cached answer never outlives the
// token) and while its signing key is still published.
type tokenCache struct {
	max int

	mu      sync.RWMutex
	entries map[string]cached
}

type cached struct {
	claims *Claims
	kid    string
}

func newTokenCache(max int) *tokenCache {
	if max <= 0 {
		return nil
	}
	return &tokenCache{max: max, entries: make(map[string]cached, min(max, 1024))}
}

// get returns the claims of a token verified before, if they still hold.
func (c *tokenCache) get(v *Verifier, ctx context.Context, raw string, now time.Time) (*Claims, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	if !now.Before(e.claims.Expiry) || !v.stillPublished(ctx, e.kid) {
		c.mu.Lock()
		delete(c.entries, raw)
		c.mu.Unlock()
		return nil, false
	}
	out := *e.claims // callers may change their copy
	return &out, true
}

// put remembers a verified token; when full, it drops an arbitrary tenth.
func (c *tokenCache) put(raw, kid string, claims *Claims) {
	if c == nil {
		return
	}
	stored := *claims
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		drop := max(c.max/10, 1)
		for k := range c.entries {
			delete(c.entries, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.entries[raw] = cached{claims: &stored, kid: kid}
}

// stillPublished reports whether the key a cached token was verified with
// is still among the issuer's keys (a removed key ends its tokens here
// too, as it would on a fresh verification).
func (v *Verifier) stillPublished(ctx context.Context, kid string) bool {
	_, err := v.key(ctx, kid)
	return err == nil
}
