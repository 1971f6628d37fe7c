package secret

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

var (
	now    = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	past   = now.Add(-time.Minute)
	future = now.Add(time.Hour)
)

func fast(plain string, expires *time.Time) store.Secret {
	return store.Secret{ID: plain[:4], Hash: HashFast(plain), ExpiresAt: expires}
}

func TestCheckFast(t *testing.T) {
	s1, s2 := New(), New()
	tests := []struct {
		name      string
		secrets   []store.Secret
		presented string
		want      bool
	}{
		{"right secret", []store.Secret{fast(s1, nil)}, s1, true},
		{"wrong secret", []store.Secret{fast(s1, nil)}, s2, false},
		{"empty presented", []store.Secret{fast(s1, nil)}, "", false},
		{"prefix of the secret", []store.Secret{fast(s1, nil)}, s1[:len(s1)-1], false},
		{"expired secret", []store.Secret{fast(s1, &past)}, s1, false},
		{"not yet expired", []store.Secret{fast(s1, &future)}, s1, true},
		{"second of two secrets", []store.Secret{fast(s1, &future), fast(s2, nil)}, s2, true},
		{"first of two secrets", []store.Secret{fast(s1, &future), fast(s2, nil)}, s1, true},
		{"expired first of two", []store.Secret{fast(s1, &past), fast(s2, nil)}, s1, false},
		{"unknown client", nil, s1, false},
		{"unknown client, dummy secret", nil, "gatehouse-dummy-1", false},
		{"client without secrets, dummy secret", []store.Secret{}, "gatehouse-dummy-2", false},
		{"one secret, dummy secret of the spare slot", []store.Secret{fast(s1, nil)}, "gatehouse-dummy-2", false},
		{"malformed stored hash", []store.Secret{{Hash: "sha256:!!"}}, s1, false},
		{"over MaxLen", []store.Secret{fast(strings.Repeat("a", MaxLen+1), nil)}, strings.Repeat("a", MaxLen+1), false},
	}
	c := NewChecker()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Check(t.Context(), tt.secrets, tt.presented, now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCheckSameComparisons shows that an unknown client, a wrong secret and
// a right one all run MaxSecrets comparisons against fast hashes.
func TestCheckSameComparisons(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	compared = func(h string) {
		mu.Lock()
		seen = append(seen, h)
		mu.Unlock()
	}
	t.Cleanup(func() { compared = nil })

	s1, s2 := New(), New()
	tests := []struct {
		name      string
		secrets   []store.Secret
		presented string
		want      bool
	}{
		{"unknown client", nil, s1, false},
		{"no secrets", []store.Secret{}, s1, false},
		{"wrong secret, one stored", []store.Secret{fast(s1, nil)}, s2, false},
		{"wrong secret, two stored", []store.Secret{fast(s1, nil), fast(s2, nil)}, "nope", false},
		{"expired secret", []store.Secret{fast(s1, &past)}, s1, false},
		{"right secret, first", []store.Secret{fast(s1, nil), fast(s2, nil)}, s1, true},
		{"right secret, second", []store.Secret{fast(s1, nil), fast(s2, nil)}, s2, true},
	}
	c := NewChecker()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			if got := c.Check(t.Context(), tt.secrets, tt.presented, now); got != tt.want {
				t.Errorf("Check: got %v, want %v", got, tt.want)
			}
			if len(seen) != store.MaxSecrets {
				t.Fatalf("comparisons: got %d, want %d", len(seen), store.MaxSecrets)
			}
			for i, h := range seen {
				if IsSlow(h) || !strings.HasPrefix(h, fastScheme) {
					t.Errorf("comparison %d: got hash %q, want a fast one", i, h)
				}
				if i < len(tt.secrets) && h != tt.secrets[i].Hash {
					t.Errorf("comparison %d: got hash %q, want the stored %q", i, h, tt.secrets[i].Hash)
				}
			}
		})
	}
}

// fillSlots takes every bcrypt slot, so a Check that needed bcrypt could only
// give up on its (cancelled) context.
func fillSlots(t *testing.T, c *Checker) {
	t.Helper()
	for range cap(c.slots) {
		c.slots <- struct{}{}
	}
	t.Cleanup(func() {
		for range cap(c.slots) {
			<-c.slots
		}
	})
}

func TestCheckSlow(t *testing.T) {
	t.Parallel() // bcrypt is slow, more so under -race
	if testing.Short() {
		t.Skip("bcrypt")
	}
	const imported = "legacy-vendor-secret-0001"
	hash, err := HashSlow(imported)
	if err != nil {
		t.Fatalf("HashSlow: got %v, want nil", err)
	}
	if !IsSlow(hash) || strings.Contains(hash, imported) {
		t.Fatalf("HashSlow: got %q, want a %s hash without the plain text", hash, slowScheme)
	}
	stored := []store.Secret{{ID: "imp", Hash: hash}}
	key := cacheKey{hash: hash, digest: digestOf(imported)}

	c := NewChecker()
	ctx := t.Context()
	if c.Check(ctx, stored, "legacy-vendor-secret-0002", now) {
		t.Errorf("wrong imported secret: got true, want false")
	}
	if len(c.cache) != 0 {
		t.Errorf("cache after a failure: got %d entries, want 0", len(c.cache))
	}
	if !c.Check(ctx, stored, imported, now) {
		t.Fatalf("right imported secret: got false, want true")
	}
	if _, ok := c.cache[key]; !ok || len(c.cache) != 1 {
		t.Fatalf("cache after a success: got %v, want one entry for the stored hash and the presented digest", c.cache)
	}
	if c.Check(ctx, []store.Secret{{ID: "imp", Hash: hash, ExpiresAt: &past}}, imported, now) {
		t.Errorf("expired imported secret (cached): got true, want false")
	}

	// With every bcrypt slot taken and the context cancelled, only the
	// cache can answer true.
	fillSlots(t, c)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if !c.Check(cancelled, stored, imported, now) {
		t.Errorf("right secret, bcrypt unavailable: got false, want true from the cache")
	}
	if c.Check(cancelled, stored, "legacy-vendor-secret-0002", now) {
		t.Errorf("wrong secret, bcrypt unavailable: got true, want false")
	}
	// The cache is keyed by the stored hash: another hash of the same
	// secret (a re-import) is not served from it.
	other := "bcrypt:" + strings.Replace(strings.TrimPrefix(hash, slowScheme), "$11$", "$10$", 1)
	if c.Check(cancelled, []store.Secret{{Hash: other}}, imported, now) {
		t.Errorf("same secret, different stored hash: got true from the cache, want a miss")
	}
	// Expired cache entries go back to bcrypt.
	c.mu.Lock()
	c.cache[key] = time.Now().Add(-2 * c.ttl)
	c.mu.Unlock()
	if c.Check(cancelled, stored, imported, now) {
		t.Errorf("stale cache entry, bcrypt unavailable: got true, want false")
	}
}

func TestCheckSlowOneSlotOfTwo(t *testing.T) {
	t.Parallel() // bcrypt is slow, more so under -race
	if testing.Short() {
		t.Skip("bcrypt")
	}
	s1 := New()
	const imported = "legacy-vendor-secret-0003"
	hash, err := HashSlow(imported)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []store.Secret{fast(s1, nil), {ID: "imp", Hash: hash}}
	c := NewChecker()
	for _, tt := range []struct {
		presented string
		want      bool
	}{{s1, true}, {imported, true}} {
		if got := c.Check(t.Context(), secrets, tt.presented, now); got != tt.want {
			t.Errorf("Check(%q): got %v, want %v", tt.presented[:10], got, tt.want)
		}
	}
}

func TestCheckConcurrent(t *testing.T) {
	s1 := New()
	secrets := []store.Secret{fast(s1, nil)}
	c := NewChecker()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			presented := s1
			if i%2 == 1 {
				presented = "wrong"
			}
			if got, want := c.Check(context.Background(), secrets, presented, now), i%2 == 0; got != want {
				t.Errorf("goroutine %d: got %v, want %v", i, got, want)
			}
		}()
	}
	wg.Wait()
}

// TestCheckSlowNothingAppended: bcrypt reads 72 bytes, so an imported
// secret of exactly 72 matched anything that started with it. Only the
// secret itself matches now.
func TestCheckSlowNothingAppended(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("bcrypt")
	}
	imported := strings.Repeat("k", 72)
	hash, err := HashSlow(imported)
	if err != nil {
		t.Fatalf("HashSlow: got %v, want nil", err)
	}
	stored := []store.Secret{{ID: "imp", Hash: hash}}
	c := NewChecker()
	tests := []struct {
		name, presented string
		want            bool
	}{
		{"the secret", imported, true},
		{"one byte appended", imported + "x", false},
		{"anything appended", imported + "-anything-at-all", false},
		{"one byte short", imported[:71], false},
	}
	for _, tt := range tests {
		if got := c.Check(t.Context(), stored, tt.presented, now); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
