package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Key is one signing key opened for use.
type Key struct {
	KID       string
	Alg       string
	State     string
	CreatedAt time.Time
	Public    crypto.PublicKey
	signer    *jwsSigner
}

// Generate makes a new key for alg in the given state, sealed with kek.
func Generate(alg, state string, now time.Time, kek *KEK) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return store.SigningKey{}, err
	}
	kid := keyID(pub)
	sealed, err := kek.Seal(der, kid)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{
		KID: kid, Alg: alg, State: state,
		PrivateKey: sealed, PublicKey: pub,
		CreatedAt: now.UTC(), ActivatesAt: now.UTC(),
	}, nil
}

// keyID derives a key id from the public key (a short RFC 7638-style digest
// of its DER encoding), so ids are stable and never collide by accident.
func keyID(pubDER []byte) string {
	sum := sha256.Sum256(pubDER)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Open decrypts a stored key with kek and prepares it for signing.
func Open(k store.SigningKey, kek *KEK) (*Key, error) {
	der, err := kek.Open(k.PrivateKey, k.KID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w (key-encryption key from %s)", k.KID, err, kek.Source)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not a signing key", k.KID)
	}
	if err := checkAlg(k.Alg, priv); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	if rk, ok := priv.(*rsa.PrivateKey); ok {
		rk.Precompute()
	}
	signer, err := newJWSSigner(k.Alg, k.KID, priv)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	return &Key{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt, Public: priv.Public(), signer: signer}, nil
}

func checkAlg(alg string, priv crypto.Signer) error {
	ok := false
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		ok = alg == "RS256"
	case *ecdsa.PrivateKey:
		ok = alg == "ES256" && p.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return fmt.Errorf("key type %T does not match algorithm %s", priv, alg)
	}
	return nil
}

// Sign returns the compact JWS of payload, with header alg, kid and typ at+jwt.
func (k *Key) Sign(payload []byte) (string, error) {
	return k.signer.sign(payload)
}

// JWK is the public half as RFC 7517 publishes it.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}
}
