package mtls_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
)

func TestVerifyChain(t *testing.T) {
	root := mtlstest.NewCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	otherRoot := mtlstest.NewCA(t, "other root")
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	now := time.Now()

	direct := root.Client(t, "direct")
	viaInter := inter.Client(t, "via intermediate")
	tests := []struct {
		name          string
		leaf          *x509.Certificate
		intermediates []*x509.Certificate
		roots         *x509.CertPool
		at            time.Time
		wantErr       string // "" for success
	}{
		{"signed by the root", direct.Cert, nil, roots, now, ""},
		{"through an intermediate", viaInter.Cert, viaInter.Chain, roots, now, ""},
		{"zero time is now", direct.Cert, nil, roots, time.Time{}, ""},
		{"intermediate not sent", viaInter.Cert, nil, roots, now, "unknown authority"},
		{"from another CA", otherRoot.Client(t, "stranger").Cert, nil, roots, now, "unknown authority"},
		{"intermediate of another CA", otherRoot.Intermediate(t, "i").Client(t, "s").Cert, []*x509.Certificate{inter.Cert}, roots, now, "unknown authority"},
		{"self-signed", mtlstest.SelfSigned(t, mtlstest.Spec{}).Cert, nil, roots, now, "unknown authority"},
		{"expired", root.Issue(t, mtlstest.Spec{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Minute)}).Cert, nil, roots, now, "expired"},
		{"not yet valid", root.Issue(t, mtlstest.Spec{NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}).Cert, nil, roots, now, "expired or is not yet valid"},
		{"checked at the given time", direct.Cert, nil, roots, now.Add(3 * time.Hour), "expired"},
		{"server certificate only", root.Issue(t, mtlstest.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).Cert, nil, roots, now, "key usage"},
		{"no extended key usage allows any", root.Issue(t, mtlstest.Spec{NoExtKeyUsage: true}).Cert, nil, roots, now, ""},
		{"any extended key usage", root.Issue(t, mtlstest.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}).Cert, nil, roots, now, ""},
		{"client and server", root.Issue(t, mtlstest.Spec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}).Cert, nil, roots, now, ""},
		{"no certificate", nil, nil, roots, now, "no client certificate"},
		{"no roots never means system roots", direct.Cert, nil, nil, now, mtls.ErrNoClientCA.Error()},
		{"empty roots", direct.Cert, nil, x509.NewCertPool(), now, mtls.ErrNoClientCA.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mtls.VerifyChain(tt.leaf, tt.intermediates, tt.roots, tt.at)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAuthority(t *testing.T) {
	dir := t.TempDir()
	root := mtlstest.NewCA(t, "root")
	client := root.Intermediate(t, "inter").Client(t, "billing")
	a, err := mtls.LoadAuthority(mtlstest.WritePEM(t, filepath.Join(dir, "ca.pem"), root.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(client.Cert, client.Chain, time.Now()); err != nil {
		t.Errorf("Verify: got %v, want nil", err)
	}
	none, err := mtls.LoadAuthority("")
	if none != nil || err != nil {
		t.Fatalf(`LoadAuthority(""): got %v, %v; want nil, nil`, none, err)
	}
	if err := none.Verify(client.Cert, client.Chain, time.Now()); !errors.Is(err, mtls.ErrNoClientCA) {
		t.Errorf("nil Authority: got %v, want ErrNoClientCA", err)
	}
	if _, err := mtls.LoadAuthority(filepath.Join(dir, "missing.pem")); err == nil {
		t.Errorf("missing bundle: got nil error")
	}
}

func TestLoadCAs(t *testing.T) {
	dir := t.TempDir()
	rootA, rootB := mtlstest.NewCA(t, "a"), mtlstest.NewCA(t, "b")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := rootA.Client(t, "x")
	_, keyFile := leaf.WriteFiles(t, dir, "leaf")
	keyPEM, _ := os.ReadFile(keyFile)

	bundle := write("bundle.pem", "# two roots\n"+string(mtlstest.PEM(rootA.Cert, rootB.Cert)))
	pool, err := mtls.LoadCAs(bundle)
	if err != nil {
		t.Fatalf("bundle: got %v, want nil", err)
	}
	for _, c := range []*mtlstest.CA{rootA, rootB} {
		if err := mtls.VerifyChain(c.Client(t, "c").Cert, nil, pool, time.Now()); err != nil {
			t.Errorf("client of %s: got %v, want nil", c.Cert.Subject, err)
		}
	}

	tests := []struct{ name, path, want string }{
		{"missing file", filepath.Join(dir, "nope.pem"), "no such file"},
		{"empty file", write("empty.pem", ""), "holds no PEM certificate"},
		{"text without PEM", write("text.pem", "not a certificate\n"), "holds no PEM certificate"},
		{"a key, not a certificate", write("key.pem", string(keyPEM)), "PRIVATE KEY"},
		{"a certificate and a key", write("mixed.pem", string(mtlstest.PEM(rootA.Cert))+string(keyPEM)), "block 2 is a PRIVATE KEY"},
		{"broken certificate", write("broken.pem", "-----BEGIN CERTIFICATE-----\nYWJj\n-----END CERTIFICATE-----\n"), "certificate 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mtls.LoadCAs(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMatchesKey(t *testing.T) {
	self := mtlstest.SelfSigned(t, mtlstest.Spec{})
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherEd, _, _ := ed25519.GenerateKey(rand.Reader)
	// A copy of the key, not the same pointer, as a JWKS parse gives.
	same := &ecdsa.PublicKey{Curve: elliptic.P256(), X: self.Key.X, Y: self.Key.Y}
	tests := []struct {
		name string
		cert *x509.Certificate
		keys []crypto.PublicKey
		want bool
	}{
		{"registered key", self.Cert, []crypto.PublicKey{otherEd, same}, true},
		{"other keys", self.Cert, []crypto.PublicKey{otherEd, &otherEC.PublicKey}, false},
		{"no keys", self.Cert, nil, false},
		{"no certificate", nil, []crypto.PublicKey{same}, false},
		{"a value that is no key", self.Cert, []crypto.PublicKey{"not a key", nil}, false},
		{"expired certificate still stands for its key", mtlstest.SelfSigned(t, mtlstest.Spec{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Cert, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mtls.MatchesKey(tt.cert, tt.keys); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	expired := mtlstest.SelfSigned(t, mtlstest.Spec{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if !mtls.MatchesKey(expired.Cert, []crypto.PublicKey{expired.Key.Public()}) {
		t.Errorf("expired self-signed certificate with a registered key: got false, want true (RFC 8705 §2.2 checks the key only)")
	}
}
