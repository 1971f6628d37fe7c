package jwks

import (
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzParse checks that no document panics Parse, and that every key of a
// parsed set is public and fits an algorithm this package accepts.
func FuzzParse(f *testing.F) {
	f.Add(document(f, jwk("ec", "ec-1", "ES256"), jwk("rsa", "rsa-1", ""), jwk("ed", "", "EdDSA")))
	f.Add(document(f, jose.JSONWebKey{Key: testKeys()["ec"], KeyID: "private"}))
	f.Add(document(f, map[string]string{"kty": "oct", "k": "c2VjcmV0"}))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := Parse(doc)
		if err != nil {
			if set != nil {
				t.Fatalf("got a set with error %v", err)
			}
			return
		}
		keys := set.Keys()
		if len(keys) == 0 {
			t.Fatal("got an empty set without error")
		}
		for _, k := range keys {
			alg := k.Alg
			if alg == "" {
				alg = DefaultAlgorithm(k.Public)
			}
			if !Fits(alg, k.Public) {
				t.Fatalf("key %q (%T) does not fit %q", k.KID, k.Public, alg)
			}
			if _, err := Thumbprint(k.Public); err != nil {
				t.Fatalf("key %q: %v", k.KID, err)
			}
		}
	})
}
