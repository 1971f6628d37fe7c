package jwks

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Ed25519 is RFC 9864's fully-specified JWS algorithm name for EdDSA with
// the Ed25519 curve, which some clients (openid-client 6) now sign
// under. It means exactly what "EdDSA" with an Ed25519 key means; go-jose
// does not know the name yet, so VerifyEd25519 checks such a signature.
const Ed25519 = "Ed25519"

// sameAlgorithm reports whether two alg names mean one algorithm.
func sameAlgorithm(a, b string) bool {
	if a == b {
		return true
	}
	return (a == Ed25519 && b == "EdDSA") || (a == "EdDSA" && b == Ed25519)
}

// VerifyEd25519 checks the signature of a compact JWS whose alg is
// Ed25519 with key and returns its payload. The caller has checked the
// header (alg, typ, crit).
func VerifyEd25519(compact string, key crypto.PublicKey) ([]byte, error) {
	pub, ok := key.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("jwks: an Ed25519 signature needs an Ed25519 key")
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, errors.New("jwks: not a compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errors.New("jwks: malformed Ed25519 signature")
	}
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return nil, errors.New("jwks: the Ed25519 signature does not verify")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("jwks: malformed payload")
	}
	return payload, nil
}

// CompactAlg reads the alg of a compact JWS's protected header, without
// trusting anything else of it; "" when it cannot be read.
func CompactAlg(compact string) string {
	h, _, ok := strings.Cut(compact, ".")
	if !ok || len(h) > 4096 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &hdr) != nil {
		return ""
	}
	return hdr.Alg
}
