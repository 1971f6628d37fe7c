package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// verifyAlgs are the algorithms gatehouse signs with; anything else in a
// token's header fails it.
var verifyAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// maxRefetches bounds how many unknown kids may each trigger a JWKS fetch,
// so a server handing out random kids cannot make a run fetch forever.
const maxRefetches = 16

// tokenVerifier checks access tokens' signatures against a server's JWKS,
// fetching it again once for each kid it does not know. Safe for
// concurrent use.
type tokenVerifier struct {
	client *http.Client
	url    string
	keys   atomic.Pointer[map[string]jose.JSONWebKey]

	mu        sync.Mutex // serializes fetches
	refetched map[string]bool
	fetches   atomic.Uint64
}

func newTokenVerifier(client *http.Client, baseURL string) *tokenVerifier {
	return &tokenVerifier{
		client:    client,
		url:       strings.TrimRight(baseURL, "/") + "/.well-known/jwks.json",
		refetched: map[string]bool{},
	}
}

// fetch loads the JWKS, replacing the known keys.
func (v *tokenVerifier) fetch(ctx context.Context) error {
	v.fetches.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching the JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the JWKS: %s answered %s", v.url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("reading the JWKS from %s: %w", v.url, err)
	}
	byKID := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		byKID[k.KeyID] = k
	}
	v.keys.Store(&byKID)
	return nil
}

func (v *tokenVerifier) lookup(kid string) (jose.JSONWebKey, bool) {
	m := v.keys.Load()
	if m == nil {
		return jose.JSONWebKey{}, false
	}
	k, ok := (*m)[kid]
	return k, ok
}

// key returns the published key kid, refetching the JWKS the first time
// kid is missing.
func (v *tokenVerifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.lookup(kid); ok { // another worker's refetch found it
		return k, nil
	}
	if v.refetched[kid] || len(v.refetched) >= maxRefetches {
		return jose.JSONWebKey{}, fmt.Errorf("kid %q is not in the JWKS", kid)
	}
	v.refetched[kid] = true
	if err := v.fetch(ctx); err != nil {
		return jose.JSONWebKey{}, err
	}
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("kid %q is not in the JWKS, even after a refetch", kid)
}

// verify checks token's signature with the published key its kid names.
func (v *tokenVerifier) verify(ctx context.Context, token string) error {
	jws, err := jose.ParseSignedCompact(token, verifyAlgs)
	if err != nil {
		return fmt.Errorf("not a JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return fmt.Errorf("%d signatures, want 1", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if h.KeyID == "" {
		return errors.New("no kid in the header")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return fmt.Errorf("header alg %s, but key %s is for %s", h.Algorithm, h.KeyID, key.Algorithm)
	}
	if _, err := jws.Verify(key); err != nil {
		return fmt.Errorf("signature by %s: %w", h.KeyID, err)
	}
	return nil
}
