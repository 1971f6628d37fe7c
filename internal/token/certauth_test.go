package token

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// clientCA is a CA for client certificates and the Config that trusts it.
func clientCA(t *testing.T) (*mtlstest.CA, Config) {
	t.Helper()
	ca := mtlstest.NewCA(t, "gatehouse test clients")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return ca, Config{IssuerURL: issuerURL, ClientCA: &mtls.Authority{Roots: roots}}
}

// certReq is a client_credentials request by id presenting leaf, with
// more parameters.
func certReq(id string, leaf *mtlstest.Leaf, kv ...string) oauth.TokenRequest {
	r := oauth.TokenRequest{GrantType: "client_credentials", ClientID: id, EndpointURL: tokenURL}
	if leaf != nil {
		r.ClientCert, r.CertChain = leaf.Cert, leaf.Chain
	}
	return withParams(r, kv...)
}

// tlsClients are tls_client_auth clients, one per kind of registered
// subject, with the certificates that match them.
type tlsClient struct {
	kind, subject string
	spec          mtlstest.Spec
}

var tlsClients = []tlsClient{
	{mtls.KindDN, "CN=billing-export,O=Acme,C=DE", mtlstest.Spec{Subject: pkix.Name{CommonName: "billing-export", Organization: []string{"Acme"}, Country: []string{"DE"}}}},
	{mtls.KindDN, "cn=billing-export, o=Acme, 2.5.4.6=DE", mtlstest.Spec{Subject: pkix.Name{CommonName: "billing-export", Organization: []string{"Acme"}, Country: []string{"DE"}}}},
	{mtls.KindDNS, "Billing.Acme.Example.", mtlstest.Spec{DNSNames: []string{"other.acme.example", "billing.acme.example"}}},
	{mtls.KindURI, "spiffe://acme.example/ns/billing/sa/export", mtlstest.Spec{URIs: []string{"spiffe://acme.example/ns/billing/sa/export"}}},
	{mtls.KindEmail, "billing@ACME.example", mtlstest.Spec{Emails: []string{"billing@acme.example"}}},
}

// TestTLSClientAuth is RFC 8705 §2.1: a certificate from the configured
// CA carrying the client's registered subject, of each kind, directly or
// through an intermediate, authenticates the client, and its token is
// bound to the certificate (§3) in the JWT, in introspection and in the
// store, while still a Bearer token.
func TestTLSClientAuth(t *testing.T) {
	w := newWorld(t)
	ca, cfg := clientCA(t)
	iss := w.issuer(cfg)
	inter := ca.Intermediate(t, "gatehouse test clients, issuing")
	grants := map[string][]string{platform: {"read"}, property: {"property:write"}}
	for _, tc := range tlsClients {
		for _, issuer := range []*mtlstest.CA{ca, inter} {
			name := tc.kind + " " + tc.subject
			if issuer == inter {
				name += ", through an intermediate"
			}
			t.Run(name, func(t *testing.T) {
				c := w.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: tc.kind, TLSSubject: tc.subject}, admin.NewClient{Environment: "qa", Grants: grants})
				leaf := issuer.Issue(t, tc.spec)
				want := verify.Confirmation{X5TS256: binding.Thumbprint(leaf.Cert)}
				out := issue(t, iss, certReq(c.id, leaf, "audience", platform), "")
				if out.Response.TokenType != "Bearer" {
					t.Errorf("token_type: got %q, want Bearer", out.Response.TokenType)
				}
				checkToken(t, w, out.Response.AccessToken, platform, c.id, "qa", "read", want)
				in, err := iss.Introspect(t.Context(), certReq(c.id, leaf, "token", out.Response.AccessToken), addr)
				if err != nil {
					t.Fatal(err)
				}
				if !in.Active || in.TokenType != "Bearer" || in.Cnf == nil || in.Cnf.X5TS256 != want.X5TS256 || in.Cnf.JKT != "" {
					t.Errorf("introspection: got %+v cnf %+v, want active, Bearer, x5t#S256 %s", in, in.Cnf, want.X5TS256)
				}

				opaque := issue(t, iss, certReq(c.id, leaf), "streaming-property")
				stored, err := w.st.GetOpaqueToken(t.Context(), HashOpaque(opaque.Response.AccessToken))
				if err != nil {
					t.Fatal(err)
				}
				if stored.Confirmation != (store.Confirmation{X5TS256: want.X5TS256}) {
					t.Errorf("the stored opaque token: got cnf %+v, want x5t#S256 %s", stored.Confirmation, want.X5TS256)
				}
				in, err = iss.Introspect(t.Context(), certReq(c.id, leaf, "token", opaque.Response.AccessToken), addr)
				if err != nil || in.Cnf == nil || in.Cnf.X5TS256 != want.X5TS256 {
					t.Errorf("introspecting the opaque token: got %+v, %v, want x5t#S256 %s", in.Cnf, err, want.X5TS256)
				}
			})
		}
	}
}

// TestTLSClientAuthRefused: a certificate that does not chain to the
// configured CA, is not valid now, is not for client authentication, or
// does not carry the registered subject is invalid_client; so is any
// certificate when no CA is configured.
func TestTLSClientAuthRefused(t *testing.T) {
	w := newWorld(t)
	ca, cfg := clientCA(t)
	otherCA := mtlstest.NewCA(t, "someone else's CA")
	now := w.clock.Now()
	grants := map[string][]string{platform: {"read"}}
	byKind := map[string]cred{}
	for _, tc := range tlsClients {
		byKind[tc.kind] = w.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: tc.kind, TLSSubject: tc.subject}, admin.NewClient{Grants: grants})
	}
	dn := byKind[mtls.KindDN]
	dnSpec := tlsClients[0].spec
	badSubject := w.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "cn", TLSSubject: "billing-export"}, admin.NewClient{Grants: grants})
	secretClient := w.client(admin.NewClient{Grants: grants})
	good := ca.Issue(t, dnSpec)
	expired := dnSpec
	expired.NotBefore, expired.NotAfter = now.Add(-2*time.Hour), now.Add(-time.Minute)
	early := dnSpec
	early.NotBefore, early.NotAfter = now.Add(10*time.Minute), now.Add(2*time.Hour)
	serverOnly := dnSpec
	serverOnly.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}

	cases := []struct {
		name   string
		cfg    Config
		req    oauth.TokenRequest
		reason string
	}{
		{"another CA, the right subject", cfg, certReq(dn.id, otherCA.Issue(t, dnSpec), "audience", platform), "certificate signed by unknown authority"},
		{"self-signed, the right subject", cfg, certReq(dn.id, mtlstest.SelfSigned(t, dnSpec), "audience", platform), "certificate signed by unknown authority"},
		{"expired", cfg, certReq(dn.id, ca.Issue(t, expired), "audience", platform), "expired or is not yet valid"},
		{"not yet valid", cfg, certReq(dn.id, ca.Issue(t, early), "audience", platform), "expired or is not yet valid"},
		{"for servers only", cfg, certReq(dn.id, ca.Issue(t, serverOnly), "audience", platform), "incompatible key usage"},
		{"another DN", cfg, certReq(dn.id, ca.Issue(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "billing-export", Organization: []string{"Acme"}}}), "audience", platform), "does not match the client's registered dn"},
		{"another DNS name", cfg, certReq(byKind[mtls.KindDNS].id, ca.Issue(t, mtlstest.Spec{DNSNames: []string{"billing.acme.example.evil"}}), "audience", platform), "registered dns"},
		{"the DNS name only as CN", cfg, certReq(byKind[mtls.KindDNS].id, ca.Issue(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "billing.acme.example"}}), "audience", platform), "registered dns"},
		{"another SPIFFE ID", cfg, certReq(byKind[mtls.KindURI].id, ca.Issue(t, mtlstest.Spec{URIs: []string{"spiffe://acme.example/ns/billing/sa/export/more"}}), "audience", platform), "registered uri"},
		{"another email", cfg, certReq(byKind[mtls.KindEmail].id, ca.Issue(t, mtlstest.Spec{Emails: []string{"Billing@acme.example"}}), "audience", platform), "registered email"},
		{"a registered subject that does not parse", cfg, certReq(badSubject.id, good, "audience", platform), "registered subject"},
		{"no client CA configured", Config{IssuerURL: issuerURL}, certReq(dn.id, good, "audience", platform), "no client CA bundle"},
		{"no client_id", cfg, certReq("", good, "audience", platform), "no client id"},
		{"an unknown client_id", cfg, certReq("nobody", good, "audience", platform), "unknown client"},
		{"no certificate", cfg, certReq(dn.id, nil, "audience", platform), "another authentication method"},
		{"a certificate and the client's secret", cfg, withParams(certReq(dn.id, good, "audience", platform), "client_secret", dn.secret), "another authentication method"},
		{"a certificate for a secret client", cfg, certReq(secretClient.id, good, "audience", platform), "another authentication method"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.issuer(tc.cfg).Token(t.Context(), tc.req, "", addr)
			wantError(t, err, 401, "invalid_client", "Client authentication failed.")
			if err != nil && !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("got cause %v, want it to say %q", err, tc.reason)
			}
		})
	}
	issue(t, w.issuer(cfg), certReq(dn.id, good, "audience", platform), "")
}

// TestSelfSignedTLSClientAuth is RFC 8705 §2.2: a certificate whose
// public key is one of the client's registered keys authenticates it,
// whoever signed it; any other key does not.
func TestSelfSignedTLSClientAuth(t *testing.T) {
	w := newWorld(t)
	ca, cfg := clientCA(t)
	iss := w.issuer(cfg)
	now := w.clock.Now()
	holder := mtlstest.SelfSigned(t, mtlstest.Spec{})
	c := w.withAuth(store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: jwksOf(t, testKeys()["ec"].priv.Public(), &holder.Key.PublicKey)},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	noKeys := w.withAuth(store.ClientAuth{Method: store.AuthSelfSignedTLS}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})

	out := issue(t, iss, certReq(c.id, holder, "audience", platform), "")
	checkToken(t, w, out.Response.AccessToken, platform, c.id, "", "read", verify.Confirmation{X5TS256: binding.Thumbprint(holder.Cert)})
	// Another certificate for the same key is the same client, bound to
	// that certificate.
	reissued := &mtlstest.Leaf{Cert: selfSigned(t, holder.Key, "renewed", now.Add(-time.Minute), now.Add(time.Hour)), Key: holder.Key}
	out = issue(t, iss, certReq(c.id, reissued, "audience", platform), "")
	checkToken(t, w, out.Response.AccessToken, platform, c.id, "", "read", verify.Confirmation{X5TS256: binding.Thumbprint(reissued.Cert)})

	expired := &mtlstest.Leaf{Cert: selfSigned(t, holder.Key, "expired", now.Add(-2*time.Hour), now.Add(-time.Minute)), Key: holder.Key}
	for _, tc := range []struct {
		name   string
		req    oauth.TokenRequest
		reason string
	}{
		{"another self-signed key", certReq(c.id, mtlstest.SelfSigned(t, mtlstest.Spec{}), "audience", platform), "not among the client's keys"},
		{"a CA's certificate for another key", certReq(c.id, ca.Client(t, "client"), "audience", platform), "not among the client's keys"},
		{"no registered keys", certReq(noKeys.id, holder, "audience", platform), "no registered keys"},
		{"the registered key's certificate, expired", certReq(c.id, expired, "audience", platform), "validity period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.issuer(cfg).Token(t.Context(), tc.req, "", addr)
			wantError(t, err, 401, "invalid_client", "")
			if err != nil && !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("got cause %v, want it to say %q", err, tc.reason)
			}
		})
	}
}

// selfSigned makes another self-signed certificate for key, valid from
// notBefore to notAfter.
func selfSigned(t *testing.T, key *ecdsa.PrivateKey, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestCertificateOverTLS drives the certificate methods through a real
// TLS listener that asks for, and does not verify, a client certificate,
// as gatehouse's own listener does.
func TestCertificateOverTLS(t *testing.T) {
	w := newWorld(t)
	ca, cfg := clientCA(t)
	e := w.serve(t, cfg, &tls.Config{ClientAuth: tls.RequestClientCert})
	c := e.withAuth(store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindURI, TLSSubject: "spiffe://acme.example/ns/billing/sa/export"},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	holder := mtlstest.SelfSigned(t, mtlstest.Spec{})
	self := e.withAuth(store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: jwksOf(t, &holder.Key.PublicKey)},
		admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	leaf := ca.Issue(t, mtlstest.Spec{URIs: []string{"spiffe://acme.example/ns/billing/sa/export"}})
	body := func(id string) string {
		return form("grant_type", "client_credentials", "client_id", id, "audience", platform)
	}

	for _, tc := range []struct {
		name string
		id   string
		leaf *mtlstest.Leaf
	}{{"tls_client_auth", c.id, leaf}, {"self_signed_tls_client_auth", self.id, holder}} {
		t.Run(tc.name, func(t *testing.T) {
			cert := tc.leaf.TLSCertificate()
			a := e.sendWithCert(&cert, "POST", "/oauth/token", formType, body(tc.id), nil)
			if a.status != 200 || a.fields()["token_type"] != "Bearer" {
				t.Fatalf("got %d %s, want 200 and a Bearer token", a.status, a.body)
			}
			tok := a.fields()["access_token"].(string)
			want := binding.Thumbprint(tc.leaf.Cert)
			checkToken(t, e.world, tok, platform, tc.id, "", "read", verify.Confirmation{X5TS256: want})
			a = e.sendWithCert(&cert, "POST", "/oauth/introspect", formType, form("client_id", tc.id, "token", tok), nil)
			if cnf, _ := a.fields()["cnf"].(map[string]any); a.status != 200 || cnf["x5t#S256"] != want || a.fields()["token_type"] != "Bearer" {
				t.Errorf("introspection: got %d %s, want cnf.x5t#S256 %s", a.status, a.body, want)
			}
			if a := e.send("POST", "/oauth/token", formType, body(tc.id), nil); a.status != 401 || a.body != invalidClientBody() {
				t.Errorf("without a certificate: got %d %s, want 401 invalid_client", a.status, a.body)
			}
			other := mtlstest.NewCA(t, "another CA").Issue(t, mtlstest.Spec{URIs: []string{"spiffe://acme.example/ns/billing/sa/export"}}).TLSCertificate()
			if a := e.sendWithCert(&other, "POST", "/oauth/token", formType, body(tc.id), nil); a.status != 401 || a.body != invalidClientBody() {
				t.Errorf("another CA's certificate: got %d %s, want 401 invalid_client", a.status, a.body)
			}
		})
	}
}
