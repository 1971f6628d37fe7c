package server

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// tlsNode is a gatehouse terminating TLS itself (--tls-cert, --tls-key)
// with --client-ca, run by Run as `gatehouse serve` runs it.
type tlsNode struct {
	t        *testing.T
	srv      *Server
	url      string
	serverCA *mtlstest.CA // signed the listener's certificate
	clientCA *mtlstest.CA // tls_client_auth certificates chain to it
}

func startTLSNode(t *testing.T) *tlsNode {
	t.Helper()
	dir := t.TempDir()
	n := &tlsNode{t: t, serverCA: mtlstest.NewCA(t, "server CA"), clientCA: mtlstest.NewCA(t, "client CA")}
	certFile, keyFile := n.serverCA.Server(t, "127.0.0.1").WriteFiles(t, dir, "server")
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "data"), freeAddr(t), certFile, keyFile
	cfg.ClientCA = mtlstest.WritePEM(t, filepath.Join(dir, "client-ca.pem"), n.clientCA.Cert)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("stopping gatehouse: %v", err)
		}
	})
	n.srv, n.url = srv, "https://"+cfg.Addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := n.client(nil).Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the TLS listener never answered: %v", err)
		}
	}
	n.seed()
	return n
}

// seed writes tenant acme and the two APIs to the store.
func (n *tlsNode) seed() {
	ctx, now := context.Background(), time.Now()
	st := n.srv.Store()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "acme", CreatedAt: now}); err != nil {
		n.t.Fatal(err)
	}
	for _, a := range []store.API{
		{Audience: keyAPI, Name: "keys", TokenFormat: store.FormatJWT, SigningAlg: "ES256"},
		{Audience: opaqueAPI, Name: "opaque", TokenFormat: store.FormatOpaque, SigningAlg: "RS256"},
	} {
		a.Scopes, a.TokenTTL, a.CreatedAt, a.UpdatedAt = []store.Scope{{Name: "read"}}, time.Hour, now, now
		if err := st.CreateAPI(ctx, a); err != nil {
			n.t.Fatal(err)
		}
	}
}

// addClient registers a client of tenant acme with auth and grants, in
// the store (the admin listener speaks TLS with a test CA here).
func (n *tlsNode) addClient(id string, auth store.ClientAuth, grants map[string][]string) {
	n.t.Helper()
	ctx, now := context.Background(), time.Now()
	c := store.Client{ID: id, Name: id, Tenant: "acme", Grants: grants, Auth: auth, CreatedAt: now, UpdatedAt: now}
	if err := n.srv.Store().CreateClient(ctx, c); err != nil {
		n.t.Fatal(err)
	}
	if err := n.srv.Catalog().Reload(ctx); err != nil {
		n.t.Fatal(err)
	}
}

// client is an HTTPS client of the node presenting cert (nil: none).
func (n *tlsNode) client(cert *mtlstest.Leaf) *http.Client {
	var asked bool
	return tlsClient(n.serverCA, cert, &asked, 0)
}

// token asks for a token as id with cert and extra headers.
func (n *tlsNode) token(cert *mtlstest.Leaf, id, audience string, header http.Header) (int, http.Header, []byte) {
	n.t.Helper()
	return postForm(n.t, n.client(cert), n.url+"/oauth/token",
		form("grant_type", "client_credentials", "client_id", id, "audience", audience), header)
}

// TestCertificateClientsOverTLS authenticates clients by the certificate
// they present to gatehouse's own TLS listener (RFC 8705 §2): a
// tls_client_auth client matched on its subject DN, one matched on a
// SPIFFE ID sending its intermediate, and a self_signed_tls_client_auth
// client. Their tokens carry cnf.x5t#S256, JWT and opaque (at
// introspection, where the certificate authenticates too), and a DPoP
// proof adds cnf.jkt. Wrong, missing, expired and foreign certificates
// are 401 invalid_client in JSON.
func TestCertificateClientsOverTLS(t *testing.T) {
	n := startTLSNode(t)
	grants := map[string][]string{keyAPI: {"read"}, opaqueAPI: {"read"}}
	billing := n.clientCA.Client(t, "billing")
	spiffeID := "spiffe://example.org/ns/billing/sa/export"
	workload := n.clientCA.Intermediate(t, "issuing CA").Issue(t, mtlstest.Spec{URIs: []string{spiffeID}})
	selfSigned := mtlstest.SelfSigned(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "device"}})
	n.addClient("billing", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDN, TLSSubject: "CN=billing"}, grants)
	n.addClient("workload", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindURI, TLSSubject: spiffeID}, grants)
	n.addClient("device", store.ClientAuth{Method: store.AuthSelfSignedTLS, JWKS: jwksOf(t, selfSigned.Key.Public(), "d1", "ES256")}, grants)

	for _, tt := range []struct {
		id   string
		cert *mtlstest.Leaf
	}{{"billing", billing}, {"workload", workload}, {"device", selfSigned}} {
		t.Run(tt.id, func(t *testing.T) {
			x5t := binding.Thumbprint(tt.cert.Cert)
			status, _, body := n.token(tt.cert, tt.id, keyAPI, nil)
			tok := wantOK(t, "JWT", status, body)
			if cnf := cnfOf(t, tok.AccessToken); tok.TokenType != "Bearer" || cnf["x5t#S256"] != x5t {
				t.Errorf("got token_type %s cnf %v, want Bearer bound to x5t#S256 %s", tok.TokenType, cnf, x5t)
			}

			status, _, body = n.token(tt.cert, tt.id, opaqueAPI, nil)
			opaque := wantOK(t, "opaque", status, body)
			status, _, body = postForm(t, n.client(tt.cert), n.url+"/oauth/introspect", form("client_id", tt.id, "token", opaque.AccessToken), nil)
			var in boundIntrospection
			if status != 200 || json.Unmarshal(body, &in) != nil || !in.Active || in.Cnf["x5t#S256"] != x5t {
				t.Errorf("introspection by certificate: got %d %s, want active with cnf.x5t#S256 %s", status, body, x5t)
			}

			key := newECKey(t)
			status, _, body = n.token(tt.cert, tt.id, keyAPI, http.Header{"DPoP": {proof(t, key, "POST", n.url+"/oauth/token", "", "")}})
			both := wantOK(t, "with a DPoP proof", status, body)
			if cnf := cnfOf(t, both.AccessToken); both.TokenType != "DPoP" || cnf["x5t#S256"] != x5t || cnf["jkt"] != thumbprint(t, key) {
				t.Errorf("with a DPoP proof: got token_type %s cnf %v, want DPoP bound to both", both.TokenType, cnf)
			}
		})
	}

	otherCA := mtlstest.NewCA(t, "someone else's CA")
	expired := n.clientCA.Issue(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "billing"},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	for _, tt := range []struct {
		name, id string
		cert     *mtlstest.Leaf
	}{
		{"no certificate", "billing", nil},
		{"the right name from another CA", "billing", otherCA.Client(t, "billing")},
		{"the right CA, another name", "billing", n.clientCA.Client(t, "payroll")},
		{"expired", "billing", expired},
		{"a self-signed certificate for a CA client", "billing", mtlstest.SelfSigned(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "billing"}})},
		{"the workload's intermediate left out", "workload", &mtlstest.Leaf{Cert: workload.Cert, Key: workload.Key}},
		{"another self-signed key", "device", mtlstest.SelfSigned(t, mtlstest.Spec{Subject: pkix.Name{CommonName: "device"}})},
		{"one client's certificate for another", "device", billing},
		{"no client_id", "", billing},
	} {
		status, header, body := n.token(tt.cert, tt.id, keyAPI, nil)
		wantError(t, tt.name, status, header, body, http.StatusUnauthorized, "invalid_client")
	}
}

// TestCertificateFromProxyHeader runs gatehouse behind a TLS-terminating
// proxy (--client-cert-header, --trusted-proxy 127.0.0.1/32): nginx's
// escaped PEM and Envoy's X-Forwarded-Client-Cert bring the client's
// certificate, and the token is bound to it. The same header from an
// address that is not a trusted proxy is ignored, and a header a trusted
// proxy garbled is 400 invalid_request, not a 500.
func TestCertificateFromProxyHeader(t *testing.T) {
	ca := mtlstest.NewCA(t, "client CA")
	caFile := mtlstest.WritePEM(t, filepath.Join(t.TempDir(), "ca.pem"), ca.Cert)
	direct := ca.Client(t, "billing")
	chained := ca.Intermediate(t, "issuing CA").Client(t, "billing")
	untrusted := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}}
	tests := []struct {
		name, header string
		cert         *mtlstest.Leaf
		value        string
		garbled      string
	}{
		{"nginx", "X-SSL-Client-Cert", direct, mtlstest.EscapedPEM(direct.Cert), "-----BEGIN%20CERTIFICATE-----%0AnotBase64%0A-----END%20CERTIFICATE-----"},
		{"envoy", mtls.XFCCHeader, chained, mtlstest.XFCC(chained.Cert, chained.Chain...), `By=spiffe://example.org/envoy;Hash=00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, func(c *config.Config) {
				c.ClientCA, c.ClientCertHeader, c.TrustedProxies = caFile, tt.header, []string{"127.0.0.1/32"}
			})
			h.seedKeyAPIs()
			c := h.registerClient("billing", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDN, TLSSubject: "CN=billing"})
			body := form("grant_type", "client_credentials", "client_id", c.ClientID, "audience", keyAPI)

			status, _, resp := postForm(t, http.DefaultClient, h.ts.URL+"/oauth/token", body, http.Header{tt.header: {tt.value}})
			tok := wantOK(t, "from the trusted proxy", status, resp)
			h.secrets = append(h.secrets, tok.AccessToken)
			if got, want := cnfOf(t, tok.AccessToken)["x5t#S256"], binding.Thumbprint(tt.cert.Cert); got != want {
				t.Errorf("cnf.x5t#S256: got %v, want %s", got, want)
			}

			status, header, resp := postForm(t, untrusted, h.ts.URL+"/oauth/token", body, http.Header{tt.header: {tt.value}})
			wantError(t, "the header from 127.0.0.2, not a trusted proxy", status, header, resp, http.StatusUnauthorized, "invalid_client")

			status, header, resp = postForm(t, http.DefaultClient, h.ts.URL+"/oauth/token", body, http.Header{tt.header: {tt.garbled}})
			wantError(t, "a garbled header from the trusted proxy", status, header, resp, http.StatusBadRequest, "invalid_request")

			status, header, resp = postForm(t, http.DefaultClient, h.ts.URL+"/oauth/token", body, nil)
			wantError(t, "no header", status, header, resp, http.StatusUnauthorized, "invalid_client")
		})
	}
}
