package fedtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is a local token issuer. Its zero value is not usable: make one
// with New (served over HTTP or TLS) or NewStatic (no server: a cluster
// whose keys are registered as a static JWKS).
type Issuer struct {
	// URL is the issuer identifier, the "iss" of its tokens.
	URL string
	// Server is the httptest server, nil for a static issuer.
	Server *httptest.Server

	alg string

	mu        sync.Mutex
	keys      []signingKey // the last one signs; all are published
	jwksBody  []byte       // when set, served in place of the real JWKS
	down      atomic.Bool
	jwksHits  atomic.Int64
	discovery atomic.Int64
}

type signingKey struct {
	kid  string
	priv crypto.Signer
}

// Options choose how the issuer is served.
type Options struct {
	// Alg is the signing algorithm: ES256 (default) or RS256.
	Alg string
	// TLS serves over httptest TLS (use Client for its certificate).
	TLS bool
}

// New starts an issuer serving /.well-known/openid-configuration and
// /keys. Close it with Close.
func New(opts Options) *Issuer {
	is := &Issuer{alg: alg(opts.Alg)}
	is.Rotate()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.serveDiscovery)
	mux.HandleFunc("GET /keys", is.serveJWKS)
	if opts.TLS {
		is.Server = httptest.NewTLSServer(mux)
	} else {
		is.Server = httptest.NewServer(mux)
	}
	is.URL = is.Server.URL
	return is
}

// NewStatic returns an issuer with no server, whose keys a trust holds as
// a static JWKS (JWKS).
func NewStatic(url, algName string) *Issuer {
	is := &Issuer{URL: url, alg: alg(algName)}
	is.Rotate()
	return is
}

func alg(a string) string {
	if a == "" {
		return "ES256"
	}
	return a
}

// Close stops the server.
func (is *Issuer) Close() {
	if is.Server != nil {
		is.Server.Close()
	}
}

// Client is an HTTP client that trusts the server's certificate.
func (is *Issuer) Client() *http.Client { return is.Server.Client() }

// JWKSURI is where the issuer publishes its keys.
func (is *Issuer) JWKSURI() string { return is.URL + "/keys" }

// Alg is the algorithm the issuer signs with.
func (is *Issuer) Alg() string { return is.alg }

// Rotate adds a new signing key; the earlier ones stay published.
func (is *Issuer) Rotate() string {
	var priv crypto.Signer
	var err error
	if is.alg == "RS256" {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		panic(err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	kid := fmt.Sprintf("key-%d", len(is.keys)+1)
	is.keys = append(is.keys, signingKey{kid: kid, priv: priv})
	return kid
}

// DropOldKeys unpublishes every key but the current one.
func (is *Issuer) DropOldKeys() {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = is.keys[len(is.keys)-1:]
}

// SetDown makes the server answer 503 to everything (true) or serve
// again (false).
func (is *Issuer) SetDown(down bool) { is.down.Store(down) }

// ServeJWKS makes /keys answer body in place of the real key set (nil:
// the real one again), for oversized or malformed documents.
func (is *Issuer) ServeJWKS(body []byte) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.jwksBody = body
}

// Fetches reports how many times the JWKS and the discovery document
// were served.
func (is *Issuer) Fetches() (jwks, discovery int64) { return is.jwksHits.Load(), is.discovery.Load() }

// JWKS is the published key set as a JSON document.
func (is *Issuer) JWKS() string {
	is.mu.Lock()
	defer is.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range is.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: is.alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (is *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	if is.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	is.discovery.Add(1)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": is.URL, "jwks_uri": is.JWKSURI(),
		"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{is.alg},
	})
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	if is.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	is.jwksHits.Add(1)
	is.mu.Lock()
	body := is.jwksBody
	is.mu.Unlock()
	if body == nil {
		body = []byte(is.JWKS())
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=300")
	w.Write(body)
}

// Sign signs claims with the current key (header alg, kid, typ JWT).
func (is *Issuer) Sign(claims map[string]any) string {
	is.mu.Lock()
	k := is.keys[len(is.keys)-1]
	is.mu.Unlock()
	return SignWith(k.priv, is.alg, k.kid, claims)
}

// SignWith signs claims with any key: a key the issuer does not publish,
// for tests of unknown keys.
func SignWith(priv crypto.Signer, alg, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, opts)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// Unsigned returns claims as an "alg": "none" token, which must never be
// accepted.
func Unsigned(claims map[string]any) string {
	return part(map[string]any{"alg": "none", "typ": "JWT"}) + "." + part(claims) + "."
}

// HMAC returns claims signed with HS256 under key (for instance the
// issuer's public JWKS, the classic confusion attack), which must never
// be accepted.
func HMAC(key []byte, kid string, claims map[string]any) string {
	input := part(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + part(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func part(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Lifetime is when a token is issued and how long it lives.
type Lifetime struct {
	Now time.Time
	TTL time.Duration
}

func (l Lifetime) stamp(c map[string]any) map[string]any {
	now := l.Now
	if now.IsZero() {
		now = time.Now()
	}
	ttl := l.TTL
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	c["iat"], c["nbf"], c["exp"] = now.Unix(), now.Unix(), now.Add(ttl).Unix()
	return c
}
