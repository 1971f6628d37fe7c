package tokencache

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// fakeGatehouse answers POST /oauth/token for client c_123 and counts the
// requests.
type fakeGatehouse struct {
	*httptest.Server
	requests  atomic.Int32
	expiresIn int
}

func startFake(t *testing.T) *fakeGatehouse {
	t.Helper()
	f := &fakeGatehouse{expiresIn: 3600}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		id, secret, ok := r.BasicAuth()
		if r.URL.Path != "/oauth/token" || !ok || id != "c_123" || secret != "gh_s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed."}`)
			return
		}
		if r.PostFormValue("audience") != "https://api.example.io" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":"access_denied","error_description":"Client is not authorized to access \"x\"."}`)
			return
		}
		tokenType := "Bearer"
		if r.Header.Get("DPoP") != "" { // bound to the proof's key; the client tests check proofs
			tokenType = "DPoP"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("token-%d", n),
			"token_type": tokenType, "expires_in": f.expiresIn, "scope": r.PostFormValue("scope")})
	}))
	t.Cleanup(f.Close)
	return f
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// run is one `gatehouse token` invocation: a fresh Cache over dir.
func run(t *testing.T, f *fakeGatehouse, dir string, k Key, noCache bool, now time.Time, opts ...client.Option) (Entry, error) {
	t.Helper()
	k.URL = f.URL
	c := &Cache{Dir: dir, Now: func() time.Time { return now }, OnStoreError: func(err error) { t.Errorf("store: %v", err) }}
	return c.Token(context.Background(), k, noCache, ClientCredentials(k, "gh_s3cret", httpClient, opts...))
}

var key = Key{ClientID: "c_123", Audience: "https://api.example.io", Scope: "read write"}

func TestTokenCache(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// second is the second invocation after a first at now.
		second      func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error)
		wantToken   string
		wantFetches int32
	}{
		{"reused from the cache", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			return run(t, f, dir, key, false, now.Add(time.Minute))
		}, "token-1", 1},
		{"scope order does not matter", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			k := key
			k.Scope = "write read read"
			return run(t, f, dir, k, false, now)
		}, "token-1", 1},
		{"near expiry refetches", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			return run(t, f, dir, key, false, now.Add(55*time.Minute))
		}, "token-2", 2},
		{"--no-cache always fetches", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			return run(t, f, dir, key, true, now)
		}, "token-2", 2},
		{"another audience is another entry", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			k := key
			k.Scope = "read"
			return run(t, f, dir, k, false, now)
		}, "token-2", 2},
		{"corrupt file refetches", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			k := key
			k.URL = f.URL
			if err := os.WriteFile(filepath.Join(dir, k.FileName()), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
			return run(t, f, dir, key, false, now)
		}, "token-2", 2},
		{"file others can read is ignored", func(t *testing.T, f *fakeGatehouse, dir string) (Entry, error) {
			k := key
			k.URL = f.URL
			if err := os.Chmod(filepath.Join(dir, k.FileName()), 0o644); err != nil {
				t.Fatal(err)
			}
			return run(t, f, dir, key, false, now)
		}, "token-2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dir := startFake(t), filepath.Join(t.TempDir(), "cache")
			if e, err := run(t, f, dir, key, false, now); err != nil || e.AccessToken != "token-1" {
				t.Fatalf("first: got %+v, %v; want token-1", e, err)
			}
			e, err := tt.second(t, f, dir)
			if err != nil || e.AccessToken != tt.wantToken {
				t.Errorf("second: got %q, %v; want %q", e.AccessToken, err, tt.wantToken)
			}
			if got := f.requests.Load(); got != tt.wantFetches {
				t.Errorf("token requests: got %d, want %d", got, tt.wantFetches)
			}
		})
	}
}

// TestCacheKeepsBindingsApart checks that a DPoP-bound token is never
// handed out as a bearer one, nor bound to one key for another.
func TestCacheKeepsBindingsApart(t *testing.T) {
	newDPoP := func() *client.DPoP {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		d, err := client.NewDPoP(k, "")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1, d2 := newDPoP(), newDPoP()
	bearer, bound1, bound2, keyAuth := key, key, key, key
	bound1.DPoP, bound2.DPoP, keyAuth.Auth = d1.Thumbprint(), d2.Thumbprint(), "private_key_jwt"
	f, dir, now := startFake(t), filepath.Join(t.TempDir(), "cache"), time.Now()
	steps := []struct {
		name      string
		key       Key
		dpop      *client.DPoP
		wantToken string
		wantType  string
	}{
		{"bearer", bearer, nil, "token-1", "Bearer"},
		{"bound to d1", bound1, d1, "token-2", "DPoP"},
		{"bearer again: cached", bearer, nil, "token-1", "Bearer"},
		{"bound to d1 again: cached", bound1, d1, "token-2", "DPoP"},
		{"bound to d2", bound2, d2, "token-3", "DPoP"},
		{"another auth method", keyAuth, nil, "token-4", "Bearer"},
	}
	for _, s := range steps {
		var opts []client.Option
		if s.dpop != nil {
			opts = append(opts, client.WithDPoP(s.dpop))
		}
		e, err := run(t, f, dir, s.key, false, now, opts...)
		if err != nil || e.AccessToken != s.wantToken || e.TokenType != s.wantType {
			t.Errorf("%s: got %q %q, %v; want %q %q", s.name, e.AccessToken, e.TokenType, err, s.wantToken, s.wantType)
		}
	}

	// A bound token in the bearer key's file, put there by hand.
	b, d := bearer, bound1
	b.URL, d.URL = f.URL, f.URL
	if err := os.Rename(filepath.Join(dir, d.FileName()), filepath.Join(dir, b.FileName())); err != nil {
		t.Fatal(err)
	}
	if e, err := run(t, f, dir, bearer, false, now); err != nil || e.AccessToken != "token-5" {
		t.Errorf("a DPoP token in a bearer file: got %q, %v; want a new token-5", e.AccessToken, err)
	}
}

func TestCacheFiles(t *testing.T) {
	f, dir := startFake(t), filepath.Join(t.TempDir(), "gatehouse")
	if _, err := run(t, f, dir, key, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	k := key
	k.URL = f.URL
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != k.FileName() {
		t.Fatalf("got files %v, want exactly %s", entries, k.FileName())
	}
	checks := []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, k.FileName()), 0o600}}
	for _, c := range checks {
		fi, err := os.Stat(c.path)
		if err != nil || fi.Mode().Perm() != c.want {
			t.Errorf("%s: got mode %v (%v), want %v", filepath.Base(c.path), fi.Mode().Perm(), err, c.want)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, k.FileName()))
	if strings.Contains(string(data), "gh_s3cret") || strings.Contains(string(data), "c_123") {
		t.Errorf("the cache file holds the secret or client id: %s", data)
	}

	t.Run("no-cache writes nothing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "none")
		if _, err := run(t, f, dir, key, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("got %v, want no cache directory", err)
		}
	})
	t.Run("open directory made private", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, f, dir, key, false, time.Now()); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("got mode %v, want 0700", fi.Mode().Perm())
		}
	})
}

func TestTokenErrors(t *testing.T) {
	f := startFake(t)
	tests := []struct {
		name   string
		key    Key
		secret string
		want   string
	}{
		{"wrong secret", key, "nope", "invalid_client: Client authentication failed."},
		{"unknown audience", Key{ClientID: "c_123", Audience: "https://x"}, "gh_s3cret", `access_denied: Client is not authorized to access "x".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.key
			k.URL = f.URL
			c := &Cache{Dir: t.TempDir()}
			_, err := c.Token(context.Background(), k, false, ClientCredentials(k, tt.secret, httpClient))
			var te *TokenError
			if !errors.As(err, &te) || err.Error() != tt.want {
				t.Errorf("got %v, want TokenError %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error shows the secret")
			}
		})
	}
}

func TestFresh(t *testing.T) {
	t0 := time.Unix(1_750_000_000, 0)
	tests := []struct {
		name     string
		lifetime time.Duration
		age      time.Duration
		want     bool
	}{
		{"new 1h token", time.Hour, 0, true},
		{"1h token with 7 minutes left", time.Hour, 53 * time.Minute, true},
		{"1h token with 5 minutes left (under 10%)", time.Hour, 55 * time.Minute, false},
		{"24h token with 2 hours left", 24 * time.Hour, 22 * time.Hour, false},
		{"24h token with 3 hours left", 24 * time.Hour, 21 * time.Hour, true},
		{"5m token with 61s left", 5 * time.Minute, 239 * time.Second, true},
		{"5m token with 59s left (under 60s)", 5 * time.Minute, 241 * time.Second, false},
		{"expired", time.Hour, 2 * time.Hour, false},
		{"no expiry", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{AccessToken: "t", IssuedAt: t0}
			if tt.lifetime > 0 {
				e.ExpiresAt = t0.Add(tt.lifetime)
			}
			if got := e.Fresh(t0.Add(tt.age)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv(EnvDir, "/tmp/somewhere")
	if got, err := DefaultDir(); err != nil || got != "/tmp/somewhere" {
		t.Errorf("got %q, %v; want $%s", got, err, EnvDir)
	}
	if runtime.GOOS != "linux" {
		return // os.UserCacheDir reads XDG_CACHE_HOME on Linux only
	}
	t.Setenv(EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if got, err := DefaultDir(); err != nil || got != "/tmp/xdg/gatehouse" {
		t.Errorf("got %q, %v; want /tmp/xdg/gatehouse", got, err)
	}
}
