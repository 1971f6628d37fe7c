package binding

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/dpop"
)

var now = time.Unix(1_750_000_000, 0)

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func thumbprint(t *testing.T, k crypto.Signer) string {
	t.Helper()
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return jkt
}

// newCert is a self-signed client certificate.
func newCert(t *testing.T) *x509.Certificate {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newChecker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	key, other := newKey(t), newKey(t)
	jkt := thumbprint(t, key)
	cert, otherCert := newCert(t), newCert(t)
	const token = "tok"
	proof := func(k crypto.Signer, method, u, tok string) string {
		p, err := dpop.NewProof(k, "ES256", method, u, tok, "", now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const url = "https://example.com/things" // the request below, over TLS
	tests := []struct {
		name   string
		cfg    Config
		scheme bearer.Scheme
		cnf    Confirmation
		proofs []string
		peer   *x509.Certificate
		code   string
		reason error
	}{
		{"unbound Bearer token", Config{}, bearer.SchemeBearer, Confirmation{}, nil, nil, "", nil},
		{"unbound Bearer token, DPoP required", Config{RequireDPoP: true}, bearer.SchemeBearer, Confirmation{}, nil, nil,
			CodeInvalidToken, ErrDPoPRequired},
		{"DPoP", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt}, []string{proof(key, "GET", url, token)}, nil, "", nil},
		{"DPoP, required", Config{RequireDPoP: true}, bearer.SchemeDPoP, Confirmation{JKT: jkt},
			[]string{proof(key, "GET", url, token)}, nil, "", nil},
		{"DPoP-bound token as Bearer", Config{}, bearer.SchemeBearer, Confirmation{JKT: jkt},
			[]string{proof(key, "GET", url, token)}, nil, CodeInvalidToken, ErrDPoPBound},
		{"unbound token as DPoP", Config{}, bearer.SchemeDPoP, Confirmation{}, []string{proof(key, "GET", url, token)}, nil,
			CodeInvalidToken, ErrNotDPoPBound},
		{"no proof", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt}, nil, nil, CodeInvalidDPoPProof, dpop.ErrNoProof},
		{"two proofs", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt},
			[]string{proof(key, "GET", url, token), proof(key, "GET", url, token)}, nil, CodeInvalidDPoPProof, dpop.ErrMalformed},
		{"proof from another key", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt}, []string{proof(other, "GET", url, token)},
			nil, CodeInvalidDPoPProof, ErrProofKey},
		{"proof for another token", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt}, []string{proof(key, "GET", url, "stolen")},
			nil, CodeInvalidDPoPProof, dpop.ErrATH},
		{"proof for another method", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt}, []string{proof(key, "POST", url, token)},
			nil, CodeInvalidDPoPProof, dpop.ErrMethod},
		{"proof for another URL", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt},
			[]string{proof(key, "GET", "http://example.com/other", token)}, nil, CodeInvalidDPoPProof, dpop.ErrURL},
		{"proof for the public URL", Config{PublicURL: "https://api.example.io/v2/"}, bearer.SchemeDPoP, Confirmation{JKT: jkt},
			[]string{proof(key, "GET", "https://api.example.io/v2/things", token)}, nil, "", nil},
		{"proof for the internal URL behind a public one", Config{PublicURL: "https://api.example.io"}, bearer.SchemeDPoP,
			Confirmation{JKT: jkt}, []string{proof(key, "GET", url, token)}, nil, CodeInvalidDPoPProof, dpop.ErrURL},
		{"proof for the URL of RequestURL", Config{RequestURL: func(r *http.Request) string { return "https://h.example.io/x" }},
			bearer.SchemeDPoP, Confirmation{JKT: jkt}, []string{proof(key, "GET", "https://h.example.io/x", token)}, nil, "", nil},

		{"certificate", Config{}, bearer.SchemeBearer, Confirmation{X5TS256: Thumbprint(cert)}, nil, cert, "", nil},
		{"another certificate", Config{}, bearer.SchemeBearer, Confirmation{X5TS256: Thumbprint(cert)}, nil, otherCert,
			CodeInvalidToken, ErrCertificate},
		{"no certificate", Config{}, bearer.SchemeBearer, Confirmation{X5TS256: Thumbprint(cert)}, nil, nil,
			CodeInvalidToken, ErrCertificate},
		{"certificate from the hook", Config{ClientCertificate: func(*http.Request) (*x509.Certificate, error) { return cert, nil }},
			bearer.SchemeBearer, Confirmation{X5TS256: Thumbprint(cert)}, nil, otherCert, "", nil},
		{"the hook fails", Config{ClientCertificate: func(*http.Request) (*x509.Certificate, error) { return nil, errors.New("bad header") }},
			bearer.SchemeBearer, Confirmation{X5TS256: Thumbprint(cert)}, nil, cert, CodeInvalidToken, ErrCertificate},
		{"both bindings", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt, X5TS256: Thumbprint(cert)},
			[]string{proof(key, "GET", url, token)}, cert, "", nil},
		{"both bindings, no certificate", Config{}, bearer.SchemeDPoP, Confirmation{JKT: jkt, X5TS256: Thumbprint(cert)},
			[]string{proof(key, "GET", url, token)}, nil, CodeInvalidToken, ErrCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, tt.cfg)
			r := httptest.NewRequest("GET", "/things?q=1", nil)
			for _, p := range tt.proofs {
				r.Header.Add("DPoP", p)
			}
			r.TLS = &tls.ConnectionState{}
			if tt.peer != nil {
				r.TLS.PeerCertificates = []*x509.Certificate{tt.peer}
			}
			ref := c.Check(r, bearer.Token{Scheme: tt.scheme, Value: token}, tt.cnf)
			if tt.code == "" {
				if ref != nil {
					t.Fatalf("got %v, want nil", ref)
				}
				return
			}
			if ref == nil || ref.Code != tt.code || !errors.Is(ref, tt.reason) {
				t.Fatalf("got %v, want %s %v", ref, tt.code, tt.reason)
			}
			if ref.Description == "" || strings.Contains(ref.Description, "dpop:") {
				t.Errorf("description %q: want a client-safe text", ref.Description)
			}
		})
	}
}

// TestCheckReplay: a proof passes once; a request refused for another
// reason does not spend it.
func TestCheckReplay(t *testing.T) {
	key := newKey(t)
	cert := newCert(t)
	c := newChecker(t, Config{PublicURL: "https://example.com"})
	p, err := dpop.NewProof(key, "ES256", "GET", "https://example.com/things", "tok", "", now)
	if err != nil {
		t.Fatal(err)
	}
	req := func(peer *x509.Certificate) *http.Request {
		r := httptest.NewRequest("GET", "/things", nil)
		r.Header.Set("DPoP", p)
		if peer != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{peer}}
		}
		return r
	}
	cnf := Confirmation{JKT: thumbprint(t, key), X5TS256: Thumbprint(cert)}
	tok := bearer.Token{Scheme: bearer.SchemeDPoP, Value: "tok"}
	if ref := c.Check(req(nil), tok, cnf); ref == nil || !errors.Is(ref, ErrCertificate) {
		t.Fatalf("without the certificate: got %v, want ErrCertificate", ref)
	}
	if ref := c.Check(req(cert), tok, cnf); ref != nil {
		t.Fatalf("first use: got %v, want nil", ref)
	}
	if ref := c.Check(req(cert), tok, cnf); ref == nil || !errors.Is(ref, dpop.ErrReplayed) || ref.Code != CodeInvalidDPoPProof {
		t.Fatalf("replayed: got %v, want invalid_dpop_proof ErrReplayed", ref)
	}
}

func TestRequestURL(t *testing.T) {
	tests := []struct {
		name, publicURL, target string
		tls                     bool
		want                    string
	}{
		{"from the request", "", "/a/b?q=1", false, "http://example.com/a/b"},
		{"over TLS", "", "/a", true, "https://example.com/a"},
		{"public URL", "https://api.example.io", "/a?q=1", false, "https://api.example.io/a"},
		{"public URL with a path", "https://example.io/api/", "/a", false, "https://example.io/api/a"},
		{"escaped path", "https://api.example.io", "/a%2Fb", false, "https://api.example.io/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, Config{PublicURL: tt.publicURL})
			r := httptest.NewRequest("GET", tt.target, nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := c.RequestURL(r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"api.example.io", "https://api.example.io/?q", "ftp://x", "https://u@x"} {
		if _, err := New(Config{PublicURL: bad}); err == nil {
			t.Errorf("PublicURL %q: got nil, want an error", bad)
		}
	}
}

func TestWriteChallenges(t *testing.T) {
	algs := `algs="` + strings.Join(dpop.Algorithms(), " ") + `"`
	tests := []struct {
		name        string
		requireDPoP bool
		ch          bearer.Challenge
		want        []string
	}{
		{"no token", false, bearer.Challenge{Realm: "r"}, []string{`Bearer realm="r"`, `DPoP realm="r", ` + algs}},
		{"Bearer refused", false, bearer.Challenge{Scheme: bearer.SchemeBearer, Realm: "r", Code: "invalid_token", Description: "d"},
			[]string{`Bearer realm="r", error="invalid_token", error_description="d"`, `DPoP realm="r", ` + algs}},
		{"DPoP refused", false, bearer.Challenge{Scheme: bearer.SchemeDPoP, Realm: "r", Code: "invalid_dpop_proof", Description: "d",
			ResourceMetadata: "https://m"},
			[]string{`DPoP realm="r", error="invalid_dpop_proof", error_description="d", ` + algs + `, resource_metadata="https://m"`,
				`Bearer realm="r", resource_metadata="https://m"`}},
		{"DPoP required, no token", true, bearer.Challenge{Realm: "r"}, []string{`DPoP realm="r", ` + algs}},
		{"DPoP required, Bearer sent", true, bearer.Challenge{Scheme: bearer.SchemeBearer, Realm: "r", Code: "invalid_token", Description: "d"},
			[]string{`DPoP realm="r", error="invalid_token", error_description="d", ` + algs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			newChecker(t, Config{RequireDPoP: tt.requireDPoP}).WriteChallenges(rec, 401, tt.ch)
			if got := rec.Header().Values("WWW-Authenticate"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
