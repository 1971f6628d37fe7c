package assertion

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/testkeys"
)

// This file holds the test fixtures: a client's keys, its registered JWKS,
// and assertions signed by hand.

const (
	testClient   = "c_1234"
	testIssuer   = "https://auth.example.io"
	testTokenURL = "https://auth.example.io/oauth/token"
)

// testNow is the fixed clock of the tests.
var testNow = time.Unix(1_750_000_000, 0)

// signingKey is a private key with the kid it is registered under.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// public is the key's JWK as registered; the alg is left out when
// publishAlg is false.
func (k signingKey) public(publishAlg bool) jose.JSONWebKey {
	j := jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig"}
	if publishAlg {
		j.Algorithm = string(k.alg)
	}
	return j
}

// testKeys are generated once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]signingKey {
	return map[string]signingKey{
		"rsa":        {kid: "rsa-1", alg: jose.RS256, priv: testkeys.RSA()},
		"rsa-no-alg": {kid: "rsa-2", alg: jose.PS256, priv: testkeys.RSA()}, // registered without alg
		"ec":         {kid: "ec-1", alg: jose.ES256, priv: testkeys.EC()},
		"ec2":        {kid: "ec-2", alg: jose.ES256, priv: testkeys.EC()},
		"ed":         {kid: "ed-1", alg: jose.EdDSA, priv: testkeys.Ed25519()},
		"foreign":    {kid: "rsa-1", alg: jose.RS256, priv: testkeys.RSA()}, // an attacker's, under the client's kid
		"foreign-ec": {kid: "ec-1", alg: jose.ES256, priv: testkeys.EC()},
	}
})

// clientKeys is the client's registered JWKS.
func clientKeys(t testing.TB) *jwks.Set {
	t.Helper()
	k := testKeys()
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		k["rsa"].public(true), k["rsa-no-alg"].public(false), k["ec"].public(true), k["ec2"].public(true), k["ed"].public(true),
	}})
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwks.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// clientClaims are the claims of a client assertion made now (RFC 7523 §3).
func clientClaims() map[string]any {
	now := testNow.Unix()
	return map[string]any{
		"iss": testClient,
		"sub": testClient,
		"aud": testTokenURL,
		"iat": now,
		"exp": now + 60,
		"jti": "jti-1",
	}
}

// clientExpect is what the token endpoint expects of a client assertion.
func clientExpect() Expect {
	return Expect{
		Issuer:      testClient,
		Subject:     testClient,
		Audiences:   []string{testIssuer, testTokenURL},
		MaxLifetime: 5 * time.Minute,
		RequireJTI:  true,
		Now:         func() time.Time { return testNow },
	}
}

// sign signs claims with k under alg, with k's kid unless kid is "-", and
// with the extra headers given.
func sign(t testing.TB, k signingKey, alg jose.SignatureAlgorithm, claims, extra map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for name, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	key := jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	if k.kid == "-" {
		key.KeyID = ""
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noKid returns k without its kid, for sign.
func noKid(k signingKey) signingKey {
	k.kid = "-"
	return k
}

// rawToken builds a compact JWS by hand, for tokens go-jose refuses to make.
func rawToken(t testing.TB, header, claims any, sig func(input []byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig([]byte(input)))
}
