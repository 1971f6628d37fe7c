package mtls

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrNoClientCA is returned by every chain check of an Authority without
// a CA bundle: tls_client_auth is refused rather than checked against the
// system roots.
var ErrNoClientCA = errors.New("no client CA bundle is configured (--client-ca)")

// Authority is the node's trust for tls_client_auth (RFC 8705 §2.1): the
// CA bundle of --client-ca. A nil *Authority has none, and every Verify
// fails with ErrNoClientCA.
type Authority struct {
	Roots *x509.CertPool
}

// LoadAuthority reads the CA bundle at path; an empty path is a nil
// *Authority and no error (tls_client_auth is then refused).
func LoadAuthority(path string) (*Authority, error) {
	if path == "" {
		return nil, nil
	}
	roots, err := LoadCAs(path)
	if err != nil {
		return nil, err
	}
	return &Authority{Roots: roots}, nil
}

// Verify checks that leaf chains to one of a's roots at now, through the
// intermediates the client sent; see VerifyChain.
func (a *Authority) Verify(leaf *x509.Certificate, intermediates []*x509.Certificate, now time.Time) error {
	if a == nil {
		return VerifyChain(leaf, intermediates, nil, now)
	}
	return VerifyChain(leaf, intermediates, a.Roots, now)
}

// VerifyChain checks leaf for tls_client_auth: a chain through
// intermediates (untrusted, only used to build the path) to one of roots,
// every certificate valid at now (the zero time means the current time),
// and fit for client authentication under Go's crypto/x509 rules: each
// certificate in the chain that has an extended key usage extension must
// allow clientAuth (or any); one without the extension allows every
// usage, as RFC 5280 §4.2.1.12 reads. Name constraints of the CAs apply;
// revocation (CRL, OCSP) is not checked. A nil or empty roots pool is
// ErrNoClientCA, never the system roots.
func VerifyChain(leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	if leaf == nil {
		return errors.New("no client certificate")
	}
	if roots == nil || roots.Equal(x509.NewCertPool()) {
		return ErrNoClientCA
	}
	pool := x509.NewCertPool()
	for _, c := range intermediates {
		pool.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: pool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("client certificate %q: %w", leaf.Subject.String(), err)
	}
	return nil
}

// LoadCAs reads a PEM bundle of CA certificates (text between blocks is
// ignored). A file without any CERTIFICATE block, or with one that does
// not parse, is an error naming the file; other PEM blocks (a stray key,
// for one) are an error too, so that a wrong file is noticed at start.
func LoadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("client CA bundle %s: block %d is a %s, want only CERTIFICATE blocks", path, n+1, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("client CA bundle %s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("client CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

// MatchesKey reports whether cert's public key is one of keys, for
// self_signed_tls_client_auth (RFC 8705 §2.2): the certificate stands for
// its key only, so neither its chain, its names nor its validity period
// are checked. Keys are compared with their Equal method (every key type
// of crypto/rsa, crypto/ecdsa and crypto/ed25519 has one).
func MatchesKey(cert *x509.Certificate, keys []crypto.PublicKey) bool {
	if cert == nil {
		return false
	}
	for _, k := range keys {
		if eq, ok := k.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(cert.PublicKey) {
			return true
		}
	}
	return false
}
