// Package testkeys makes signing keys for tests across gatehouse (client
// keys, issuer keys, attackers' keys). It panics where key generation
// fails, which crypto/rand does not; production code must not import it.
package testkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
)

// RSA returns a new 2048-bit RSA key (slow: make them once per test binary).
func RSA() crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// EC returns a new P-256 key.
func EC() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// Ed25519 returns a new Ed25519 key.
func Ed25519() crypto.Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}
