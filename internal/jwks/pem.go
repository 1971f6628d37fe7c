package jwks

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// FromFile reads what an operator hands the CLI as a client's keys: a JWK
// Set as it is, or PEM public keys (as `openssl pkey -pubout` writes them)
// or certificates, turned into a JWK Set whose keys are named by their RFC
// 7638 thumbprint. Either way the result passes Parse: private keys are
// refused, never converted.
func FromFile(doc []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(doc)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		if _, err := Parse(trimmed); err != nil {
			return nil, err
		}
		return trimmed, nil
	}
	var set jose.JSONWebKeySet
	rest := trimmed
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("jwks: PEM public key: %w", err)
			}
			pub = k
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("jwks: PEM certificate: %w", err)
			}
			pub = c.PublicKey
		default:
			return nil, fmt.Errorf("jwks: a PEM %q block: give public keys (openssl pkey -pubout) or certificates, never a private key", block.Type)
		}
		kid, err := Thumbprint(pub)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: DefaultAlgorithm(pub), Use: "sig"})
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("jwks: no PEM block found")
	}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	if _, err := Parse(out); err != nil {
		return nil, err
	}
	return out, nil
}
