// Package tokencache is the private file cache behind `gatehouse token`:
// one small JSON file per token, readable by its owner only, reused until
// shortly before the token expires.
//
// A cache file is named by the SHA-256 of what the token was asked for
// (gatehouse URL, client id, audience, scope) and how (the client's
// authentication method, and the DPoP key the token is bound to, if any),
// and holds the token and its times, never the client secret or a key. A
// DPoP-bound token is useless without its key, and a bearer token must not
// be sent where a bound one is asked for: one is never handed out for the
// other. The package also holds the client credentials request whose
// answer it caches.
package tokencache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Refresh margins: a cached token is used while more than MinRemaining and
// more than RemainingFraction of its lifetime remain.
const (
	MinRemaining      = 60 * time.Second
	RemainingFraction = 0.10
)

// EnvDir names the environment variable that overrides the cache directory.
const EnvDir = "GATEHOUSE_TOKEN_CACHE"

// maxFileBytes bounds a cache file read.
const maxFileBytes = 64 << 10

// Key is what a token was asked for, and how.
type Key struct {
	URL      string
	ClientID string
	Audience string
	Scope    string // space-separated; order and repeats do not matter
	// Auth is how the client authenticated: "" for a secret, or
	// "private_key_jwt".
	Auth string
	// DPoP is the RFC 7638 thumbprint of the DPoP key the token is bound
	// to; "" asks for a bearer token.
	DPoP string
}

// FileName is the key's cache file name: a hash, so the directory listing
// shows nothing about the clients.
func (k Key) FileName() string {
	scopes := strings.Fields(k.Scope)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	parts := []string{strings.TrimSuffix(k.URL, "/"), k.ClientID, k.Audience, strings.Join(scopes, " "),
		"auth=" + k.Auth, "dpop=" + k.DPoP}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:]) + ".json"
}

// fits reports whether e is the kind of token k asks for: DPoP-bound when
// k names a DPoP key, a bearer token when it does not. The file name keeps
// them apart already; this holds even for a file put in the wrong place.
func (k Key) fits(e Entry) bool {
	return (k.DPoP != "") == strings.EqualFold(e.TokenType, "DPoP")
}

// Entry is a cached token.
type Entry struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Scope       string    `json:"scope,omitempty"`
	IssuedAt    time.Time `json:"issued_at"` // when it was fetched
	ExpiresAt   time.Time `json:"expires_at"`
}

// Fresh reports whether e may still be handed out at now: more than
// MinRemaining and more than RemainingFraction of its lifetime left. A
// token without an expiry is never fresh, so it is never reused.
func (e Entry) Fresh(now time.Time) bool {
	if e.AccessToken == "" || e.ExpiresAt.IsZero() || !e.IssuedAt.Before(e.ExpiresAt) {
		return false
	}
	left := e.ExpiresAt.Sub(now)
	lifetime := e.ExpiresAt.Sub(e.IssuedAt)
	return left > MinRemaining && float64(left) > RemainingFraction*float64(lifetime)
}

// ExpiresIn is the whole seconds left at now.
func (e Entry) ExpiresIn(now time.Time) int64 {
	return max(0, int64(e.ExpiresAt.Sub(now)/time.Second))
}

// Fetch gets a new token.
type Fetch func(ctx context.Context) (Entry, error)

// Cache is a directory of cached tokens.
type Cache struct {
	// Dir holds the files; it is created with mode 0700.
	Dir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnStoreError hears a failure to write the cache, which does not fail
	// Token; nil ignores it.
	OnStoreError func(error)
}

// DefaultDir is $GATEHOUSE_TOKEN_CACHE, or gatehouse/ in the user's cache
// directory (os.UserCacheDir).
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s, or use --no-cache): %w", EnvDir, err)
	}
	return filepath.Join(base, "gatehouse"), nil
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Token returns a fresh token for k from the cache, or else from fetch,
// caching it. With noCache it neither reads nor writes the cache.
func (c *Cache) Token(ctx context.Context, k Key, noCache bool, fetch Fetch) (Entry, error) {
	if !noCache {
		if e, ok := c.Load(k); ok && e.Fresh(c.now()) && k.fits(e) {
			return e, nil
		}
	}
	e, err := fetch(ctx)
	if err != nil {
		return Entry{}, err
	}
	if !noCache && e.Fresh(c.now()) && k.fits(e) {
		if err := c.Store(k, e); err != nil && c.OnStoreError != nil {
			c.OnStoreError(err)
		}
	}
	return e, nil
}

// Load reads k's entry. A missing, unreadable or corrupt file, or one that
// others could read or write, is a miss.
func (c *Cache) Load(k Key) (Entry, bool) {
	name := filepath.Join(c.Dir, k.FileName())
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 || fi.Size() > maxFileBytes {
		return Entry{}, false
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if json.Unmarshal(data, &e) != nil || e.AccessToken == "" {
		return Entry{}, false
	}
	return e, true
}

// Store writes k's entry with mode 0600, atomically (a temporary file
// renamed over the old one), creating the directory with mode 0700.
func (c *Cache) Store(k Key, e Entry) error {
	if err := c.ensureDir(); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, ".token-*") // mode 0600
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.Dir, k.FileName())); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// ensureDir creates the directory with mode 0700, and takes group and
// other access away from an existing one: it holds bearer tokens.
func (c *Cache) ensureDir() error {
	if c.Dir == "" {
		return errors.New("token cache: no directory")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	fi, err := os.Lstat(c.Dir)
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("token cache: %s is not a directory", c.Dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.Dir, fi.Mode().Perm()&0o700|0o700); err != nil {
			return fmt.Errorf("token cache: %s is open to other users and cannot be made private: %w", c.Dir, err)
		}
	}
	return nil
}
