package server

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestKeyRotationUnderLiveIssuance rotates the signing keys while tokens
// are issued and checked, as a resource server does, against a JWKS it
// caches and refreshes only on its own schedule (more often than the
// publish delay). No token may ever fail: a key is published before it
// signs, and a retired key stays published until its tokens expire.
//
// The node runs on a fake clock, so the publish delay passes when the
// test says so: only after the resource server's cache has taken in the
// new key, as a refresh interval shorter than the delay guarantees in
// production. Every wait is on a condition, never on a fixed sleep.
func TestKeyRotationUnderLiveIssuance(t *testing.T) {
	const publishDelay = 10 * time.Minute
	clk := newFakeClock()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, func(c *config.Config) { c.KeyPublishDelay = publishDelay }, Options{Now: clk.Now})
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("busy"), Tenant: "acme", Grants: &map[string][]string{platform: {"cdp.audience_exports:r"}}})

	fetch := func() jwk.Set {
		resp, err := http.Get(h.ts.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		set, err := jwk.Parse(body)
		if err != nil {
			t.Error(err)
		}
		return set
	}
	var cached atomic.Pointer[jwk.Set] // the resource server's JWKS cache
	var refreshes atomic.Int64
	first := fetch()
	cached.Store(&first)
	cachedHas := func(kid string) bool { _, ok := (*cached.Load()).LookupKeyID(kid); return ok }

	var (
		mu       sync.Mutex
		kids     = map[string]int{} // tokens issued and checked, by signing key
		oldToken string             // one token of the key that will retire
	)
	issued := func(kid string) int { mu.Lock(); defer mu.Unlock(); return kids[kid] }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the resource server's cache refresher
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if s := fetch(); s != nil {
				cached.Store(&s)
				refreshes.Add(1)
			}
		}
	})
	wg.Go(func() { // the issuing client and the checking API
		for {
			select {
			case <-stop:
				return
			default:
			}
			status, _, resp := h.tokenStatus(c, c.ClientSecret)
			if status != 200 {
				t.Errorf("token request: got %d", status)
				continue
			}
			if _, err := jwt.Parse([]byte(resp.AccessToken), jwt.WithKeySet(*cached.Load()), jwt.WithValidate(true), jwt.WithClock(jwt.ClockFunc(clk.Now))); err != nil {
				t.Errorf("a token failed against the cached JWKS: %v", err)
			}
			msg, _ := jws.Parse([]byte(resp.AccessToken))
			if kid, ok := msg.Signatures()[0].ProtectedHeaders().KeyID(); ok {
				mu.Lock()
				if kids[kid]++; len(kids) == 1 {
					oldToken = resp.AccessToken
				}
				mu.Unlock()
			}
		}
	})
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}()

	oldKID := rs256KID(t, h, store.KeyCurrent)
	waitFor(t, 20*time.Second, "tokens of the first key", func() bool { return issued(oldKID) >= 3 })
	h.do("POST", "/admin/v1/keys/rotate", nil, nil)
	newKID := rs256KID(t, h, store.KeyNext)

	// Within the publish delay the new key is published, not signing.
	clk.Add(publishDelay - time.Second)
	if err := h.srv.TickKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rs256KID(t, h, store.KeyCurrent); got != oldKID {
		t.Fatalf("current RS256 key before the publish delay ended: got %s, want %s", got, oldKID)
	}
	waitFor(t, 20*time.Second, "the resource server's cache to take in the new key", func() bool { return cachedHas(newKID) })
	before := issued(oldKID)
	waitFor(t, 20*time.Second, "more tokens of the first key", func() bool { return issued(oldKID) > before })

	// Once it has passed, the new key signs and the old one retires.
	clk.Add(time.Second)
	if err := h.srv.TickKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "tokens of the new key", func() bool { return issued(newKID) >= 3 })
	// Two refreshes: at least one whole fetch began after the switch.
	after := refreshes.Load()
	waitFor(t, 20*time.Second, "the resource server's cache to refresh after the switch", func() bool { return refreshes.Load() >= after+2 })
	close(stop)
	wg.Wait()

	// A token of the retired key still passes against a JWKS fetched now.
	if _, err := jwt.Parse([]byte(oldToken), jwt.WithKeySet(*cached.Load()), jwt.WithValidate(true), jwt.WithClock(jwt.ClockFunc(clk.Now))); err != nil {
		t.Errorf("a token of the retired key against the JWKS after the switch: %v", err)
	}
	if got := rs256KID(t, h, store.KeyRetired); got != oldKID {
		t.Fatalf("retired RS256 key: got %s, want %s", got, oldKID)
	}
	if n := fetch().Len(); n != 6 {
		t.Errorf("JWKS after rotation: got %d keys, want 6 (3 current, 3 retired and still published)", n)
	}

	// Once the last token a retired key signed has expired, it goes.
	clk.Add(25 * time.Hour)
	if err := h.srv.TickKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if set := fetch(); set.Len() != 3 {
		t.Errorf("JWKS after the retired keys' tokens expired: got %d keys, want 3", set.Len())
	} else if _, ok := set.LookupKeyID(oldKID); ok {
		t.Errorf("the retired key %s is still published", oldKID)
	}
}

// rs256KID is the kid of the RS256 key in state, as the admin API lists it.
func rs256KID(t *testing.T, h *harness, state string) string {
	t.Helper()
	var keys []admin.KeyView
	h.do("GET", "/admin/v1/keys", nil, &keys)
	for _, k := range keys {
		if k.Alg == "RS256" && k.State == state {
			return k.KID
		}
	}
	t.Fatalf("no RS256 key in state %s among %+v", state, keys)
	return ""
}
