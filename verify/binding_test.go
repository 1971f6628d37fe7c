package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/dpop"
)

// This file checks the middleware's enforcement of bound tokens: DPoP
// (RFC 9449 §7) and client certificates (RFC 8705 §3).

// testURL is where serve's requests go, as the middleware sees them.
const testURL = "http://example.com/things"

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jktOf(t testing.TB, k crypto.Signer) string {
	t.Helper()
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return jkt
}

// boundToken is a token the fake issuer binds with cnf.
func (fi *fakeIssuer) boundToken(t testing.TB, cnf map[string]any, modify ...func(map[string]any)) string {
	t.Helper()
	c := fi.claims()
	c["cnf"] = cnf
	for _, m := range modify {
		m(c)
	}
	return fi.token(t, testKeys()["ec"], c, nil)
}

// proofFor makes a DPoP proof at the issuer's clock.
func (fi *fakeIssuer) proofFor(t testing.TB, k crypto.Signer, method, u, token string) string {
	t.Helper()
	p, err := dpop.NewProof(k, "ES256", method, u, token, "", fi.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// request is one call to the middleware.
type request struct {
	method, target string
	header         http.Header
}

func serveRequest(h http.Handler, r request) (response, []string) {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.target == "" {
		r.target = "/things"
	}
	req := httptest.NewRequest(r.method, r.target, nil)
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return response{rec.Code, rec.Header().Get("WWW-Authenticate"), body.Error, rec.Body.String()},
		rec.Header().Values("WWW-Authenticate")
}

func dpopHeader(token string, proofs ...string) http.Header {
	h := http.Header{"Authorization": {"DPoP " + token}}
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return h
}

func TestMiddlewareDPoP(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.Realm = "things" })
	key, other := newECKey(t), newECKey(t)
	bound := fi.boundToken(t, map[string]any{"jkt": jktOf(t, key)})
	unbound := fi.token(t, testKeys()["ec"], fi.claims(), nil)
	emptyCnf := fi.boundToken(t, map[string]any{"jwk": map[string]any{}})
	algs := `algs="ES256 EdDSA PS256 RS256 Ed25519"`
	refused := func(scheme, code, desc string) response {
		return response{status: 401, errorCode: code,
			challenge: scheme + ` realm="things", error="` + code + `", error_description="` + desc + `"` +
				map[bool]string{true: ", " + algs}[scheme == "DPoP"]}
	}
	replayed := fi.proofFor(t, key, "GET", testURL, bound)
	tests := []struct {
		name string
		req  request
		want response
	}{
		{"DPoP", request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound))}, response{status: 200}},
		{"DPoP scheme in lower case", request{header: http.Header{"Authorization": {"dpop " + bound},
			"Dpop": {fi.proofFor(t, key, "GET", testURL, bound)}}}, response{status: 200}},
		{"proof for a URL with a query", request{target: "/things?page=2",
			header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL+"?page=1", bound))}, response{status: 200}},
		{"POST", request{method: "POST", header: dpopHeader(bound, fi.proofFor(t, key, "POST", testURL, bound))}, response{status: 200}},
		{"unbound token as Bearer", request{header: http.Header{"Authorization": {"Bearer " + unbound}}}, response{status: 200}},

		{"bound token as Bearer", request{header: http.Header{"Authorization": {"Bearer " + bound}}},
			refused("Bearer", "invalid_token", "the token is DPoP-bound: send it with the DPoP scheme and a proof")},
		{"bound token as Bearer with a proof", request{header: http.Header{"Authorization": {"Bearer " + bound},
			"Dpop": {fi.proofFor(t, key, "GET", testURL, bound)}}},
			refused("Bearer", "invalid_token", "the token is DPoP-bound: send it with the DPoP scheme and a proof")},
		{"unbound token as DPoP", request{header: dpopHeader(unbound, fi.proofFor(t, key, "GET", testURL, unbound))},
			refused("DPoP", "invalid_token", "the token is not DPoP-bound")},
		{"no proof", request{header: dpopHeader(bound)}, refused("DPoP", "invalid_dpop_proof", "no DPoP proof")},
		{"two proofs", request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound),
			fi.proofFor(t, key, "GET", testURL, bound))}, refused("DPoP", "invalid_dpop_proof", "malformed DPoP proof")},
		{"proof from another key", request{header: dpopHeader(bound, fi.proofFor(t, other, "GET", testURL, bound))},
			refused("DPoP", "invalid_dpop_proof", "the DPoP proof is not signed by the key the token is bound to")},
		{"wrong ath", request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, unbound))},
			refused("DPoP", "invalid_dpop_proof", "DPoP proof ath does not match the access token")},
		{"wrong htu", request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", "http://example.com/other", bound))},
			refused("DPoP", "invalid_dpop_proof", "DPoP proof htu does not match the request URL")},
		{"wrong htm", request{method: "DELETE", header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound))},
			refused("DPoP", "invalid_dpop_proof", "DPoP proof htm does not match the request method")},
		{"invalid token as DPoP", request{header: dpopHeader(bound+"x", fi.proofFor(t, key, "GET", testURL, bound+"x"))},
			refused("DPoP", "invalid_token", "invalid signature")},
		{"cnf without a method this package knows", request{header: http.Header{"Authorization": {"Bearer " + emptyCnf}}},
			refused("Bearer", "invalid_token", "malformed token")},
		{"replayed proof, first use", request{header: dpopHeader(bound, replayed)}, response{status: 200}},
		{"replayed proof", request{header: dpopHeader(bound, replayed)},
			refused("DPoP", "invalid_dpop_proof", "DPoP proof replayed")},
	}
	h := v.Middleware(okHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, all := serveRequest(h, tt.req)
			if tt.want.status == 200 {
				tt.want.body = "c_123"
			} else {
				tt.want.body = got.body
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if got.status == 401 {
				other := `DPoP realm="things", ` + algs
				if strings.HasPrefix(got.challenge, "DPoP") {
					other = `Bearer realm="things"`
				}
				if len(all) != 2 || all[1] != other {
					t.Errorf("WWW-Authenticate: got %q, want the second to be %q", all, other)
				}
			}
		})
	}
	t.Run("stale proof", func(t *testing.T) {
		p := fi.proofFor(t, key, "GET", testURL, bound)
		fi.clock.Advance(dpop.DefaultWindow + dpop.DefaultLeeway)
		got, _ := serveRequest(h, request{header: dpopHeader(bound, p)})
		if want := refused("DPoP", "invalid_dpop_proof", "DPoP proof iat outside the accepted window"); got.challenge != want.challenge {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func TestMiddlewareNoToken(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.Realm = "things" })
	_, all := serveRequest(v.Middleware(okHandler), request{})
	want := []string{`Bearer realm="things"`, `DPoP realm="things", algs="ES256 EdDSA PS256 RS256 Ed25519"`}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", all, want)
	}
}

func TestMiddlewareRequireDPoP(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.Realm = "things"; c.RequireDPoP = true })
	key := newECKey(t)
	bound := fi.boundToken(t, map[string]any{"jkt": jktOf(t, key)})
	unbound := fi.token(t, testKeys()["ec"], fi.claims(), nil)
	h := v.Middleware(okHandler)
	const dpopOnly = `DPoP realm="things", algs="ES256 EdDSA PS256 RS256 Ed25519"`
	tests := []struct {
		name      string
		header    http.Header
		status    int
		challenge []string
	}{
		{"bound", dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound)), 200, nil},
		{"unbound as Bearer", http.Header{"Authorization": {"Bearer " + unbound}}, 401,
			[]string{`DPoP realm="things", error="invalid_token", error_description="a DPoP-bound token is required", algs="ES256 EdDSA PS256 RS256 Ed25519"`}},
		{"no token", nil, 401, []string{dpopOnly}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, all := serveRequest(h, request{header: tt.header})
			if got.status != tt.status || strings.Join(all, "\n") != strings.Join(tt.challenge, "\n") {
				t.Errorf("got %d %q, want %d %q", got.status, all, tt.status, tt.challenge)
			}
		})
	}
}

// TestMiddlewarePublicURL: behind a proxy, the proof names the URL the
// client used, which PublicURL gives.
func TestMiddlewarePublicURL(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.PublicURL = "https://api.example.io/v1" })
	key := newECKey(t)
	bound := fi.boundToken(t, map[string]any{"jkt": jktOf(t, key)})
	h := v.Middleware(okHandler)
	if got, _ := serveRequest(h, request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", "https://API.example.io:443/v1/things", bound))}); got.status != 200 {
		t.Errorf("proof for the public URL: got %+v, want 200", got)
	}
	if got, _ := serveRequest(h, request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound))}); got.errorCode != "invalid_dpop_proof" {
		t.Errorf("proof for the internal URL: got %+v, want invalid_dpop_proof", got)
	}
	if _, err := New(t.Context(), Config{Issuer: fi.srv.URL, Audience: testAudience, PublicURL: "api.example.io"}); err == nil {
		t.Errorf("a PublicURL without a scheme: got nil, want an error")
	}
}

// TestRequireUnderDPoP: a 403 answers in the scheme the token came in.
func TestRequireUnderDPoP(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.ResourceMetadataURL = "https://api.example.io" + ResourceMetadataPath })
	key := newECKey(t)
	bound := fi.boundToken(t, map[string]any{"jkt": jktOf(t, key)})
	got, _ := serveRequest(v.Middleware(RequireScope("admin")(okHandler)),
		request{header: dpopHeader(bound, fi.proofFor(t, key, "GET", testURL, bound))})
	want := `DPoP realm="` + testAudience + `", error="insufficient_scope", error_description="the token lacks a required scope", ` +
		`scope="admin", resource_metadata="https://api.example.io/.well-known/oauth-protected-resource"`
	if got.status != 403 || got.challenge != want {
		t.Errorf("got %d %s\nwant 403 %s", got.status, got.challenge, want)
	}
}

// newClientCert makes a self-signed client certificate and its key pair.
func newClientCert(t testing.TB, name string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	k := newECKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, cert
}

func x5t(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestMiddlewareCertificateBound runs the middleware behind a real TLS
// server that asks for client certificates.
func TestMiddlewareCertificateBound(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	clientCert, cert := newClientCert(t, "client")
	otherCert, _ := newClientCert(t, "other")
	srv := httptest.NewUnstartedServer(v.Middleware(okHandler))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	bound := fi.boundToken(t, map[string]any{"x5t#S256": x5t(cert)})
	unbound := fi.token(t, testKeys()["ec"], fi.claims(), nil)
	const refusal = "the token is bound to a client certificate the request did not present"
	tests := []struct {
		name   string
		cert   *tls.Certificate
		token  string
		status int
		desc   string
	}{
		{"the certificate", &clientCert, bound, 200, ""},
		{"another certificate", &otherCert, bound, 401, refusal},
		{"no certificate", nil, bound, 401, refusal},
		{"unbound token, no certificate", nil, unbound, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := srv.Client().Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.Certificates = nil
			if tt.cert != nil {
				tr.TLSClientConfig.Certificates = []tls.Certificate{*tt.cert}
			}
			defer tr.CloseIdleConnections()
			status, desc := get(t, &http.Client{Transport: tr}, srv.URL+"/things", "Bearer "+tt.token, nil)
			if status != tt.status || desc != tt.desc {
				t.Errorf("got %d %q, want %d %q", status, desc, tt.status, tt.desc)
			}
		})
	}
}

// TestMiddlewareCertificateHook: behind a proxy that terminates TLS, the
// certificate comes from Config.ClientCertificate.
func TestMiddlewareCertificateHook(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) {
		c.ClientCertificate = func(r *http.Request) (*x509.Certificate, error) {
			raw := r.Header.Get("X-Client-Cert")
			if raw == "" {
				return nil, nil
			}
			s, err := url.QueryUnescape(raw)
			if err != nil {
				return nil, err
			}
			b, _ := pem.Decode([]byte(s))
			if b == nil {
				return nil, errors.New("no PEM block")
			}
			return x509.ParseCertificate(b.Bytes)
		}
	})
	_, cert := newClientCert(t, "client")
	bound := fi.boundToken(t, map[string]any{"x5t#S256": x5t(cert)})
	srv := httptest.NewServer(v.Middleware(okHandler))
	t.Cleanup(srv.Close)
	escaped := url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	for _, tt := range []struct {
		name   string
		header string
		status int
	}{
		{"certificate header", escaped, 200},
		{"no header", "", 401},
		{"garbled header", "%%%", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("X-Client-Cert", tt.header)
			}
			if status, desc := get(t, srv.Client(), srv.URL+"/things", "Bearer "+bound, h); status != tt.status {
				t.Errorf("got %d %q, want %d", status, desc, tt.status)
			}
		})
	}
}

// get calls u and returns the status and error_description.
func get(t *testing.T, c *http.Client, u, authorization string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", authorization)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body struct {
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &body)
	return resp.StatusCode, body.Description
}

func TestResourceMetadata(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.RequireDPoP = true })
	m := v.ResourceMetadata()
	m.ScopesSupported = []string{"read", "write"}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", ResourceMetadataPath, nil))
	want := `{"resource":"https://api.example.io","authorization_servers":["` + fi.srv.URL + `"],` +
		`"scopes_supported":["read","write"],"bearer_methods_supported":["header"],` +
		`"dpop_signing_alg_values_supported":["ES256","EdDSA","PS256","RS256","Ed25519"],"dpop_bound_access_tokens_required":true,` +
		`"tls_client_certificate_bound_access_tokens":true}` + "\n"
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s %s\nwant 200 application/json %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, want)
	}
	rec = httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("POST", ResourceMetadataPath, nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: got %d Allow %q, want 405 GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
	tmpl := newTestVerifier(t, fi, func(c *Config) {
		c.Audience = "https://delivery.example.io/{tenant}"
		c.PublicURL = "https://delivery.example.io/"
	})
	if got := tmpl.ResourceMetadata().Resource; got != "https://delivery.example.io" {
		t.Errorf("template audience: got resource %q, want the public URL", got)
	}
}

func TestResourceMetadataInChallenges(t *testing.T) {
	fi := newIssuer(t, newClock())
	const meta = "https://api.example.io/.well-known/oauth-protected-resource"
	v := newTestVerifier(t, fi, func(c *Config) { c.Realm = "things"; c.ResourceMetadataURL = meta })
	_, all := serveRequest(v.Middleware(okHandler), request{})
	want := []string{`Bearer realm="things", resource_metadata="` + meta + `"`,
		`DPoP realm="things", algs="ES256 EdDSA PS256 RS256 Ed25519", resource_metadata="` + meta + `"`}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", all, want)
	}
	if _, err := New(t.Context(), Config{Issuer: fi.srv.URL, Audience: testAudience, ResourceMetadataURL: "/relative"}); err == nil {
		t.Errorf("a relative ResourceMetadataURL: got nil, want an error")
	}
}

func TestClaimsConfirmation(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	tests := []struct {
		name string
		cnf  any
		want Confirmation
		err  error
	}{
		{"jkt", map[string]any{"jkt": "abc"}, Confirmation{JKT: "abc"}, nil},
		{"x5t#S256", map[string]any{"x5t#S256": "def"}, Confirmation{X5TS256: "def"}, nil},
		{"both", map[string]any{"jkt": "abc", "x5t#S256": "def"}, Confirmation{JKT: "abc", X5TS256: "def"}, nil},
		{"null", nil, Confirmation{}, nil},
		{"an unknown method only", map[string]any{"kid": "k"}, Confirmation{}, ErrMalformed},
		{"not an object", "abc", Confirmation{}, ErrMalformed},
		{"jkt not a string", map[string]any{"jkt": 1}, Confirmation{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), fi.boundToken(t, nil, func(c map[string]any) { c["cnf"] = tt.cnf }))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if err == nil && c.Confirmation != tt.want {
				t.Errorf("got %+v, want %+v", c.Confirmation, tt.want)
			}
		})
	}
}
