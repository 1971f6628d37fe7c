package keys

import (
	"crypto"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Set is the node's view of the signing keys: the current key per algorithm
// signs, every published key verifies and appears in the JWKS. It is swapped
// whole on reload, so readers on the hot path take no lock.
type Set struct {
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	current map[string]*Key // by alg
	byKID   map[string]*Key
	jwks    []byte
}

// NewSet returns an empty set; Load fills it.
func NewSet() *Set {
	s := &Set{}
	s.snap.Store(&snapshot{current: map[string]*Key{}, byKID: map[string]*Key{}, jwks: []byte(`{"keys":[]}`)})
	return s
}

// Load opens stored keys with kek and replaces the set's contents. A key
// that cannot be opened fails the whole load, leaving the set as it was.
func (s *Set) Load(stored []store.SigningKey, kek *KEK) error {
	next := &snapshot{current: map[string]*Key{}, byKID: map[string]*Key{}}
	var jwks jose.JSONWebKeySet
	activates := map[string]time.Time{}
	for _, sk := range stored {
		k, err := Open(sk, kek)
		if err != nil {
			return err
		}
		next.byKID[k.KID] = k
		jwks.Keys = append(jwks.Keys, k.JWK())
		if k.State == store.KeyCurrent {
			// During a promotion two keys may briefly both be current: the
			// newer one signs.
			if prev := next.current[k.Alg]; prev == nil || activates[prev.KID].Before(sk.ActivatesAt) {
				next.current[k.Alg] = k
			}
		}
		activates[k.KID] = sk.ActivatesAt
	}
	if jwks.Keys == nil {
		jwks.Keys = []jose.JSONWebKey{}
	}
	doc, err := json.Marshal(jwks)
	if err != nil {
		return err
	}
	next.jwks = doc
	s.snap.Store(next)
	return nil
}

// Current returns the key that signs for alg, or nil.
func (s *Set) Current(alg string) *Key { return s.snap.Load().current[alg] }

// Lookup returns a published key by id, or nil.
func (s *Set) Lookup(kid string) *Key { return s.snap.Load().byKID[kid] }

// VerificationKey returns a published key's public half and algorithm
// (verify.KeySource), so that gatehouse checks its own tokens with the
// same verifier product APIs use.
func (s *Set) VerificationKey(kid string) (crypto.PublicKey, string, bool) {
	k := s.Lookup(kid)
	if k == nil {
		return nil, "", false
	}
	return k.Public, k.Alg, true
}

// JWKS returns the RFC 7517 document of every published key.
func (s *Set) JWKS() []byte { return s.snap.Load().jwks }

// Ready reports whether a current key exists for every algorithm in algs.
func (s *Set) Ready(algs []string) bool {
	cur := s.snap.Load().current
	for _, a := range algs {
		if cur[a] == nil {
			return false
		}
	}
	return true
}

// All returns every published key.
func (s *Set) All() []*Key {
	snap := s.snap.Load()
	out := make([]*Key, 0, len(snap.byKID))
	for _, k := range snap.byKID {
		out = append(out, k)
	}
	return out
}
