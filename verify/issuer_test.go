package verify

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testkeys"
	jose "github.com/go-jose/go-jose/v4"
)

// This file holds the test fixtures: a fake gatehouse issuer served by
// httptest, its keys, and a clock the tests move by hand.

const testAudience = "https://api.example.io"

// signingKey is a private key with the kid and alg the issuer publishes.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// testKeys are generated once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]signingKey {
	return map[string]signingKey{
		"rsa":      {kid: "rsa-1", alg: jose.RS256, priv: testkeys.RSA()},
		"ec":       {kid: "ec-1", alg: jose.ES256, priv: testkeys.EC()},
		"ed":       {kid: "ed-1", alg: jose.EdDSA, priv: testkeys.Ed25519()},
		"rotated":  {kid: "rsa-2", alg: jose.RS256, priv: testkeys.RSA()},
		"attacker": {kid: "evil-1", alg: jose.RS256, priv: testkeys.RSA()},
	}
})

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_750_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeIssuer serves RFC 8414 metadata and a JWKS, and counts the requests.
type fakeIssuer struct {
	srv         *httptest.Server
	clock       *fakeClock
	jwksFetches atomic.Int32
	metaFetches atomic.Int32

	mu     sync.Mutex
	keys   []jose.JSONWebKey
	maxAge string
}

func newIssuer(t testing.TB, clock *fakeClock) *fakeIssuer {
	t.Helper()
	fi := &fakeIssuer{clock: clock, maxAge: "300"}
	for _, name := range []string{"rsa", "ec", "ed"} {
		fi.keys = append(fi.keys, testKeys()[name].public())
	}
	mux := http.NewServeMux()
	meta := func(w http.ResponseWriter, r *http.Request) {
		fi.metaFetches.Add(1)
		writeTestJSON(w, map[string]string{"issuer": fi.srv.URL, "jwks_uri": fi.srv.URL + "/.well-known/jwks.json"})
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", meta)
	mux.HandleFunc("GET /.well-known/openid-configuration", meta)
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		fi.jwksFetches.Add(1)
		fi.mu.Lock()
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), fi.keys...)}
		w.Header().Set("Cache-Control", "public, max-age="+fi.maxAge)
		fi.mu.Unlock()
		writeTestJSON(w, set)
	})
	fi.srv = httptest.NewServer(mux)
	t.Cleanup(fi.srv.Close)
	return fi
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// publish adds a key to the JWKS, as a key rotation does.
func (fi *fakeIssuer) publish(k signingKey) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.keys = append(fi.keys, k.public())
}

// claims returns the claims gatehouse puts in a token issued now.
func (fi *fakeIssuer) claims() map[string]any {
	now := fi.clock.Now().Unix()
	return map[string]any{
		"iss":         fi.srv.URL,
		"sub":         "c_123@clients",
		"aud":         testAudience,
		"iat":         now,
		"exp":         now + 900,
		"jti":         "jti-1",
		"client_id":   "c_123",
		"azp":         "c_123",
		"scope":       "read write",
		"gty":         "client-credentials",
		"tenant":      "acme",
		"environment": "qa",
		"service":     "streaming-property",
	}
}

// token signs claims with k, typ at+jwt and the extra headers given.
func (fi *fakeIssuer) token(t testing.TB, k signingKey, claims map[string]any, extra map[string]any) string {
	t.Helper()
	return signWith(t, k.alg, k, claims, extra)
}

// signWith signs with k's private key but any algorithm that key supports.
func signWith(t testing.TB, alg jose.SignatureAlgorithm, k signingKey, claims, extra map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	for name, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
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

// rawToken builds a compact JWS by hand, for tokens go-jose refuses to make.
func rawToken(t testing.TB, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

// newTestVerifier returns a Verifier for fi on fi's clock.
func newTestVerifier(t testing.TB, fi *fakeIssuer, modify ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: fi.srv.URL, Audience: testAudience, Now: fi.clock.Now}
	for _, m := range modify {
		m(&cfg)
	}
	v, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}
