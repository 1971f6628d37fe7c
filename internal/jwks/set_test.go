package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// testKeys are generated once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"rsa":      must(rsa.GenerateKey(rand.Reader, 2048)),
		"rsa1024":  must(rsa.GenerateKey(rand.Reader, 1024)),
		"ec":       must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"ec384":    must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"ed":       ed,
		"rsa-next": must(rsa.GenerateKey(rand.Reader, 2048)),
	}
})

// jwk is the public JWK of a test key.
func jwk(name, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: testKeys()[name].Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

// document marshals a JWK Set of keys, which may be jose.JSONWebKey or
// hand-written maps.
func document(t testing.TB, keys ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// describe lists a set as "kid:alg" in order.
func describe(keys []Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.KID+":"+k.Alg)
	}
	return out
}

func TestParseSkipsUnusableKeys(t *testing.T) {
	enc := jwk("rsa", "enc", "RSA-OAEP")
	enc.Use = "enc"
	noUse := jwk("ec", "ec-no-use", "ES256")
	noUse.Use = ""
	doc := document(t,
		jwk("ec", "ec-1", "ES256"),
		jwk("rsa", "rsa-1", "RS256"),
		jwk("rsa", "rsa-ps", "PS256"),
		jwk("ed", "ed-1", "EdDSA"),
		jwk("ed", "ed-no-alg", ""),
		jwk("ec384", "ec384-no-alg", ""),
		jwk("ec", "", "ES256"), // no kid: kept, found by alg
		noUse,
		enc,
		jwk("ec", "ec-as-rs", "RS256"),
		jwk("ec", "ec-as-es384", "ES384"),
		jwk("rsa", "rsa-as-hs", "HS256"),
		jwk("rsa", "rsa-as-none", "none"),
		jwk("ed", "ed-as-es", "ES256"),
		jwk("rsa1024", "rsa-small", "RS256"),
		jwk("rsa1024", "rsa-small-no-alg", ""),
		map[string]string{"kty": "future", "kid": "pq"},
		map[string]string{"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
		"not an object",
	)
	set, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := describe(set.Keys())
	want := []string{"ec-1:ES256", "rsa-1:RS256", "rsa-ps:PS256", "ed-1:EdDSA", "ed-no-alg:", "ec384-no-alg:", ":ES256", "ec-no-use:ES256"}
	if !slices.Equal(got, want) {
		t.Errorf("keys: got %v, want %v", got, want)
	}
}

func TestParseRefuses(t *testing.T) {
	privateEC := jose.JSONWebKey{Key: testKeys()["ec"], KeyID: "leaked", Algorithm: "ES256"}
	privateRSA := jose.JSONWebKey{Key: testKeys()["rsa"], KeyID: "leaked-rsa", Algorithm: "RS256"}
	privateEd := jose.JSONWebKey{Key: testKeys()["ed"], KeyID: "leaked-ed", Algorithm: "EdDSA"}
	big := document(t, jwk("ec", "ec-1", "ES256"), map[string]string{"kid": strings.Repeat("x", MaxDocumentBytes)})
	tests := []struct {
		name    string
		doc     []byte
		wantErr string
	}{
		{"private EC key beside public ones", document(t, jwk("ec", "ec-1", "ES256"), privateEC), `"leaked" holds private`},
		{"private RSA key", document(t, privateRSA), "private"},
		{"private Ed25519 key", document(t, privateEd), "private"},
		{"symmetric key", document(t, map[string]string{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}), "symmetric"},
		{"only a d member, unknown kty", document(t, map[string]string{"kty": "future", "d": "AAAA"}), "private"},
		{"only unusable keys", document(t, jwk("rsa1024", "small", "RS256")), "no usable signing key"},
		{"empty set", []byte(`{"keys":[]}`), "no usable signing key"},
		{"one JWK, not a set", mustJSON(t, jwk("ec", "ec-1", "ES256")), `no "keys"`},
		{"keys not an array", []byte(`{"keys":{}}`), "not a JWK Set"},
		{"not JSON", []byte(`keys`), "want a JWK Set"},
		{"null", []byte(`null`), "want a JWK Set"},
		{"too large", big, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse: got (%v, %v), want an error containing %q", set, err, tt.wantErr)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFind(t *testing.T) {
	set, err := Parse(document(t,
		jwk("rsa", "rsa-1", "RS256"),
		jwk("rsa-next", "rsa-2", ""),
		jwk("ec", "ec-1", "ES256"),
		jwk("ec", "", "ES256"),
		jwk("ed", "dup", "EdDSA"),
		jwk("ec", "dup", "ES256"),
	))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kid, alg string
		want     []string
	}{
		{"rsa-1", "RS256", []string{"rsa-1:RS256"}},
		{"rsa-1", "PS256", nil}, // the key says RS256
		{"rsa-1", "", []string{"rsa-1:RS256"}},
		{"rsa-2", "RS256", []string{"rsa-2:"}},
		{"rsa-2", "PS384", []string{"rsa-2:"}}, // no alg: any that fits RSA
		{"rsa-2", "ES256", nil},
		{"ec-1", "ES384", nil},
		{"unknown", "ES256", nil},
		{"unknown", "", nil},
		{"", "ES256", []string{"ec-1:ES256", ":ES256", "dup:ES256"}},
		{"", "PS256", []string{"rsa-2:"}},
		{"", "HS256", nil},
		{"", "none", nil},
		{"", "", []string{"rsa-1:RS256", "rsa-2:", "ec-1:ES256", ":ES256", "dup:EdDSA", "dup:ES256"}},
		{"dup", "", []string{"dup:EdDSA", "dup:ES256"}},
		{"dup", "ES256", []string{"dup:ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.kid+"/"+tt.alg, func(t *testing.T) {
			got := describe(set.Find(tt.kid, tt.alg))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q, %q): got %v, want %v", tt.kid, tt.alg, got, tt.want)
			}
			looked, err := set.Lookup(t.Context(), tt.kid, tt.alg)
			if err != nil || !slices.Equal(describe(looked), tt.want) {
				t.Errorf("Lookup(%q, %q): got (%v, %v), want (%v, nil)", tt.kid, tt.alg, describe(looked), err, tt.want)
			}
		})
	}
}

func TestNewSetSkipsUnfitKeys(t *testing.T) {
	set := NewSet(
		Key{KID: "a", Alg: "ES256", Public: testKeys()["ec"].Public()},
		Key{KID: "b", Alg: "RS256", Public: testKeys()["ec"].Public()},
		Key{KID: "c", Alg: "HS256", Public: []byte("secret")},
		Key{KID: "d", Public: testKeys()["rsa1024"].Public()},
		Key{KID: "e", Public: testKeys()["ed"].Public()},
	)
	if got, want := describe(set.Keys()), []string{"a:ES256", "e:"}; !slices.Equal(got, want) {
		t.Errorf("keys: got %v, want %v", got, want)
	}
}

func TestFits(t *testing.T) {
	rsaKey, small := testKeys()["rsa"].Public(), testKeys()["rsa1024"].Public()
	ec, ec384, ed := testKeys()["ec"].Public(), testKeys()["ec384"].Public(), testKeys()["ed"].Public()
	tests := []struct {
		alg  string
		key  crypto.PublicKey
		want bool
	}{
		{"RS256", rsaKey, true},
		{"PS512", rsaKey, true},
		{"RS256", small, false},
		{"ES256", rsaKey, false},
		{"HS256", rsaKey, false},
		{"none", rsaKey, false},
		{"", rsaKey, false},
		{"ES256", ec, true},
		{"ES384", ec, false},
		{"ES384", ec384, true},
		{"", ec, false},
		{"EdDSA", ed, true},
		{"ES256", ed, false},
		{"RS256", &rsa.PublicKey{}, false},
		{"HS256", []byte("secret"), false},
		{"RS256", nil, false},
	}
	for _, tt := range tests {
		if got := Fits(tt.alg, tt.key); got != tt.want {
			t.Errorf("Fits(%q, %T): got %v, want %v", tt.alg, tt.key, got, tt.want)
		}
	}
	if got := DefaultAlgorithm(ec384); got != "ES384" {
		t.Errorf("DefaultAlgorithm(P-384): got %q, want ES384", got)
	}
	if got := DefaultAlgorithm([]byte("secret")); got != "" {
		t.Errorf("DefaultAlgorithm([]byte): got %q, want empty", got)
	}
}

func TestSignatureAlgorithmsAreAsymmetric(t *testing.T) {
	algs := SignatureAlgorithms()
	for _, bad := range []jose.SignatureAlgorithm{"none", jose.HS256, jose.HS384, jose.HS512} {
		if slices.Contains(algs, bad) {
			t.Errorf("SignatureAlgorithms holds %s", bad)
		}
	}
	algs[0] = "none"
	if SignatureAlgorithms()[0] == "none" {
		t.Error("SignatureAlgorithms returned a shared slice")
	}
}

func TestThumbprint(t *testing.T) {
	// The example key of RFC 7638 §3.1.
	const rfcKey = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(rfcKey)); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k.Key)
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; err != nil || got != want {
		t.Errorf("Thumbprint: got (%q, %v), want %q", got, err, want)
	}
	if _, err := Thumbprint(testKeys()["ec"]); err == nil {
		t.Error("Thumbprint of a private key: got nil error, want one")
	}
}
