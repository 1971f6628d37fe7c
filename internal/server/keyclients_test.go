package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/store"
)

// This file holds what the tests of clients without shared secrets and of
// bound tokens (DESIGN §8) share: the APIs they ask for, clients
// registered with a key or a certificate, client assertions, DPoP proofs,
// and the check that a refusal is the protocol's JSON error.

// The APIs of these tests: one issuing JWTs, one opaque tokens.
const (
	keyAPI    = "https://keys.example.io"
	opaqueAPI = "https://opaque.example.io"
)

const formType = "application/x-www-form-urlencoded"

// seedKeyAPIs creates tenant acme and the two APIs.
func (h *harness) seedKeyAPIs() {
	h.t.Helper()
	h.do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	h.do("POST", "/admin/v1/apis", map[string]any{"audience": keyAPI, "token_ttl": "1h", "signing_alg": "ES256",
		"scopes": []map[string]string{{"name": "read"}}}, nil)
	h.do("POST", "/admin/v1/apis", map[string]any{"audience": opaqueAPI, "token_ttl": "1h", "token_format": "opaque",
		"scopes": []map[string]string{{"name": "read"}}}, nil)
}

// keyGrants are the grants of the clients of these tests.
func keyGrants() *map[string][]string {
	return &map[string][]string{keyAPI: {"read"}, opaqueAPI: {"read"}}
}

// registerClient creates a client of tenant acme granted both APIs and
// registers auth as its authentication method. The admin API creates the
// client (with a secret, kept so tests can show it no longer works); the
// method is written to the store, since the admin API does not take it
// yet on every branch.
func (h *harness) registerClient(name string, auth store.ClientAuth) admin.ClientView {
	h.t.Helper()
	c := h.newClient(adminClientInput(name))
	setClientAuth(h.t, h.srv, c.ClientID, auth)
	return c
}

// adminClientInput is a secret client of tenant acme granted both APIs.
func adminClientInput(name string) admin.ClientInput {
	return admin.ClientInput{Name: &name, Tenant: "acme", Grants: keyGrants()}
}

// setClientAuth writes a client's authentication method to srv's store
// and reloads srv's catalog, as a change made through the admin API would.
func setClientAuth(t *testing.T, srv *Server, id string, auth store.ClientAuth) {
	t.Helper()
	ctx := context.Background()
	if _, err := srv.Store().UpdateClient(ctx, id, func(old store.Client) (store.Client, error) {
		old.Auth = auth
		return old, nil
	}); err != nil {
		t.Fatalf("registering %s's auth method: %v", id, err)
	}
	if err := srv.Catalog().Reload(ctx); err != nil {
		t.Fatal(err)
	}
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwksOf is the JWKS document of one public key, as a client registers it.
func jwksOf(t *testing.T, pub crypto.PublicKey, kid, alg string) string {
	t.Helper()
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// signed is a compact JWS of claims, signed by key with alg and kid.
func signed(t *testing.T, key any, alg, kid string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts.WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionClaims are RFC 7523 claims for clientID addressed to aud,
// valid for two minutes, with a fresh jti.
func assertionClaims(clientID, aud string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "jti": randomID()}
}

// b64JSON is v as base64url JSON, a JWT segment.
func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// assertion is a fresh ES256 client assertion for clientID at aud.
func assertion(t *testing.T, key *ecdsa.PrivateKey, clientID, aud string) string {
	t.Helper()
	return signed(t, key, "ES256", "k1", assertionClaims(clientID, aud))
}

// proof is a DPoP proof by key for method and url (ath for token when set).
func proof(t *testing.T, key crypto.Signer, method, url, token, nonce string) string {
	t.Helper()
	p, err := dpop.NewProof(key, "ES256", method, url, token, nonce, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func thumbprint(t *testing.T, key crypto.Signer) string {
	t.Helper()
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return jkt
}

// payloadOf decodes a JWT's claims without verifying it (the tests that
// use it check bindings; signatures are checked elsewhere).
func payloadOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s...", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// cnfOf is a JWT's cnf claim, or nil.
func cnfOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	cnf, _ := payloadOf(t, jwt)["cnf"].(map[string]any)
	return cnf
}

// boundIntrospection is what introspection says about a bound token.
type boundIntrospection struct {
	Active    bool              `json:"active"`
	ClientID  string            `json:"client_id"`
	TokenType string            `json:"token_type"`
	Cnf       map[string]string `json:"cnf"`
}

// send does req with client and returns status, headers and body.
func send(t *testing.T, client *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// postForm posts a form to url with extra headers through client.
func postForm(t *testing.T, client *http.Client, url, body string, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", formType)
	for k, vs := range header {
		req.Header[k] = vs
	}
	return send(t, client, req)
}

// wantOK decodes a 200 token response, failing the test on anything else.
func wantOK(t *testing.T, what string, status int, body []byte) tokenResponse {
	t.Helper()
	var out tokenResponse
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		t.Fatalf("%s: got %d %s, want 200 and a token", what, status, body)
	}
	return out
}

// wantError checks a refusal: the status and error code wanted, in the
// protocol's JSON body ({"error","error_description"}), never a 500.
func wantError(t *testing.T, what string, status int, header http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: got %d %s, want %d %s and never a server error", what, status, body, wantStatus, wantCode)
		return
	}
	if ct, _, _ := mime.ParseMediaType(header.Get("Content-Type")); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, header.Get("Content-Type"))
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: body %q is not a JSON error: %v", what, body, err)
	}
	if status != wantStatus || e.Error != wantCode {
		t.Errorf("%s: got %d %q (%s), want %d %q", what, status, e.Error, e.Description, wantStatus, wantCode)
	}
}
