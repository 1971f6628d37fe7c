package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/dpop"
	jose "github.com/go-jose/go-jose/v4"
)

// ClientAssertionType is the client_assertion_type of a private_key_jwt
// token request (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionLifetime is exp - iat of the client assertions PrivateKey
// makes: short, since gatehouse accepts at most 5 minutes and must
// remember each jti until exp.
const AssertionLifetime = time.Minute

// minRSABits is the smallest RSA key gatehouse accepts, for assertions and
// DPoP proofs alike.
const minRSABits = 2048

// PrivateKey authenticates a client with a JWT it signs itself
// (private_key_jwt, RFC 7523 §2.2) instead of a shared secret: gatehouse
// holds only the public key, registered on the client. Make one with
// NewPrivateKey and hand it to WithPrivateKey. It is safe for concurrent
// use.
type PrivateKey struct {
	signer crypto.Signer
	alg    string
	kid    string
}

// NewPrivateKey returns a client key that signs with signer: an
// *ecdsa.PrivateKey (P-256), an *rsa.PrivateKey (2048 bits or more), an
// ed25519.PrivateKey, or any other crypto.Signer of those key types (a
// key in a KMS or an HSM). alg is ES256, RS256, PS256 or EdDSA; empty
// picks ES256, RS256 or EdDSA by the key's type. kid, when set, goes into
// the assertion's header so that gatehouse picks the right key of the
// client's JWKS at once.
func NewPrivateKey(signer crypto.Signer, alg, kid string) (*PrivateKey, error) {
	alg, err := keyAlg(signer, alg)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{signer: signer, alg: alg, kid: kid}, nil
}

// Alg is the JWS algorithm the key signs with.
func (k *PrivateKey) Alg() string { return k.alg }

// KeyID is the kid header of the key's assertions; empty sends none.
func (k *PrivateKey) KeyID() string { return k.kid }

// Assertion returns a new client assertion (RFC 7523 §3): iss and sub
// clientID, aud audience (gatehouse's token endpoint URL or its issuer),
// iat now, exp AssertionLifetime later, and a random jti, since gatehouse
// accepts each assertion once. Token requests made through this package
// call it for every request.
func (k *PrivateKey) Assertion(clientID, audience string, now time.Time) (string, error) {
	if clientID == "" || audience == "" {
		return "", errors.New("client: an assertion needs a client id and an audience")
	}
	payload, err := json.Marshal(assertionClaims{
		Issuer: clientID, Subject: clientID, Audience: audience,
		IssuedAt: now.Unix(), Expiry: now.Add(AssertionLifetime).Unix(), ID: randomID(),
	})
	if err != nil {
		return "", err
	}
	key := jose.JSONWebKey{Key: dpop.SigningKey(k.signer), KeyID: k.kid}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.alg), Key: key}, nil)
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("client: signing the client assertion: %w", err)
	}
	return jws.CompactSerialize()
}

// assertionClaims are the claims of a client assertion, in a fixed order.
type assertionClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

// randomID is a jti: 128 random bits, base64url.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// keyAlg checks that alg fits key's type, or picks the algorithm for it
// when alg is empty. Only the asymmetric algorithms gatehouse accepts for
// assertions and DPoP proofs are offered.
func keyAlg(key crypto.Signer, alg string) (string, error) {
	if key == nil {
		return "", errors.New("client: no key")
	}
	var fits []string
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			fits = []string{"ES256"}
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return "", fmt.Errorf("client: an RSA key of %d bits is too short (at least %d)", pub.N.BitLen(), minRSABits)
		}
		fits = []string{"RS256", "PS256"}
	case ed25519.PublicKey:
		fits = []string{"EdDSA"}
	}
	switch {
	case fits == nil:
		return "", fmt.Errorf("client: a %s key cannot sign for gatehouse (want EC P-256, RSA or Ed25519)", keyType(key.Public()))
	case alg == "":
		return fits[0], nil
	case !slices.Contains(fits, alg):
		return "", fmt.Errorf("client: alg %q does not fit a %s key (want %s)", alg, keyType(key.Public()), fits[0])
	}
	return alg, nil
}

func keyType(pub crypto.PublicKey) string {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		return "EC " + pub.Curve.Params().Name
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
