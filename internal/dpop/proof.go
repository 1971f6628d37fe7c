package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/jwks"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// NewProof makes a proof for one request, as a client does (RFC 9449
// §4.2): signed by key with alg (one of Algorithms), its public key in the
// jwk header, a random jti, htm method, htu rawURL without query and
// fragment, iat now, ath when accessToken is set (calls to a resource
// server), and nonce when set.
func NewProof(key crypto.Signer, alg, method, rawURL, accessToken, nonce string, now time.Time) (string, error) {
	a := jose.SignatureAlgorithm(alg)
	if !slices.Contains(algorithms, a) || !fits(a, key.Public()) {
		return "", fmt.Errorf("dpop: alg %q does not fit a %T", alg, key.Public())
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("dpop: htu %q is not an absolute URL", rawURL)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	c := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"htm": method,
		"htu": u.String(),
		"iat": now.Unix(),
	}
	if accessToken != "" {
		c["ath"] = AccessTokenHash(accessToken)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: a, Key: SigningKey(key)},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(ProofType))
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: signing: %w", err)
	}
	return jws.CompactSerialize()
}

// SigningKey hands go-jose the key types it knows as they are, and any
// other crypto.Signer (a KMS or hardware key) through its opaque signer.
func SigningKey(key crypto.Signer) any {
	switch key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
		return key
	}
	return cryptosigner.Opaque(key)
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public key,
// base64url-encoded: the cnf.jkt of a token bound to it.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
	default:
		return "", errors.New("dpop: thumbprint of a key that is not an RSA, EC or Ed25519 public key")
	}
	return jwks.Thumbprint(pub)
}
