package gateway_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/gateway"
	"github.com/gatehouse/gatehouse/internal/logging"
)

// This file checks that the gateway holds bound tokens to their binding.
// gatehouse's token endpoint does not bind tokens yet in this package's
// harness, so a fake gatehouse signs the JWTs and answers introspection.

// publicURL is how clients address the gateway in these tests.
const publicURL = "https://api.example.io"

// fakeGatehouse signs JWTs with one key and answers introspection from a
// map of opaque tokens.
type fakeGatehouse struct {
	*httptest.Server
	signer jose.Signer
	jwks   jose.JSONWebKeySet
	seq    atomic.Int64

	mu     sync.Mutex
	opaque map[string]map[string]any
}

func startFakeGatehouse(t *testing.T) *fakeGatehouse {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	fg := &fakeGatehouse{signer: signer, opaque: map[string]map[string]any{},
		jwks: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(fg.jwks)
	})
	mux.HandleFunc("POST /oauth/revocations", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"revocations": []any{}, "now": time.Now().Unix()})
	})
	mux.HandleFunc("POST /oauth/introspect", func(w http.ResponseWriter, r *http.Request) {
		fg.mu.Lock()
		answer, ok := fg.opaque[r.PostFormValue("token")]
		fg.mu.Unlock()
		if !ok {
			answer = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(answer)
	})
	fg.Server = httptest.NewServer(mux)
	t.Cleanup(fg.Close)
	return fg
}

// claims are a token's for client c_1 at audience, bound by cnf (nil:
// unbound).
func (fg *fakeGatehouse) claims(audience, scope string, cnf map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"iss": fg.URL, "sub": "c_1@clients", "aud": audience, "iat": now, "exp": now + 600,
		"jti": fmt.Sprint("jti-", fg.seq.Add(1)), "client_id": "c_1", "scope": scope, "tenant": "acme"}
	if cnf != nil {
		c["cnf"] = cnf
	}
	return c
}

func (fg *fakeGatehouse) jwt(t *testing.T, audience, scope string, cnf map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(fg.claims(audience, scope, cnf))
	jws, err := fg.signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// opaqueToken registers an opaque token whose introspection answer
// carries cnf.
func (fg *fakeGatehouse) opaqueToken(audience, scope string, cnf map[string]any) string {
	c := fg.claims(audience, scope, cnf)
	c["active"] = true
	tok := fmt.Sprintf("Opaque%026d", fg.seq.Add(1))
	fg.mu.Lock()
	fg.opaque[tok] = c
	fg.mu.Unlock()
	return tok
}

// startBindingGateway runs a gateway in front of upstream for fg's tokens.
func startBindingGateway(t *testing.T, fg *fakeGatehouse, cfg gateway.Config, opts gateway.Options) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.Gatehouse = gateway.Gatehouse{Issuer: fg.URL, URL: fg.URL, ClientID: "gw", ClientSecret: "gw-secret"}
	logs := &logging.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), opts)
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
		<-done
		if out := logs.String(); strings.Contains(out, "eyJ") || strings.Contains(out, "Opaque0") {
			t.Errorf("a token or proof appeared in the gateway log")
		}
	})
	return "http://" + ln.Addr().String()
}

func bindingConfig(upstream string) gateway.Config {
	return gateway.Config{
		PublicURL:        publicURL,
		ResourceMetadata: true,
		Routes: []gateway.Route{
			{Path: "/orders/", Upstream: upstream, Audience: ordersAudience, Scopes: []string{"orders:read"}},
			{Path: "/reports/", Upstream: upstream, Audience: reportsAudience, Scopes: []string{"reports:read"},
				ForwardAuthorization: new(false), StripPrefix: true},
			{Path: "/secure/", Upstream: upstream, Audience: ordersAudience, RequireDPoP: true},
			{Service: "streaming-view", Upstream: upstream, Audience: viewAudience},
		},
	}
}

// callWith sends GET base+path with the given Authorization and DPoP
// headers.
func callWith(t *testing.T, base, method, path, authorization string, proofs ...string) (answer, []string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &e)
	a.err, a.desc = e.Error, e.Description
	if resp.StatusCode == 200 {
		_ = json.Unmarshal(data, &a.echo)
	}
	return a, resp.Header.Values("WWW-Authenticate")
}

func newProofKey(t *testing.T) (crypto.Signer, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k, jkt
}

func proof(t *testing.T, k crypto.Signer, method, u, token string) string {
	t.Helper()
	p, err := dpop.NewProof(k, "ES256", method, u, token, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBoundTokens: a DPoP-bound token passes with a proof of its key for
// the request; stolen (sent as Bearer, or with another key's proof) or
// replayed, it gets 401. JWTs and opaque tokens alike.
func TestBoundTokens(t *testing.T) {
	fg := startFakeGatehouse(t)
	up := startUpstream(t)
	gw := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{})
	key, jkt := newProofKey(t)
	thief, _ := newProofKey(t)
	cnf := map[string]any{"jkt": jkt}

	for _, kind := range []struct {
		name, path string
		token      string
	}{
		{"JWT", "/orders/42", fg.jwt(t, ordersAudience, "orders:read", cnf)},
		{"opaque", "/reports/daily", fg.opaqueToken(reportsAudience, "reports:read", cnf)},
	} {
		t.Run(kind.name, func(t *testing.T) {
			u := publicURL + kind.path
			tok := kind.token
			replayed := proof(t, key, "GET", u, tok)
			metadata := `resource_metadata="` + publicURL + "/.well-known/oauth-protected-resource/" + strings.Split(kind.path, "/")[1] + `"`
			steps := []struct {
				name          string
				authorization string
				proofs        []string
				status        int
				err, desc     string
			}{
				{"DPoP with a proof", "DPoP " + tok, []string{proof(t, key, "GET", u, tok)}, 200, "", ""},
				{"first use of a proof", "DPoP " + tok, []string{replayed}, 200, "", ""},
				{"replayed proof", "DPoP " + tok, []string{replayed}, 401, "invalid_dpop_proof", "DPoP proof replayed"},
				{"stolen, sent as Bearer", "Bearer " + tok, nil, 401, "invalid_token",
					"the token is DPoP-bound: send it with the DPoP scheme and a proof"},
				{"stolen, with the thief's proof", "DPoP " + tok, []string{proof(t, thief, "GET", u, tok)}, 401, "invalid_dpop_proof",
					"the DPoP proof is not signed by the key the token is bound to"},
				{"no proof", "DPoP " + tok, nil, 401, "invalid_dpop_proof", "no DPoP proof"},
				{"proof for the gateway's own address", "DPoP " + tok, []string{proof(t, key, "GET", gw+kind.path, tok)}, 401,
					"invalid_dpop_proof", "DPoP proof htu does not match the request URL"},
				{"proof for another method", "DPoP " + tok, []string{proof(t, key, "POST", u, tok)}, 401,
					"invalid_dpop_proof", "DPoP proof htm does not match the request method"},
				{"proof for another token", "DPoP " + tok, []string{proof(t, key, "GET", u, "other")}, 401,
					"invalid_dpop_proof", "DPoP proof ath does not match the access token"},
			}
			for _, s := range steps {
				a, all := callWith(t, gw, "GET", kind.path, s.authorization, s.proofs...)
				if a.status != s.status || a.err != s.err || a.desc != s.desc {
					t.Errorf("%s: got %d %q %q, want %d %q %q", s.name, a.status, a.err, a.desc, s.status, s.err, s.desc)
					continue
				}
				if s.status == 401 && (len(all) != 2 || !strings.Contains(all[0], `error="`+s.err+`"`) ||
					!strings.Contains(all[0], metadata) || !strings.Contains(all[0]+all[1], `DPoP realm=`)) {
					t.Errorf("%s: WWW-Authenticate %q, want the error first, both schemes, the metadata URL", s.name, all)
				}
			}
		})
	}
	t.Run("upstream sees", func(t *testing.T) {
		tok := fg.jwt(t, ordersAudience, "orders:read", cnf)
		p := proof(t, key, "GET", publicURL+"/orders/1", tok)
		a, _ := callWith(t, gw, "GET", "/orders/1", "DPoP "+tok, p)
		if a.status != 200 || a.echo.Headers.Get("Authorization") != "DPoP "+tok || a.echo.Headers.Get("DPoP") != p {
			t.Errorf("got %d, want 200 with the caller's Authorization and DPoP headers forwarded", a.status)
		}
		tok = fg.opaqueToken(reportsAudience, "reports:read", cnf)
		a, _ = callWith(t, gw, "GET", "/reports/x", "DPoP "+tok, proof(t, key, "GET", publicURL+"/reports/x", tok))
		if a.status != 200 || a.echo.Headers.Get("Authorization") != "" || a.echo.Headers.Get("DPoP") != "" {
			t.Errorf("got %d, want 200 without Authorization and DPoP (forward_authorization false)", a.status)
		}
	})
}

// TestUnboundTokens: unbound tokens pass as Bearer, as before, but not
// as DPoP and not where a route requires DPoP.
func TestUnboundTokens(t *testing.T) {
	fg := startFakeGatehouse(t)
	up := startUpstream(t)
	gw := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{})
	key, jkt := newProofKey(t)
	jwt := fg.jwt(t, ordersAudience, "orders:read", nil)
	opaque := fg.opaqueToken(reportsAudience, "reports:read", nil)
	bound := fg.jwt(t, ordersAudience, "orders:read", map[string]any{"jkt": jkt})
	unknownCnf := fg.opaqueToken(reportsAudience, "reports:read", map[string]any{"kid": "k"})
	tests := []struct {
		name, path, authorization string
		proofs                    []string
		status                    int
		err, desc                 string
	}{
		{"JWT as Bearer", "/orders/1", "Bearer " + jwt, nil, 200, "", ""},
		{"opaque as Bearer", "/reports/1", "Bearer " + opaque, nil, 200, "", ""},
		{"JWT as DPoP", "/orders/1", "DPoP " + jwt, []string{proof(t, key, "GET", publicURL+"/orders/1", jwt)}, 401,
			"invalid_token", "the token is not DPoP-bound"},
		{"unbound on a DPoP-only route", "/secure/1", "Bearer " + jwt, nil, 401, "invalid_token", "a DPoP-bound token is required"},
		{"bound on a DPoP-only route", "/secure/1", "DPoP " + bound, []string{proof(t, key, "GET", publicURL+"/secure/1", bound)},
			200, "", ""},
		{"opaque with a cnf the gateway cannot enforce", "/reports/1", "Bearer " + unknownCnf, nil, 401, "invalid_token", "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := callWith(t, gw, "GET", tt.path, tt.authorization, tt.proofs...)
			if a.status != tt.status || a.err != tt.err || a.desc != tt.desc {
				t.Errorf("got %d %q %q, want %d %q %q", a.status, a.err, a.desc, tt.status, tt.err, tt.desc)
			}
		})
	}
	t.Run("DPoP-only route names DPoP alone", func(t *testing.T) {
		_, all := callWith(t, gw, "GET", "/secure/1", "")
		want := `DPoP realm="` + ordersAudience + `", algs="ES256 EdDSA PS256 RS256 Ed25519", resource_metadata="` +
			publicURL + `/.well-known/oauth-protected-resource/secure"`
		if len(all) != 1 || all[0] != want {
			t.Errorf("got %q, want [%q]", all, want)
		}
	})
}

// TestCertificateBoundTokens: a token bound to a client certificate needs
// it; the gateway serves plain HTTP, so it comes from the options' hook
// (here: a header a test proxy sets).
func TestCertificateBoundTokens(t *testing.T) {
	fg := startFakeGatehouse(t)
	up := startUpstream(t)
	cert := newTestCert(t)
	x5t := sha256.Sum256(cert.Raw)
	cnf := map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(x5t[:])}
	byHeader := gateway.Options{ClientCertificate: func(r *http.Request) (*x509.Certificate, error) {
		if r.Header.Get("X-Test-Client-Cert") == "yes" {
			return cert, nil
		}
		return nil, nil
	}}
	plain := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{})
	hooked := startBindingGateway(t, fg, bindingConfig(up.URL), byHeader)
	jwt := fg.jwt(t, ordersAudience, "orders:read", cnf)
	opaque := fg.opaqueToken(reportsAudience, "reports:read", cnf)
	const refusal = "the token is bound to a client certificate the request did not present"
	for _, tt := range []struct {
		name, gw, path, token string
		cert                  bool
		status                int
	}{
		{"JWT, no certificate source", plain, "/orders/1", jwt, true, 401},
		{"JWT with the certificate", hooked, "/orders/1", jwt, true, 200},
		{"JWT without it", hooked, "/orders/1", jwt, false, 401},
		{"opaque with the certificate", hooked, "/reports/1", opaque, true, 200},
		{"opaque without it", hooked, "/reports/1", opaque, false, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.gw+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			if tt.cert {
				req.Header.Set("X-Test-Client-Cert", "yes")
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Description string `json:"error_description"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || (tt.status == 401 && e.Description != refusal) {
				t.Errorf("got %d %q, want %d", resp.StatusCode, e.Description, tt.status)
			}
		})
	}
}

func newTestCert(t *testing.T) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
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

// TestResourceMetadata: each route's RFC 9728 document sits below the
// well-known path at the route's prefix.
func TestResourceMetadata(t *testing.T) {
	fg := startFakeGatehouse(t)
	up := startUpstream(t)
	gw := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{})
	type doc struct {
		Resource       string   `json:"resource"`
		Servers        []string `json:"authorization_servers"`
		Scopes         []string `json:"scopes_supported"`
		Methods        []string `json:"bearer_methods_supported"`
		Algs           []string `json:"dpop_signing_alg_values_supported"`
		DPoPRequired   bool     `json:"dpop_bound_access_tokens_required"`
		CertificateTok bool     `json:"tls_client_certificate_bound_access_tokens"`
	}
	tests := []struct {
		path   string
		status int
		want   doc
	}{
		{"/orders", 200, doc{Resource: publicURL + "/orders", Servers: []string{fg.URL}, Scopes: []string{"orders:read"},
			Methods: []string{"header"}, Algs: dpop.Algorithms()}},
		{"/orders/", 200, doc{Resource: publicURL + "/orders", Servers: []string{fg.URL}, Scopes: []string{"orders:read"},
			Methods: []string{"header"}, Algs: dpop.Algorithms()}},
		{"/secure", 200, doc{Resource: publicURL + "/secure", Servers: []string{fg.URL}, Methods: []string{"header"},
			Algs: dpop.Algorithms(), DPoPRequired: true}},
		{"/streaming-view/v1/KEY", 200, doc{Resource: publicURL + "/streaming-view/v1/KEY", Servers: []string{fg.URL},
			Methods: []string{"header"}, Algs: dpop.Algorithms()}},
		{"/orders/42", 404, doc{}},
		{"", 404, doc{}},
		{"/nothing", 404, doc{}},
	}
	// Behind a proxy that passes client certificates, the gateway checks
	// certificate-bound tokens, and says so.
	proxied := bindingConfig(up.URL)
	proxied.ClientCertHeader, proxied.TrustedProxies = "X-SSL-Client-Cert", []string{"127.0.0.1"}
	gwProxied := startBindingGateway(t, fg, proxied, gateway.Options{})
	tests = append(tests, struct {
		path   string
		status int
		want   doc
	}{"/orders|proxied", 200, doc{Resource: publicURL + "/orders", Servers: []string{fg.URL}, Scopes: []string{"orders:read"},
		Methods: []string{"header"}, Algs: dpop.Algorithms(), CertificateTok: true}})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			base, path := gw, tt.path
			if p, ok := strings.CutSuffix(path, "|proxied"); ok {
				base, path = gwProxied, p
			}
			resp, err := httpClient.Get(base + "/.well-known/oauth-protected-resource" + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got doc
			_ = json.NewDecoder(resp.Body).Decode(&got)
			if resp.StatusCode != tt.status || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %d %+v, want %d %+v", resp.StatusCode, got, tt.status, tt.want)
			}
		})
	}
}

// TestGatehouseTokensUnbound runs the harness's real gatehouse, whose
// tokens carry no cnf yet: they pass as Bearer and are refused as DPoP,
// with a proof or without.
func TestGatehouseTokensUnbound(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	cfg := w.gatewayConfig(up.URL)
	cfg.PublicURL = publicURL
	var tokens []string
	gw := w.startGateway(t, cfg, &tokens)
	writer := w.gh.token(w.writer, ordersAudience)
	report := w.gh.token(w.writer, reportsAudience)
	tokens = append(tokens, writer, report)
	key, _ := newProofKey(t)
	for _, tt := range []struct {
		name, path, token string
	}{
		{"JWT", "/orders/1", writer},
		{"opaque", "/reports/1", report},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if a, _ := callWith(t, gw.url, "GET", tt.path, "Bearer "+tt.token); a.status != 200 {
				t.Errorf("as Bearer: got %d %q, want 200", a.status, a.desc)
			}
			a, all := callWith(t, gw.url, "GET", tt.path, "DPoP "+tt.token, proof(t, key, "GET", publicURL+tt.path, tt.token))
			if a.status != 401 || a.desc != "the token is not DPoP-bound" || len(all) != 2 || !strings.HasPrefix(all[0], "DPoP ") {
				t.Errorf("as DPoP: got %d %q %q, want 401 the token is not DPoP-bound, a DPoP challenge first", a.status, a.desc, all)
			}
		})
	}
}
