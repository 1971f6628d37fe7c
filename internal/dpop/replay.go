package dpop

import (
	"sync"
	"time"
)

// DefaultReplayEntries bounds a ReplayCache made with a size of zero:
// about a hundred megabytes at most.
const DefaultReplayEntries = 1 << 20

// sweepEvery is how often Use drops the expired entries.
const sweepEvery = time.Minute

// ReplayCache makes proofs single-use on one process: it remembers each
// proof's jti, under its key's thumbprint, until the proof expires. It
// suits a resource server, which has no shared store; where several
// processes serve one API each keeps its own memory, so a proof replayed
// to another process within its window is not caught. It is safe for
// concurrent use.
type ReplayCache struct {
	max int

	mu    sync.Mutex
	seen  map[string]time.Time
	swept time.Time
}

// NewReplayCache returns a cache holding at most maxEntries proofs; zero
// means DefaultReplayEntries.
func NewReplayCache(maxEntries int) *ReplayCache {
	if maxEntries <= 0 {
		maxEntries = DefaultReplayEntries
	}
	return &ReplayCache{max: maxEntries, seen: map[string]time.Time{}}
}

// Use records p as used at now. It returns an error matching ErrReplayed
// when p's key used p's jti before and that proof has not expired, or when
// the cache is full of live proofs: a flood is refused rather than
// forgotten, since forgetting would let replays through.
func (c *ReplayCache) Use(p *Proof, now time.Time) error {
	if !now.Before(p.ExpiresAt) {
		return invalid(ErrReplayed, "proof expired") // never accepted, so never remembered
	}
	key := p.JKT + " " + p.JTI
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return invalid(ErrReplayed, "")
	}
	if len(c.seen) >= c.max || now.Sub(c.swept) > sweepEvery {
		c.sweep(now)
		if len(c.seen) >= c.max {
			return invalid(ErrReplayed, "replay cache full")
		}
	}
	c.seen[key] = p.ExpiresAt
	return nil
}

func (c *ReplayCache) sweep(now time.Time) {
	c.swept = now
	for k, exp := range c.seen {
		if !now.Before(exp) {
			delete(c.seen, k)
		}
	}
}
