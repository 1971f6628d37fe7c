package gateway_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/gateway"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// This file runs the gateway in front of a real gatehouse that binds the
// tokens itself (binding_test.go signs its own), and checks where the
// gateway finds client certificates: its own TLS listener, or a trusted
// proxy's header.

// ghCertHeader is the header gatehouse, behind a test "proxy", reads the
// certificate of a certificate client from when it issues a token.
const ghCertHeader = "X-SSL-Client-Cert"

// boundWorld is a gatehouse with two APIs (orders: JWT, reports: opaque),
// a secret client (holder), a tls_client_auth client (billing, with its
// certificate), the gateway's client, and an echoing upstream.
type boundWorld struct {
	gh                     *servertest.Gatehouse
	ca                     *mtlstest.CA
	holder, billing, gwCli admin.ClientView
	billingCert            *mtlstest.Leaf
	upstream               string
	tokens                 []string // none may reach the gateway's log
}

func newBoundWorld(t *testing.T) *boundWorld {
	t.Helper()
	w := &boundWorld{ca: mtlstest.NewCA(t, "client CA")}
	caFile := mtlstest.WritePEM(t, filepath.Join(t.TempDir(), "ca.pem"), w.ca.Cert)
	w.gh = servertest.Start(t, func(c *config.Config) {
		c.ClientCA, c.ClientCertHeader, c.TrustedProxies = caFile, ghCertHeader, []string{"127.0.0.1/32"}
	}, server.Options{})
	w.gh.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	w.gh.Do("POST", "/admin/v1/apis", map[string]any{"audience": ordersAudience, "token_ttl": "1h",
		"scopes": []map[string]string{{"name": "orders:read"}}}, nil)
	w.gh.Do("POST", "/admin/v1/apis", map[string]any{"audience": reportsAudience, "token_ttl": "1h", "token_format": "opaque",
		"scopes": []map[string]string{{"name": "reports:read"}}}, nil)
	newClient := func(name string, grants map[string][]string) admin.ClientView {
		var c admin.ClientView
		w.gh.Do("POST", "/admin/v1/clients", admin.ClientInput{Name: &name, Tenant: "acme", Grants: &grants}, &c)
		return c
	}
	grants := map[string][]string{ordersAudience: {"orders:read"}, reportsAudience: {"reports:read"}}
	w.holder, w.billing = newClient("holder", grants), newClient("billing", grants)
	w.gwCli = newClient("gateway", map[string][]string{store.IntrospectAudience: {store.ScopeIntrospect}})
	w.gh.SetClientAuth(w.billing.ClientID, store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDN, TLSSubject: "CN=billing"})
	w.billingCert = w.ca.Client(t, "billing")
	w.upstream = startUpstream(t).URL
	return w
}

// token asks gatehouse for a token for audience with the client's
// credentials in form and header (a DPoP proof, the proxy's certificate
// header), and wants tokenType.
func (w *boundWorld) token(t *testing.T, form url.Values, audience string, header http.Header, tokenType string) string {
	t.Helper()
	form.Set("grant_type", "client_credentials")
	form.Set("audience", audience)
	req, _ := http.NewRequest("POST", w.gh.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.TokenType != tokenType {
		t.Fatalf("token for %s: got %d %+v, %v; want a %s token", audience, resp.StatusCode, out, err, tokenType)
	}
	w.tokens = append(w.tokens, out.AccessToken)
	return out.AccessToken
}

// dpopToken is a token of holder bound to key.
func (w *boundWorld) dpopToken(t *testing.T, key crypto.Signer, audience string) string {
	t.Helper()
	return w.token(t, url.Values{"client_id": {w.holder.ClientID}, "client_secret": {w.holder.ClientSecret}}, audience,
		http.Header{"DPoP": {proof(t, key, "POST", w.gh.Config.Issuer+"/oauth/token", "")}}, "DPoP")
}

// certToken is a token of billing bound to its certificate.
func (w *boundWorld) certToken(t *testing.T, audience string) string {
	t.Helper()
	return w.token(t, url.Values{"client_id": {w.billing.ClientID}}, audience,
		http.Header{ghCertHeader: {mtlstest.EscapedPEM(w.billingCert.Cert)}}, "Bearer")
}

// config routes /orders/ and /reports/ to the upstream.
func (w *boundWorld) config() gateway.Config {
	return gateway.Config{
		Listen:    "127.0.0.1:0",
		Gatehouse: gateway.Gatehouse{Issuer: w.gh.Config.Issuer, ClientID: w.gwCli.ClientID, ClientSecret: w.gwCli.ClientSecret},
		Routes: []gateway.Route{
			{Path: "/orders/", Upstream: w.upstream, Audience: ordersAudience, Scopes: []string{"orders:read"}},
			{Path: "/reports/", Upstream: w.upstream, Audience: reportsAudience, Scopes: []string{"reports:read"}},
		},
	}
}

// serve runs a gateway with cfg, as `gatehouse gateway` does, until the
// test ends, and returns its base URL (https when it serves TLS).
func (w *boundWorld) serve(t *testing.T, cfg gateway.Config) string {
	t.Helper()
	logs := &logging.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), gateway.Options{})
	if err != nil {
		cancel()
		t.Fatalf("gateway.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v after shutdown, want nil", err)
		}
		for _, tok := range w.tokens {
			if strings.Contains(logs.String(), tok) {
				t.Errorf("a token appeared in the gateway log")
			}
		}
	})
	if cfg.TLS != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// callAs sends GET base+path through client with authorization and extra
// headers.
func callAs(t *testing.T, client *http.Client, base, path, authorization string, header http.Header) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", authorization)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	if resp.StatusCode == 200 {
		_ = json.Unmarshal(data, &a.echo)
		return a
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Errorf("GET %s: a %d without a JSON error body: %q", path, resp.StatusCode, data)
	}
	a.err, a.desc = e.Error, e.Description
	return a
}

// want checks an answer's status and error code.
func want(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.err != code {
		t.Errorf("%s: got %d %q (%s), want %d %q", what, a.status, a.err, a.desc, status, code)
	}
}

// TestGatewayHoldsGatehouseDPoPTokens: a DPoP-bound JWT and a DPoP-bound
// opaque token (whose cnf comes from introspection), both issued by a
// real gatehouse, pass the gateway only with a fresh proof of their key.
func TestGatewayHoldsGatehouseDPoPTokens(t *testing.T) {
	w := newBoundWorld(t)
	gw := w.serve(t, w.config())
	key, _ := newProofKey(t)
	thief, _ := newProofKey(t)
	for _, kind := range []struct{ name, audience, path string }{
		{"JWT", ordersAudience, "/orders/42"},
		{"opaque", reportsAudience, "/reports/daily"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			tok := w.dpopToken(t, key, kind.audience)
			u := gw + kind.path
			good := proof(t, key, "GET", u, tok)
			want(t, "as Bearer", callAs(t, httpClient, gw, kind.path, "Bearer "+tok, nil), 401, "invalid_token")
			want(t, "with a proof by another key", callAs(t, httpClient, gw, kind.path, "DPoP "+tok,
				http.Header{"DPoP": {proof(t, thief, "GET", u, tok)}}), 401, "invalid_dpop_proof")
			a := callAs(t, httpClient, gw, kind.path, "DPoP "+tok, http.Header{"DPoP": {good}})
			want(t, "with the right proof", a, 200, "")
			if got := a.echo.Headers.Get("X-Gatehouse-Client-Id"); got != w.holder.ClientID {
				t.Errorf("upstream saw client %q, want %s", got, w.holder.ClientID)
			}
			want(t, "the right proof again", callAs(t, httpClient, gw, kind.path, "DPoP "+tok, http.Header{"DPoP": {good}}),
				401, "invalid_dpop_proof")
		})
	}
}

// TestGatewayCertificateFromProxyHeader: a gateway behind a
// TLS-terminating proxy (client_cert_header, trusted_proxies) admits a
// certificate-bound token, JWT or opaque, when the proxy's header carries
// its certificate; the same header from an untrusted address does not
// count and is not passed upstream.
func TestGatewayCertificateFromProxyHeader(t *testing.T) {
	w := newBoundWorld(t)
	cfg := w.config()
	cfg.ClientCertHeader, cfg.TrustedProxies = "X-Client-Cert", []string{"127.0.0.1/32"}
	gw := w.serve(t, cfg)
	untrusted := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}, Timeout: httpClient.Timeout}
	certHeader := http.Header{"X-Client-Cert": {mtlstest.EscapedPEM(w.billingCert.Cert)}}
	other := http.Header{"X-Client-Cert": {mtlstest.EscapedPEM(w.ca.Client(t, "billing").Cert)}}
	for _, kind := range []struct{ name, audience, path string }{
		{"JWT", ordersAudience, "/orders/42"},
		{"opaque", reportsAudience, "/reports/daily"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			tok := "Bearer " + w.certToken(t, kind.audience)
			want(t, "its certificate from the trusted proxy", callAs(t, httpClient, gw, kind.path, tok, certHeader), 200, "")
			want(t, "no certificate", callAs(t, httpClient, gw, kind.path, tok, nil), 401, "invalid_token")
			want(t, "another certificate", callAs(t, httpClient, gw, kind.path, tok, other), 401, "invalid_token")
			want(t, "its certificate from 127.0.0.2", callAs(t, untrusted, gw, kind.path, tok, certHeader), 401, "invalid_token")
		})
	}
	t.Run("the header reaches the upstream only from the proxy", func(t *testing.T) {
		tok := "Bearer " + w.token(t, url.Values{"client_id": {w.holder.ClientID}, "client_secret": {w.holder.ClientSecret}},
			ordersAudience, nil, "Bearer")
		a := callAs(t, httpClient, gw, "/orders/1", tok, certHeader)
		if a.status != 200 || a.echo.Headers.Get("X-Client-Cert") == "" {
			t.Errorf("from the trusted proxy: got %d, header forwarded %v; want 200 and forwarded", a.status, a.echo.Headers.Get("X-Client-Cert") != "")
		}
		a = callAs(t, untrusted, gw, "/orders/1", tok, http.Header{"X-Client-Cert": certHeader["X-Client-Cert"],
			"X_Client_Cert": certHeader["X-Client-Cert"]})
		if a.status != 200 || a.echo.Headers.Get("X-Client-Cert") != "" || a.echo.Headers.Get("X_Client_Cert") != "" {
			t.Errorf("from 127.0.0.2: got %d, certificate headers upstream %q %q; want 200 and none",
				a.status, a.echo.Headers.Get("X-Client-Cert"), a.echo.Headers.Get("X_Client_Cert"))
		}
	})
}

// TestGatewayServesTLS loads a gateway from YAML with tls: it serves
// HTTPS, asks for a client certificate without requiring one, and admits
// a certificate-bound token only over a connection presenting its
// certificate; a DPoP proof names the https URL.
func TestGatewayServesTLS(t *testing.T) {
	w := newBoundWorld(t)
	dir := t.TempDir()
	serverCA := mtlstest.NewCA(t, "gateway CA")
	certFile, keyFile := serverCA.Server(t, "127.0.0.1").WriteFiles(t, dir, "gateway")
	yaml := `listen: 127.0.0.1:0
gatehouse:
  issuer: ` + w.gh.Config.Issuer + `
  client_id: ` + w.gwCli.ClientID + `
  client_secret: ` + w.gwCli.ClientSecret + `
tls:
  cert_file: ` + certFile + `
  key_file: ` + keyFile + `
routes:
  - path: /orders/
    upstream: ` + w.upstream + `
    audience: ` + ordersAudience + `
  - path: /reports/
    upstream: ` + w.upstream + `
    audience: ` + reportsAudience + `
`
	file := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := gateway.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	gw := w.serve(t, cfg)
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	presenting := func(cert *mtlstest.Leaf) *http.Client {
		c := &tls.Config{RootCAs: roots}
		if cert != nil {
			c.Certificates = []tls.Certificate{cert.TLSCertificate()}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: httpClient.Timeout}
	}
	for _, kind := range []struct{ name, audience, path string }{
		{"JWT", ordersAudience, "/orders/42"},
		{"opaque", reportsAudience, "/reports/daily"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			tok := "Bearer " + w.certToken(t, kind.audience)
			want(t, "over a connection with its certificate", callAs(t, presenting(w.billingCert), gw, kind.path, tok, nil), 200, "")
			want(t, "without a certificate", callAs(t, presenting(nil), gw, kind.path, tok, nil), 401, "invalid_token")
			want(t, "with another certificate", callAs(t, presenting(w.ca.Client(t, "billing")), gw, kind.path, tok, nil),
				401, "invalid_token")
		})
	}
	t.Run("DPoP over TLS", func(t *testing.T) {
		key, _ := newProofKey(t)
		tok := w.dpopToken(t, key, ordersAudience)
		want(t, "a proof naming the https URL", callAs(t, presenting(nil), gw, "/orders/1", "DPoP "+tok,
			http.Header{"DPoP": {proof(t, key, "GET", gw+"/orders/1", tok)}}), 200, "")
	})
	if resp, err := httpClient.Get(strings.Replace(gw, "https://", "http://", 1) + "/orders/1"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain http on the TLS listener: got %d, want Go's 400 for HTTP to an HTTPS server", resp.StatusCode)
		}
	}
}
