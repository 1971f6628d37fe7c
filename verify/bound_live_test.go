package verify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// TestMiddlewareHoldsGatehouseBoundTokens puts the middleware in front of
// a test API served over TLS (asking for client certificates) and calls
// it with tokens a real gatehouse bound: a DPoP-bound token passes only
// with a fresh proof of its key, never as Bearer; a certificate-bound one
// (issued behind a proxy that passed the certificate in a header) passes
// only over a connection presenting that certificate.
func TestMiddlewareHoldsGatehouseBoundTokens(t *testing.T) {
	ca := mtlstest.NewCA(t, "client CA")
	caFile := mtlstest.WritePEM(t, filepath.Join(t.TempDir(), "ca.pem"), ca.Cert)
	const certHeader = "X-SSL-Client-Cert"
	g := servertest.Start(t, func(c *config.Config) {
		c.ClientCA, c.ClientCertHeader, c.TrustedProxies = caFile, certHeader, []string{"127.0.0.1/32"}
	}, server.Options{})
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": liveAudience, "token_ttl": "1h",
		"scopes": []map[string]string{{"name": "read"}}}, nil)
	var holder, billing admin.ClientView
	grants := map[string][]string{liveAudience: {"read"}}
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "holder", "tenant": "acme", "grants": grants}, &holder)
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "billing", "tenant": "acme", "grants": grants}, &billing)
	g.SetClientAuth(billing.ClientID, store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDN, TLSSubject: "CN=billing"})

	v, err := verify.New(context.Background(), verify.Config{Issuer: g.Config.Issuer, Audience: liveAudience})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewUnstartedServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		io.WriteString(w, c.ClientID)
	})))
	api.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	api.StartTLS()
	defer api.Close()
	// presenting returns an HTTPS client of the API with cert (nil: none).
	presenting := func(cert *mtlstest.Leaf) *http.Client {
		tr := api.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{cert.TLSCertificate()}
		}
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	endpoint := api.URL + "/orders"

	t.Run("DPoP-bound", func(t *testing.T) {
		key := newKey(t)
		tok := liveToken(t, g, url.Values{"client_id": {holder.ClientID}, "client_secret": {holder.ClientSecret}},
			http.Header{"DPoP": {newProof(t, key, "POST", g.Config.Issuer+"/oauth/token", "")}}, "DPoP")
		good := newProof(t, key, "GET", endpoint, tok)
		for _, tt := range []struct {
			name, scheme, proof string
			want                int
			wantCode            string
		}{
			{"as Bearer", "Bearer", "", 401, "invalid_token"},
			{"with a proof by another key", "DPoP", newProof(t, newKey(t), "GET", endpoint, tok), 401, "invalid_dpop_proof"},
			{"with a proof for another URL", "DPoP", newProof(t, key, "GET", api.URL+"/other", tok), 401, "invalid_dpop_proof"},
			{"with the right proof", "DPoP", good, 200, ""},
			{"with the right proof again", "DPoP", good, 401, "invalid_dpop_proof"},
		} {
			status, code, body := callAPI(t, presenting(nil), endpoint, tt.scheme+" "+tok, tt.proof)
			if status != tt.want || code != tt.wantCode {
				t.Errorf("%s: got %d %q %s, want %d %q", tt.name, status, code, body, tt.want, tt.wantCode)
			}
		}
	})

	t.Run("certificate-bound", func(t *testing.T) {
		cert := ca.Client(t, "billing")
		tok := liveToken(t, g, url.Values{"client_id": {billing.ClientID}},
			http.Header{certHeader: {mtlstest.EscapedPEM(cert.Cert)}}, "Bearer")
		for _, tt := range []struct {
			name     string
			cert     *mtlstest.Leaf
			want     int
			wantCode string
		}{
			{"without a certificate", nil, 401, "invalid_token"},
			{"with another certificate", ca.Client(t, "billing"), 401, "invalid_token"},
			{"with its certificate", cert, 200, ""},
		} {
			status, code, body := callAPI(t, presenting(tt.cert), endpoint, "Bearer "+tok, "")
			if status != tt.want || code != tt.wantCode {
				t.Errorf("%s: got %d %q %s, want %d %q", tt.name, status, code, body, tt.want, tt.wantCode)
			}
		}
	})
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newProof(t *testing.T, key crypto.Signer, method, u, token string) string {
	t.Helper()
	p, err := dpop.NewProof(key, "ES256", method, u, token, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// liveToken asks g for a token for liveAudience with credentials and
// headers, and wants one of tokenType.
func liveToken(t *testing.T, g *servertest.Gatehouse, creds url.Values, header http.Header, tokenType string) string {
	t.Helper()
	creds.Set("grant_type", "client_credentials")
	creds.Set("audience", liveAudience)
	req, _ := http.NewRequest("POST", g.URL+"/oauth/token", strings.NewReader(creds.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.TokenType != tokenType {
		t.Fatalf("token: got %d %+v, %v; want a %s token", resp.StatusCode, out, err, tokenType)
	}
	return out.AccessToken
}

// callAPI sends GET u with the Authorization header and proof (if any),
// and returns the status, the JSON error code and the body.
func callAPI(t *testing.T, client *http.Client, u, authorization, proof string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("GET %s: a %d without a JSON error body: %q", u, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, e.Error, string(body)
}
