package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/verify"
)

// exampleIssuer stands in for gatehouse: it serves the RFC 8414 metadata and
// the JWKS of one Ed25519 key, and mints access tokens with that key.
type exampleIssuer struct {
	*httptest.Server
	signer jose.Signer
}

func startIssuer() *exampleIssuer {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		log.Fatal(err)
	}
	is := &exampleIssuer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: pub, KeyID: "k1", Algorithm: string(jose.EdDSA), Use: "sig"}}})
	})
	is.Server = httptest.NewServer(mux)
	return is
}

// mint returns a token as gatehouse issues it to client c_123.
func (is *exampleIssuer) mint(audience, scope, environment string) string {
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{
		"iss": is.URL, "sub": "c_123@clients", "aud": audience, "iat": now, "exp": now + 900,
		"jti": "j1", "client_id": "c_123", "azp": "c_123", "scope": scope,
		"gty": "client-credentials", "tenant": "acme", "environment": environment,
	})
	jws, err := is.signer.Sign(payload)
	if err != nil {
		log.Fatal(err)
	}
	token, _ := jws.CompactSerialize()
	return token
}

// A product API protects its routes with the middleware, and one route
// further with a scope.
func Example() {
	issuer := startIssuer()
	defer issuer.Close()

	v, err := verify.New(context.Background(), verify.Config{
		Issuer:   issuer.URL, // gatehouse's --issuer
		Audience: "https://api.example.io",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /things", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "things for %s", claims.ClientID)
	}))
	mux.Handle("DELETE /things", verify.RequireScope("things:delete")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	api := v.Middleware(mux)

	call := func(method, token string) {
		req := httptest.NewRequest(method, "/things", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		line := fmt.Sprint(method, " ", rec.Code)
		if c := rec.Header().Get("WWW-Authenticate"); c != "" {
			line += " " + c
		}
		fmt.Println(line)
	}
	token := issuer.mint("https://api.example.io", "things:read", "qa")
	call("GET", "")
	call("GET", token)
	call("GET", token+"x")
	call("DELETE", token)
	// Output:
	// GET 401 Bearer realm="https://api.example.io"
	// GET 200
	// GET 401 Bearer realm="https://api.example.io", error="invalid_token", error_description="invalid signature"
	// DELETE 403 Bearer realm="https://api.example.io", error="insufficient_scope", error_description="the token lacks a required scope", scope="things:delete"
}

func ExampleVerifier_Verify() {
	issuer := startIssuer()
	defer issuer.Close()

	v, err := verify.New(context.Background(), verify.Config{Issuer: issuer.URL, Audience: "https://api.example.io"})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), issuer.mint("https://api.example.io", "read write", "qa"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.ClientID, claims.Tenant, claims.Environment, claims.Scopes)

	_, err = v.Verify(context.Background(), issuer.mint("https://other.example.io", "read", "qa"))
	fmt.Println(err)
	// Output:
	// c_123 acme qa [read write]
	// verify: wrong audience: got ["https://other.example.io"]
}

// An API that serves one environment refuses the tokens of automation
// clients of other environments.
func ExampleRequireEnvironment() {
	issuer := startIssuer()
	defer issuer.Close()

	v, err := verify.New(context.Background(), verify.Config{Issuer: issuer.URL, Audience: "https://api.example.io"})
	if err != nil {
		log.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	api := v.Middleware(verify.RequireEnvironment("production")(ok))
	for _, env := range []string{"production", "qa"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+issuer.mint("https://api.example.io", "read", env))
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Println(env, rec.Code)
	}
	// Output:
	// production 200
	// qa 403
}

// An API behind a proxy names its public URL, so that DPoP proofs are
// checked against the URL clients call, and publishes its RFC 9728
// metadata. A request without a token learns both schemes it may use.
func ExampleVerifier_ResourceMetadata() {
	issuer := startIssuer()
	defer issuer.Close()

	const public = "https://api.example.io"
	v, err := verify.New(context.Background(), verify.Config{
		Issuer:              issuer.URL,
		Audience:            public,
		PublicURL:           public, // the proxy in front terminates TLS
		ResourceMetadataURL: public + verify.ResourceMetadataPath,
	})
	if err != nil {
		log.Fatal(err)
	}
	meta := v.ResourceMetadata()
	meta.ScopesSupported = []string{"things:read"}
	mux := http.NewServeMux()
	mux.Handle("GET "+verify.ResourceMetadataPath, meta)
	mux.Handle("/things", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/things", nil))
	for _, c := range rec.Header().Values("WWW-Authenticate") {
		fmt.Println(c)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", verify.ResourceMetadataPath, nil))
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	fmt.Println(doc["resource"], doc["dpop_signing_alg_values_supported"], doc["scopes_supported"])
	// Output:
	// Bearer realm="https://api.example.io", resource_metadata="https://api.example.io/.well-known/oauth-protected-resource"
	// DPoP realm="https://api.example.io", algs="ES256 EdDSA PS256 RS256 Ed25519", resource_metadata="https://api.example.io/.well-known/oauth-protected-resource"
	// https://api.example.io [ES256 EdDSA PS256 RS256 Ed25519] [things:read]
}
