package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxDocumentBytes bounds the documents Parse reads, and is the default
// body limit of a Remote.
const MaxDocumentBytes = 1 << 20

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// signatureAlgorithms are the algorithms a key may verify. HMAC and "none"
// are absent on purpose: a public key must never verify them.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// SignatureAlgorithms returns the algorithms a key of a Set may verify:
// asymmetric signatures only, never "none" or HMAC.
func SignatureAlgorithms() []jose.SignatureAlgorithm {
	return append([]jose.SignatureAlgorithm(nil), signatureAlgorithms...)
}

// privateMembers are the JWK members that carry secret key material: the
// private parts of RSA, EC and OKP keys (RFC 7518 §6.2.2, §6.3.2, RFC 8037
// §2) and the secret of a symmetric key (RFC 7518 §6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// A Key is one public key of a Set that can verify signatures.
type Key struct {
	// KID is the key's "kid"; empty when the document gives none.
	KID string
	// Alg is the key's "alg"; empty when the document gives none, in which
	// case the key verifies any algorithm that fits its type (see Fits).
	Alg string
	// Public is an *rsa.PublicKey, an *ecdsa.PublicKey or an
	// ed25519.PublicKey.
	Public crypto.PublicKey
}

// CanVerify reports whether k may verify a signature made with alg: alg
// is k's Alg, or k has none and alg fits its type.
func (k Key) CanVerify(alg string) bool {
	if k.Alg != "" {
		return sameAlgorithm(k.Alg, alg) && Fits(alg, k.Public)
	}
	return Fits(alg, k.Public)
}

// A Set is the usable keys of a JWKS, in document order. It is immutable
// and safe for concurrent use.
type Set struct {
	keys  []Key
	byKID map[string][]Key
}

// Parse reads an RFC 7517 JWK Set of public verification keys. It refuses
// a document larger than MaxDocumentBytes, one that is not a JWK Set, and
// one holding any private or symmetric key material (a client must never
// hand gatehouse a private key, and a published set holding one has leaked
// it). Keys that cannot verify signatures are skipped, so that a key type
// this package does not know cannot break the others: a "use" other than
// "sig", an unknown "kty", an RSA key under 2048 bits, an "alg" that does
// not fit the key's type. It is an error when no usable key remains.
func Parse(doc []byte) (*Set, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, fmt.Errorf("jwks: document larger than %d bytes", MaxDocumentBytes)
	}
	return parse(doc)
}

// parse is Parse without the size limit, which a Remote sets itself.
func parse(doc []byte) (*Set, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if d := bytes.TrimSpace(doc); len(d) == 0 || d[0] != '{' {
		return nil, errors.New(`jwks: want a JWK Set: a JSON object with a "keys" array`)
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, fmt.Errorf("jwks: not a JWK Set: %w", err)
	}
	if set.Keys == nil {
		return nil, errors.New(`jwks: not a JWK Set: no "keys" array`)
	}
	var keys []Key
	skipped := "" // why the first unusable key was passed over
	for i, raw := range set.Keys {
		if err := checkPublic(raw, i); err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			if skipped == "" { // an unknown kty, or a malformed key
				skipped = fmt.Sprintf("key %d: %s", i, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
			}
			continue
		}
		k, why := usableKey(&jwk)
		if why != "" {
			if skipped == "" {
				skipped = fmt.Sprintf("key %d (kid %q) %s", i, jwk.KeyID, why)
			}
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if skipped != "" {
			return nil, fmt.Errorf("jwks: no usable signing key (%s)", skipped)
		}
		return nil, errors.New("jwks: no usable signing key (the set is empty)")
	}
	return NewSet(keys...), nil
}

// checkPublic refuses a JWK that carries secret key material; i is its
// place in the set, to name a key without a kid.
func checkPublic(raw json.RawMessage, i int) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil // not an object: skipped later as malformed
	}
	for m := range members {
		// In any letter case: a member named "D" is no JWK member, but a
		// document that holds one is not to be trusted with keys.
		if slices.ContainsFunc(privateMembers, func(p string) bool { return strings.EqualFold(m, p) }) {
			var kid string
			_ = json.Unmarshal(members["kid"], &kid)
			name := fmt.Sprintf("key %d", i)
			if kid != "" {
				name = fmt.Sprintf("key %q", kid)
			}
			if strings.EqualFold(m, "k") {
				return fmt.Errorf("%s is a symmetric key (%q): a client proves itself with an asymmetric key pair", name, m)
			}
			return fmt.Errorf("%s holds private key material (%q): register public keys only, and replace that key, which is no longer secret", name, m)
		}
	}
	return nil
}

// usableKey returns jwk as a Key when it is a public signing key with an
// algorithm that fits its type (a key without "alg" must fit the one
// DefaultAlgorithm gives it), or says why it is not.
func usableKey(jwk *jose.JSONWebKey) (Key, string) {
	switch {
	case jwk.Use != "" && jwk.Use != "sig":
		return Key{}, fmt.Sprintf("has use %q, not sig", jwk.Use)
	case !jwk.IsPublic():
		return Key{}, "is not a public key"
	case !jwk.Valid():
		return Key{}, "is not a valid key"
	}
	if rsaKey, ok := jwk.Key.(*rsa.PublicKey); ok && rsaKey.N.BitLen() < minRSABits {
		return Key{}, fmt.Sprintf("is an RSA key of %d bits, under %d", rsaKey.N.BitLen(), minRSABits)
	}
	alg := jwk.Algorithm
	if alg == "" && !Fits(DefaultAlgorithm(jwk.Key), jwk.Key) {
		return Key{}, fmt.Sprintf("is a %T, not an RSA, EC or Ed25519 key", jwk.Key)
	}
	if alg != "" && !Fits(alg, jwk.Key) {
		return Key{}, fmt.Sprintf("has alg %q, which does not fit its key type", alg)
	}
	return Key{KID: jwk.KeyID, Alg: alg, Public: jwk.Key}, ""
}

// NewSet returns a Set of keys the caller already holds, in this order,
// skipping any that cannot verify (a key type or algorithm Fits refuses).
func NewSet(keys ...Key) *Set {
	s := &Set{byKID: map[string][]Key{}}
	for _, k := range keys {
		alg := k.Alg
		if alg == "" {
			alg = DefaultAlgorithm(k.Public)
		}
		if !Fits(alg, k.Public) {
			continue
		}
		s.keys = append(s.keys, k)
		if k.KID != "" {
			s.byKID[k.KID] = append(s.byKID[k.KID], k)
		}
	}
	return s
}

// Keys returns a copy of the set's keys, in document order.
func (s *Set) Keys() []Key {
	return append([]Key(nil), s.keys...)
}

// Find returns the keys that may have signed a signature with this kid and
// alg: when kid is not empty, the keys with that kid, else every key;
// of those, the ones that can verify alg (Key.CanVerify). An empty alg
// matches every key, for a caller that checks the algorithm itself. The
// returned slice may be shared: do not modify it.
func (s *Set) Find(kid, alg string) []Key {
	candidates := s.keys
	if kid != "" {
		candidates = s.byKID[kid]
	}
	if alg == "" {
		return candidates
	}
	var out []Key
	for _, k := range candidates {
		if k.CanVerify(alg) {
			out = append(out, k)
		}
	}
	return out
}

// Lookup is Find with the signature of a key source that may have to
// fetch (see Remote.Lookup); on a Set it never fails.
func (s *Set) Lookup(_ context.Context, kid, alg string) ([]Key, error) {
	return s.Find(kid, alg), nil
}

// DefaultAlgorithm is the algorithm a key published without "alg" is
// taken to sign with where a single one is needed: RS256 for RSA,
// ES256/384/512 by curve, EdDSA for Ed25519; "" for any other key.
func DefaultAlgorithm(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return string(jose.RS256)
	case *ecdsa.PublicKey:
		return string(ecdsaAlgorithm(k.Curve))
	case ed25519.PublicKey:
		return string(jose.EdDSA)
	}
	return ""
}

func ecdsaAlgorithm(c elliptic.Curve) jose.SignatureAlgorithm {
	switch c {
	case elliptic.P256():
		return jose.ES256
	case elliptic.P384():
		return jose.ES384
	case elliptic.P521():
		return jose.ES512
	}
	return ""
}

// Fits reports whether alg is an algorithm this package accepts for key:
// RS* and PS* for RSA keys of at least 2048 bits, the ES* of an ECDSA
// key's curve, EdDSA for Ed25519.
func Fits(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return k.N != nil && k.N.BitLen() >= minRSABits
		}
	case *ecdsa.PublicKey:
		return alg != "" && jose.SignatureAlgorithm(alg) == ecdsaAlgorithm(k.Curve)
	case ed25519.PublicKey:
		return (jose.SignatureAlgorithm(alg) == jose.EdDSA || alg == Ed25519) && len(k) == ed25519.PublicKeySize
	}
	return false
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of key,
// base64url without padding: the value of a DPoP "jkt" (RFC 9449 §6.1).
func Thumbprint(key crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: key}
	if !jwk.IsPublic() {
		return "", fmt.Errorf("jwks: thumbprint of a %T, want a public key", key)
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwks: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
