package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeClock is a settable RemoteOptions.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_750_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyServer serves a JWKS over TLS and counts the requests.
type keyServer struct {
	srv     *httptest.Server
	fetches atomic.Int32

	mu     sync.Mutex
	keys   []any
	maxAge string
	status int
	block  chan struct{} // when set, requests wait for it to close
}

func newKeyServer(t testing.TB, keys ...any) *keyServer {
	t.Helper()
	ks := &keyServer{keys: keys, maxAge: "300", status: http.StatusOK}
	ks.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		block, status, maxAge := ks.block, ks.status, ks.maxAge
		body, _ := jsonDoc(ks.keys)
		ks.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				panic(http.ErrAbortHandler) // no answer at all
			}
		}
		w.Header().Set("Cache-Control", "max-age="+maxAge)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func jsonDoc(keys []any) ([]byte, error) {
	return json.Marshal(map[string]any{"keys": keys})
}

func (ks *keyServer) set(f func(ks *keyServer)) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	f(ks)
}

// remote returns a Remote for ks on clock with the server's TLS client.
func (ks *keyServer) remote(t testing.TB, clock *fakeClock, modify ...func(*RemoteOptions)) *Remote {
	t.Helper()
	opts := RemoteOptions{HTTPClient: ks.srv.Client(), Now: clock.Now, RequireHTTPS: true}
	for _, m := range modify {
		m(&opts)
	}
	r, err := NewRemote(ks.srv.URL+"/jwks.json", opts)
	if err != nil {
		t.Fatalf("NewRemote: %v", err)
	}
	return r
}

func lookup(t testing.TB, r *Remote, kid, alg string) []string {
	t.Helper()
	keys, err := r.Lookup(t.Context(), kid, alg)
	if err != nil {
		t.Fatalf("Lookup(%q, %q): %v", kid, alg, err)
	}
	return describe(keys)
}

func TestRemoteCachesWhileFresh(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"), jwk("rsa", "rsa-1", "RS256"))
	clock := newClock()
	r := ks.remote(t, clock)
	if ks.fetches.Load() != 0 {
		t.Fatal("NewRemote fetched; want the first use to")
	}
	for range 10 {
		if got := lookup(t, r, "ec-1", "ES256"); !slices.Equal(got, []string{"ec-1:ES256"}) {
			t.Fatalf("Lookup: got %v", got)
		}
		if got := lookup(t, r, "", "RS256"); !slices.Equal(got, []string{"rsa-1:RS256"}) {
			t.Fatalf("Lookup by alg: got %v", got)
		}
	}
	clock.Advance(299 * time.Second)
	lookup(t, r, "ec-1", "ES256")
	if got := ks.fetches.Load(); got != 1 {
		t.Errorf("fetches while fresh: got %d, want 1", got)
	}
}

func TestRemoteUnknownKidRefreshesOncePerInterval(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	clock := newClock()
	r := ks.remote(t, clock, func(o *RemoteOptions) { o.MinRefresh = 30 * time.Second })
	miss := func(n int, want int32) {
		t.Helper()
		for range n {
			if got := lookup(t, r, "unknown", "ES256"); got != nil {
				t.Fatalf("Lookup of an unknown kid: got %v, want none", got)
			}
		}
		if got := ks.fetches.Load(); got != want {
			t.Fatalf("fetches: got %d, want %d", got, want)
		}
	}
	miss(3, 1) // the first fetch is too recent to refresh
	clock.Advance(30 * time.Second)
	miss(3, 2)
	clock.Advance(29 * time.Second)
	miss(1, 2)
	clock.Advance(time.Second)
	miss(1, 3)
	// Without a kid, a miss on the algorithm refreshes the same way.
	clock.Advance(30 * time.Second)
	if got := lookup(t, r, "", "PS256"); got != nil {
		t.Fatalf("Lookup PS256: got %v, want none", got)
	}
	if got := ks.fetches.Load(); got != 4 {
		t.Errorf("fetches: got %d, want 4", got)
	}
}

func TestRemoteFindsRotatedKey(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	clock := newClock()
	r := ks.remote(t, clock)
	lookup(t, r, "ec-1", "ES256")
	ks.set(func(ks *keyServer) { ks.keys = append(ks.keys, jwk("rsa-next", "rsa-2", "PS256")) })
	clock.Advance(DefaultMinRefresh)
	if got := lookup(t, r, "rsa-2", "PS256"); !slices.Equal(got, []string{"rsa-2:PS256"}) {
		t.Errorf("Lookup of the new kid: got %v", got)
	}
	if got := ks.fetches.Load(); got != 2 {
		t.Errorf("fetches: got %d, want 2", got)
	}
}

func TestRemoteConcurrentMissesShareOneFetch(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	clock := newClock()
	r := ks.remote(t, clock)
	var wg sync.WaitGroup
	for range 64 { // the first fetch, shared
		wg.Go(func() { _, _ = r.Lookup(t.Context(), "ec-1", "ES256") })
	}
	wg.Wait()
	clock.Advance(DefaultMinRefresh)
	for range 64 { // one refresh, shared and then rate-limited
		wg.Go(func() { _, _ = r.Lookup(t.Context(), "evil", "ES256") })
	}
	wg.Wait()
	if got := ks.fetches.Load(); got != 2 {
		t.Errorf("fetches: got %d, want 2", got)
	}
}

func TestRemoteStaleKeysServeWhileRefreshing(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	ks.maxAge = "120"
	clock := newClock()
	r := ks.remote(t, clock)
	lookup(t, r, "ec-1", "ES256")

	// The refresh fails: the stale keys keep serving, and are tried
	// again only after MinRefresh.
	release := make(chan struct{})
	ks.set(func(ks *keyServer) { ks.status, ks.block = http.StatusInternalServerError, release })
	clock.Advance(121 * time.Second)
	for range 5 {
		if got := lookup(t, r, "ec-1", "ES256"); !slices.Equal(got, []string{"ec-1:ES256"}) {
			t.Fatalf("Lookup during the refresh: got %v", got)
		}
	}
	close(release)
	waitFor(t, func() bool { return ks.fetches.Load() == 2 && !r.refreshing.Load() })
	if got := lookup(t, r, "ec-1", "ES256"); !slices.Equal(got, []string{"ec-1:ES256"}) {
		t.Fatalf("Lookup after a failed refresh: got %v", got)
	}
	if got := ks.fetches.Load(); got != 2 {
		t.Fatalf("fetches right after a failed refresh: got %d, want 2", got)
	}

	// The next refresh succeeds and drops the removed key.
	ks.set(func(ks *keyServer) {
		ks.status, ks.block, ks.keys = http.StatusOK, nil, []any{jwk("ed", "ed-1", "EdDSA")}
	})
	clock.Advance(DefaultMinRefresh)
	lookup(t, r, "ec-1", "ES256") // stale: served, refreshed in the background
	waitFor(t, func() bool { return ks.fetches.Load() == 3 && !r.refreshing.Load() })
	if got := lookup(t, r, "ed-1", "EdDSA"); !slices.Equal(got, []string{"ed-1:EdDSA"}) {
		t.Errorf("Lookup of the new key: got %v", got)
	}
	if got := lookup(t, r, "ec-1", "ES256"); got != nil {
		t.Errorf("Lookup of the removed key: got %v, want none", got)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestRemoteFirstFetchIsBounded(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	hang := make(chan struct{})
	defer close(hang)
	ks.set(func(ks *keyServer) { ks.block = hang })
	clock := newClock()
	r := ks.remote(t, clock, func(o *RemoteOptions) { o.Timeout = 100 * time.Millisecond })
	start := time.Now()
	keys, err := r.Lookup(t.Context(), "ec-1", "ES256")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Lookup took %v, want about the 100ms timeout", took)
	}
	if err == nil || !strings.Contains(err.Error(), "no complete answer within 100ms") {
		t.Fatalf("Lookup: got (%v, %v), want a timeout error", keys, err)
	}
	// Within MinRefresh the failure is answered without a new request.
	_, err2 := r.Load(t.Context())
	if err2 == nil || !strings.Contains(err2.Error(), "within 100ms") {
		t.Errorf("Load right after: got %v, want the last failure", err2)
	}
	if got := ks.fetches.Load(); got > 1 { // 0 when even the TLS handshake took too long
		t.Errorf("requests: got %d, want at most 1", got)
	}
}

func TestRemoteCallerContext(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	hang := make(chan struct{})
	defer close(hang)
	ks.set(func(ks *keyServer) { ks.block = hang })
	r := ks.remote(t, newClock())
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Lookup(ctx, "ec-1", "ES256"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lookup with a short context: got %v, want DeadlineExceeded", err)
	}
}

func TestRemoteFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(ks *keyServer)
		opts    func(o *RemoteOptions)
		wantErr string
	}{
		{"status 404", func(ks *keyServer) { ks.status = http.StatusNotFound }, nil, "status 404"},
		{"body over MaxBytes", nil, func(o *RemoteOptions) { o.MaxBytes = 64 }, "larger than 64 bytes"},
		{"private key", func(ks *keyServer) {
			ks.keys = []any{jose.JSONWebKey{Key: testKeys()["ec"], KeyID: "leak", Algorithm: "ES256"}}
		}, nil, "private"},
		{"no usable key", func(ks *keyServer) { ks.keys = []any{jwk("rsa1024", "small", "RS256")} }, nil, "no usable signing key"},
		{"untrusted certificate", nil, func(o *RemoteOptions) { o.HTTPClient = &http.Client{} }, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
			if tt.setup != nil {
				ks.set(tt.setup)
			}
			var modify []func(*RemoteOptions)
			if tt.opts != nil {
				modify = append(modify, tt.opts)
			}
			r := ks.remote(t, newClock(), modify...)
			keys, err := r.Lookup(t.Context(), "ec-1", "ES256")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Lookup: got (%v, %v), want an error containing %q", keys, err, tt.wantErr)
			}
		})
	}
}

func TestRemoteRequireHTTPS(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the plain-HTTP server was asked")
	}))
	defer plain.Close()
	if _, err := NewRemote(plain.URL+"/jwks.json", RemoteOptions{RequireHTTPS: true}); err == nil {
		t.Error("NewRemote of an http URL with RequireHTTPS: got nil error, want one")
	}
	if _, err := NewRemote(plain.URL+"/jwks.json", RemoteOptions{}); err != nil {
		t.Errorf("NewRemote of an http URL: got %v, want nil", err)
	}
	for _, bad := range []string{"/jwks.json", "ftp://example.com/jwks", "https://", "::"} {
		if _, err := NewRemote(bad, RemoteOptions{}); err == nil {
			t.Errorf("NewRemote(%q): got nil error, want one", bad)
		}
	}

	redirector := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/jwks.json", http.StatusFound))
	defer redirector.Close()
	r, err := NewRemote(redirector.URL, RemoteOptions{HTTPClient: redirector.Client(), RequireHTTPS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load(t.Context()); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("Load through a redirect to http: got %v, want a refusal", err)
	}
	if redirector.Client().CheckRedirect != nil {
		t.Error("RequireHTTPS changed the caller's client")
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", defaultTTL},
		{"public, max-age=600", 10 * time.Minute},
		{"max-age=0", 0},
		{"no-store", 0},
		{"max-age=abc", defaultTTL},
		{"max-age=-5", defaultTTL},
		{"max-age=99999999999999999", maxTTL},
		{`MAX-AGE="60"`, time.Minute},
	}
	for _, tt := range tests {
		if got := maxAge(tt.header); got != tt.want {
			t.Errorf("maxAge(%q): got %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestRemoteShortMaxAgeLivesMinRefresh(t *testing.T) {
	ks := newKeyServer(t, jwk("ec", "ec-1", "ES256"))
	ks.maxAge = "0"
	clock := newClock()
	r := ks.remote(t, clock)
	for range 5 {
		lookup(t, r, "ec-1", "ES256")
		clock.Advance(time.Second)
	}
	if got := ks.fetches.Load(); got != 1 {
		t.Errorf("fetches with max-age=0 within MinRefresh: got %d, want 1", got)
	}
}
