package server

import (
	"context"
	"io"
	"net/http"
	"sync"
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
func TestKeyRotationUnderLiveIssuance(t *testing.T) {
	const publishDelay = 400 * time.Millisecond
	h := start(t, func(c *config.Config) { c.KeyPublishDelay = publishDelay })
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
	var mu sync.Mutex
	cached := fetch()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the resource server's cache refresher
		defer wg.Done()
		for ctx.Err() == nil {
			time.Sleep(publishDelay / 3)
			if s := fetch(); s != nil {
				mu.Lock()
				cached = s
				mu.Unlock()
			}
		}
	}()
	kids := map[string]int{}
	failures := 0
	go func() { // the issuing client and the checking API
		defer wg.Done()
		for ctx.Err() == nil {
			status, _, resp := h.tokenStatus(c, c.ClientSecret)
			if status != 200 {
				t.Errorf("token request: got %d", status)
				failures++
				continue
			}
			mu.Lock()
			set := cached
			mu.Unlock()
			if _, err := jwt.Parse([]byte(resp.AccessToken), jwt.WithKeySet(set), jwt.WithValidate(true)); err != nil {
				failures++
				t.Errorf("a token failed against the cached JWKS: %v", err)
			}
			msg, _ := jws.Parse([]byte(resp.AccessToken))
			if kid, ok := msg.Signatures()[0].ProtectedHeaders().KeyID(); ok {
				kids[kid]++
			}
		}
	}()

	time.Sleep(300 * time.Millisecond)
	var keys []admin.KeyView
	h.do("POST", "/admin/v1/keys/rotate", nil, &keys)
	for ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if err := h.srv.rotator.Tick(context.Background()); err != nil {
			t.Errorf("tick: %v", err)
		}
	}
	wg.Wait()
	if failures > 0 || len(kids) != 2 {
		t.Fatalf("got %d failures and kids %v, want none and two kids (before and after)", failures, kids)
	}

	states := map[string]string{}
	h.do("GET", "/admin/v1/keys", nil, &keys)
	for _, k := range keys {
		if k.Alg == "RS256" {
			states[k.State] = k.KID
		}
	}
	if states[store.KeyCurrent] == "" || states[store.KeyRetired] == "" {
		t.Fatalf("RS256 keys after rotation: %v, want one current and one retired", states)
	}
	if fetch().Len() != 6 {
		t.Errorf("JWKS after rotation: got %d keys, want 6 (3 current, 3 retired and still published)", fetch().Len())
	}

	// Once the last token a retired key signed has expired, it goes.
	h.srv.rotator.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if err := h.srv.rotator.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if set := fetch(); set.Len() != 3 {
		t.Errorf("JWKS after the retired keys' tokens expired: got %d keys, want 3", set.Len())
	} else if _, ok := set.LookupKeyID(states[store.KeyRetired]); ok {
		t.Errorf("the retired key %s is still published", states[store.KeyRetired])
	}
}
