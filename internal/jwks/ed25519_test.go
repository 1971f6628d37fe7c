package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

// TestVerifyEd25519: RFC 9864's alg name is checked like EdDSA, and only
// with an Ed25519 key.
func TestVerifyEd25519(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(`{"alg":"Ed25519","typ":"dpop+jwt"}`)) + "." + enc([]byte(`{"jti":"1"}`))
	good := input + "." + enc(ed25519.Sign(priv, []byte(input)))
	if payload, err := VerifyEd25519(good, pub); err != nil || string(payload) != `{"jti":"1"}` {
		t.Errorf("a good signature: got %q, %v", payload, err)
	}
	if alg := CompactAlg(good); alg != Ed25519 {
		t.Errorf("CompactAlg: got %q, want Ed25519", alg)
	}
	for name, tc := range map[string]struct {
		jws string
		key any
	}{
		"another key":       {good, otherPub},
		"an EC key":         {good, &ec.PublicKey},
		"a changed payload": {strings.Replace(good, enc([]byte(`{"jti":"1"}`)), enc([]byte(`{"jti":"2"}`)), 1), pub},
		"two parts":         {input, pub},
	} {
		if _, err := VerifyEd25519(tc.jws, tc.key); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	if !Fits(Ed25519, pub) || Fits(Ed25519, &ec.PublicKey) || !(Key{Alg: "EdDSA", Public: pub}).CanVerify(Ed25519) {
		t.Errorf("Ed25519 must fit Ed25519 keys only, and a key published as EdDSA verify it")
	}
}
