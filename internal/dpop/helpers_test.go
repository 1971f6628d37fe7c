package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// This file holds the fixtures: keys, a request, and a proof builder that
// makes any header and claims, also those NewProof will not make.

const (
	testURL    = "https://api.example.io/things"
	testMethod = "GET"
	testToken  = "an-access-token"
)

var testNow = time.Unix(1_750_000_000, 0)

// testKeys are generated once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	ec := func() crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	rsaKey := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"ec": ec(), "other-ec": ec(), "rsa": rsaKey(2048), "ed": ed, "p384": p384,
	}
})

// resourceCheck is what a resource server checks for the test request.
func resourceCheck() Check {
	return Check{Method: testMethod, URL: testURL, AccessToken: testToken, Now: testNow}
}

// testProof is a proof under construction: its header and claims as JSON
// values, the algorithm and key that sign it.
type testProof struct {
	header map[string]any
	claims map[string]any
	alg    string
	key    any // crypto.Signer, or []byte for HMAC
}

// newTestProof is a good proof for the test request, signed by key k.
func newTestProof(t testing.TB, k string, alg string) *testProof {
	t.Helper()
	key := testKeys()[k]
	return &testProof{
		header: map[string]any{"typ": ProofType, "alg": alg, "jwk": jwkOf(t, key.Public())},
		claims: map[string]any{
			"jti": "jti-" + k + "-" + alg, "htm": testMethod, "htu": testURL,
			"iat": testNow.Unix(), "ath": AccessTokenHash(testToken),
		},
		alg: alg, key: key,
	}
}

// jwkOf is the JWK of a key as a JSON object.
func jwkOf(t testing.TB, key any) map[string]any {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: key}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (p *testProof) String() string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(p.header) + "." + enc(p.claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(p.alg, p.key, []byte(input)))
}

// sign makes a JWS signature by hand (RFC 7518 §3), for any algorithm.
func sign(alg string, key any, input []byte) []byte {
	sum := sha256.Sum256(input)
	var sig []byte
	var err error
	switch k := key.(type) {
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write(input)
		return m.Sum(nil)
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		if k.Curve != elliptic.P256() {
			h := crypto.SHA384.New()
			h.Write(input)
			r, s, err = ecdsa.Sign(rand.Reader, k, h.Sum(nil))
		} else {
			r, s, err = ecdsa.Sign(rand.Reader, k, sum[:])
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
	case *rsa.PrivateKey:
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, input)
	case nil:
		return nil
	}
	if err != nil {
		panic(err)
	}
	return sig
}

// jwkBigInt decodes a base64url JWK number.
func jwkBigInt(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
