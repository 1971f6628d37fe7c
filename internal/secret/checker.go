package secret

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/internal/store"
)

// maxBcrypt is the most bcrypt reads of a secret: it ignores the rest.
const maxBcrypt = 72

// bcryptCost is the work factor for imported secrets.
const bcryptCost = 11

// HashSlow hashes an imported (possibly low-entropy) secret with bcrypt.
func HashSlow(plain string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(plain), bcryptCost)
	if err != nil {
		return "", err
	}
	return slowScheme + string(h), nil
}

// Checker checks presented secrets against a client's stored ones. Slow
// (bcrypt) checks run with bounded concurrency and successes are cached by
// the digest of the presented secret, so imported clients cost a hash
// lookup at steady state.
type Checker struct {
	slots chan struct{}

	mu    sync.Mutex
	cache map[cacheKey]time.Time // success -> when it was checked
	ttl   time.Duration
}

type cacheKey struct {
	hash   string // the stored hash: a changed secret misses the cache
	digest digest
}

// maxCached bounds the success cache; past it, the cache is reset.
const maxCached = 100_000

// NewChecker returns a Checker that runs at most GOMAXPROCS bcrypt checks at once.
func NewChecker() *Checker {
	return &Checker{
		slots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		cache: map[cacheKey]time.Time{},
		ttl:   time.Hour,
	}
}

// dummy stands in for the secrets of an unknown client, so that an unknown
// id costs the same as a wrong secret for a client with two fast secrets.
var dummy = []store.Secret{{Hash: HashFast("gatehouse-dummy-1")}, {Hash: HashFast("gatehouse-dummy-2")}}

// compared, when a test sets it, sees the stored hash of every comparison
// Check makes, so tests can show that every path does the same work.
var compared func(storedHash string)

// Check reports whether presented matches one of the live secrets. Pass
// nil secrets for an unknown client: the same comparisons run against
// stand-ins and the answer is false.
func (c *Checker) Check(ctx context.Context, secrets []store.Secret, presented string, now time.Time) bool {
	known := secrets != nil
	if !known {
		secrets = dummy
	}
	d := digestOf(presented)
	ok := false
	// Compare against every slot, live or not, so the work does not depend
	// on which secret matched or on expiry.
	for i := 0; i < store.MaxSecrets; i++ {
		s := dummy[i]
		if i < len(secrets) {
			s = secrets[i]
		}
		if compared != nil {
			compared(s.Hash)
		}
		var m bool
		if strings.HasPrefix(s.Hash, slowScheme) {
			m = c.matchSlow(ctx, d, presented, s.Hash)
		} else {
			m = matchFast(d, s.Hash)
		}
		if m && i < len(secrets) && s.Live(now) {
			ok = true
		}
	}
	return ok && known && len(presented) <= MaxLen
}

func (c *Checker) matchSlow(ctx context.Context, d digest, presented, stored string) bool {
	if len(presented) > maxBcrypt {
		// bcrypt reads only the first 72 bytes, and no imported secret is
		// longer (ValidateImported), so a longer one is a stored secret
		// with something appended: without this it would match.
		return false
	}
	key := cacheKey{hash: stored, digest: d}
	c.mu.Lock()
	at, hit := c.cache[key]
	c.mu.Unlock()
	if hit && time.Since(at) < c.ttl {
		return true
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(strings.TrimPrefix(stored, slowScheme)), []byte(presented))
	<-c.slots
	if err != nil {
		return false
	}
	c.mu.Lock()
	if len(c.cache) >= maxCached {
		c.cache = map[cacheKey]time.Time{}
	}
	c.cache[key] = time.Now()
	c.mu.Unlock()
	return true
}

// IsSlow reports whether a stored hash is of an imported secret.
func IsSlow(hash string) bool { return strings.HasPrefix(hash, slowScheme) }
