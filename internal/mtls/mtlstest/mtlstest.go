// Package mtlstest makes certificates for tests: a root CA, intermediates,
// client and server certificates signed by them, and self-signed ones, all
// ECDSA P-256 so that a test makes dozens in milliseconds. It writes PEM
// files and the header values a TLS-terminating proxy would send.
//
// It is for tests only: keys are not protected and every failure is a
// t.Fatal.
package mtlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CA is a certificate authority: a root from NewCA or an intermediate
// from (*CA).Intermediate.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// Chain is the CA's own certificate followed by its issuers' up to,
	// not including, the root: what a client sends after its leaf.
	Chain []*x509.Certificate
}

// Leaf is an end-entity certificate with its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// Chain is the intermediates between the leaf and the root (empty for
	// a leaf signed by a root and for a self-signed one).
	Chain []*x509.Certificate
}

// Spec says what a leaf certificate holds. Zero fields get defaults:
// subject CN "client", valid from an hour ago for an hour, extended key
// usage clientAuth.
type Spec struct {
	Subject pkix.Name
	// RawSubject, when set, is the DER subject used as is (for an RDN
	// order pkix.Name cannot express, or multi-valued RDNs).
	RawSubject []byte
	DNSNames   []string
	URIs       []string // e.g. spiffe://example.org/ns/billing/sa/export
	Emails     []string
	IPs        []net.IP
	// NotBefore and NotAfter default to now-1h and now+1h.
	NotBefore, NotAfter time.Time
	// ExtKeyUsage defaults to clientAuth; NoExtKeyUsage leaves the
	// extension out entirely.
	ExtKeyUsage   []x509.ExtKeyUsage
	NoExtKeyUsage bool
}

// NewCA makes a self-signed root CA named cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := caTemplate(t, cn)
	cert := create(t, tmpl, tmpl, key, key)
	return &CA{Cert: cert, Key: key}
}

// Intermediate makes a CA named cn signed by ca.
func (ca *CA) Intermediate(t testing.TB, cn string) *CA {
	t.Helper()
	key := newKey(t)
	cert := create(t, caTemplate(t, cn), ca.Cert, key, ca.Key)
	return &CA{Cert: cert, Key: key, Chain: append([]*x509.Certificate{cert}, ca.Chain...)}
}

// Issue makes a leaf certificate signed by ca.
func (ca *CA) Issue(t testing.TB, spec Spec) *Leaf {
	t.Helper()
	key := newKey(t)
	cert := create(t, leafTemplate(t, spec), ca.Cert, key, ca.Key)
	return &Leaf{Cert: cert, Key: key, Chain: ca.Chain}
}

// Client makes a client certificate with subject CN cn and no SANs.
func (ca *CA) Client(t testing.TB, cn string) *Leaf {
	t.Helper()
	return ca.Issue(t, Spec{Subject: pkix.Name{CommonName: cn}})
}

// Server makes a server certificate for hosts (DNS names or IP addresses).
func (ca *CA) Server(t testing.TB, hosts ...string) *Leaf {
	t.Helper()
	spec := Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			spec.IPs = append(spec.IPs, ip)
		} else {
			spec.DNSNames = append(spec.DNSNames, h)
		}
	}
	if len(hosts) > 0 {
		spec.Subject.CommonName = hosts[0]
	}
	return ca.Issue(t, spec)
}

// SelfSigned makes a self-signed leaf certificate, as a client of
// self_signed_tls_client_auth holds.
func SelfSigned(t testing.TB, spec Spec) *Leaf {
	t.Helper()
	key := newKey(t)
	tmpl := leafTemplate(t, spec)
	return &Leaf{Cert: create(t, tmpl, tmpl, key, key), Key: key}
}

// TLSCertificate is the leaf with its chain, for tls.Config.Certificates.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, ch := range l.Chain {
		c.Certificate = append(c.Certificate, ch.Raw)
	}
	return c
}

// WriteFiles writes the leaf (followed by its chain) and its PKCS #8 key
// as PEM files named <name>.pem and <name>-key.pem in dir.
func (l *Leaf) WriteFiles(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile = WritePEM(t, filepath.Join(dir, name+".pem"), append([]*x509.Certificate{l.Cert}, l.Chain...)...)
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// WritePEM writes certs to path as a PEM bundle and returns path.
func WritePEM(t testing.TB, path string, certs ...*x509.Certificate) string {
	t.Helper()
	if err := os.WriteFile(path, PEM(certs...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// PEM encodes certs as one PEM bundle.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// EscapedPEM is the header value nginx sends for $ssl_client_escaped_cert
// (and Envoy in XFCC): the PEM with every byte but A-Z a-z 0-9 - . _ ~
// percent-encoded.
func EscapedPEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range PEM(certs...) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// XFCC is one element of Envoy's X-Forwarded-Client-Cert header carrying
// the leaf as Cert and, when chain is not empty, leaf plus chain as Chain.
func XFCC(leaf *x509.Certificate, chain ...*x509.Certificate) string {
	sum := sha256.Sum256(leaf.Raw)
	el := `By=spiffe://example.org/envoy;Hash=` + hex.EncodeToString(sum[:]) + `;Cert="` + EscapedPEM(leaf) + `"`
	if len(chain) > 0 {
		el += `;Chain="` + EscapedPEM(append([]*x509.Certificate{leaf}, chain...)...) + `"`
	}
	if leaf.Subject.String() != "" {
		el += `;Subject="` + strings.ReplaceAll(leaf.Subject.String(), `"`, `\"`) + `"`
	}
	return el
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func caTemplate(t testing.TB, cn string) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: cn, Organization: []string{"gatehouse tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: true,
	}
}

func leafTemplate(t testing.TB, spec Spec) *x509.Certificate {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: spec.Subject, RawSubject: spec.RawSubject,
		NotBefore: spec.NotBefore, NotAfter: spec.NotAfter,
		DNSNames: spec.DNSNames, EmailAddresses: spec.Emails, IPAddresses: spec.IPs,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           spec.ExtKeyUsage,
		BasicConstraintsValid: true,
	}
	if tmpl.Subject.String() == "" && tmpl.RawSubject == nil {
		tmpl.Subject.CommonName = "client"
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(time.Hour)
	}
	if spec.NoExtKeyUsage {
		tmpl.ExtKeyUsage = nil
	} else if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, u := range spec.URIs {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	return tmpl
}

func create(t testing.TB, tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
