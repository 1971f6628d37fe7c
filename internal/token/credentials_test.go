package token

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/testkeys"
)

// This file holds what clients without secrets hold: their keys, their
// JWK Sets, client assertions signed with them (and by hand, for what
// go-jose will not sign), and the requests that carry them.

// tokenURL is the token endpoint as clients address it.
const tokenURL = issuerURL + "/oauth/token"

// clientKey is a client's private key with the kid and alg it signs with.
type clientKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// jwk is the key as the client registers it; alg is left out when
// publishAlg is false.
func (k clientKey) jwk(publishAlg bool) jose.JSONWebKey {
	j := jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig"}
	if publishAlg {
		j.Algorithm = string(k.alg)
	}
	return j
}

// withoutKid is k signing without a kid header.
func (k clientKey) withoutKid() clientKey {
	k.kid = ""
	return k
}

// testKeys are made once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]clientKey {
	return map[string]clientKey{
		"rsa":     {kid: "rsa-1", alg: jose.RS256, priv: testkeys.RSA()},
		"pss":     {kid: "rsa-2", alg: jose.PS256, priv: testkeys.RSA()}, // registered without alg
		"ec":      {kid: "ec-1", alg: jose.ES256, priv: testkeys.EC()},
		"ec2":     {kid: "ec-2", alg: jose.ES256, priv: testkeys.EC()}, // the next key of a rotation
		"ed":      {kid: "ed-1", alg: jose.EdDSA, priv: testkeys.Ed25519()},
		"foreign": {kid: "ec-1", alg: jose.ES256, priv: testkeys.EC()}, // an attacker's, under the client's kid
	}
})

// registered is the JWKS document a client registers: the keys named, the
// pss key without its alg.
func registered(t testing.TB, names ...string) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, n := range names {
		k, ok := testKeys()[n]
		if !ok {
			t.Fatalf("no test key %q", n)
		}
		set.Keys = append(set.Keys, k.jwk(n != "pss"))
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// publicJWKS is a JWKS document of public keys, no kid, no alg.
func jwksOf(t testing.TB, keys ...crypto.PublicKey) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k})
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// assertionClaims are the claims of a client assertion id makes now for
// aud (RFC 7523 §3), with a fresh jti.
func assertionClaims(id, aud string, now time.Time) map[string]any {
	return map[string]any{
		"iss": id, "sub": id, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16)),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// with returns claims with the changes given as name/value pairs; a nil
// value removes the claim.
func with(claims map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// signJWT signs claims with k, under k's kid when it has one.
func signJWT(t testing.TB, k clientKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signer, claims)
}

func serialize(t testing.TB, signer jose.Signer, claims any) string {
	t.Helper()
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

// handMade builds a compact JWS from any header and claims, signed by
// sign (nil: an empty signature), for what go-jose refuses to make.
func handMade(t testing.TB, header, claims any, sign func(input []byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// hmacWith signs with HMAC-SHA256 under key: the confusion attack of a
// verifier that takes a public key's bytes for an HMAC secret.
func hmacWith(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// assertionReq is a client_credentials request authenticated by a client
// assertion, with more parameters as name/value pairs.
func assertionReq(jwt string, kv ...string) oauth.TokenRequest {
	r := oauth.TokenRequest{GrantType: "client_credentials", ClientAssertionType: oauth.ClientAssertionJWT, ClientAssertion: jwt, EndpointURL: tokenURL}
	return withParams(r, kv...)
}

// assertionForm is the form body of a client_credentials request
// authenticated by jwt, with more parameters.
func assertionForm(jwt string, kv ...string) string {
	return form(append([]string{"grant_type", "client_credentials", "client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", jwt}, kv...)...)
}
