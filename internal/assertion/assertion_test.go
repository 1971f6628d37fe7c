package assertion

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/jwks"
)

var (
	_ KeyFinder = (*jwks.Set)(nil)
	_ KeyFinder = (*jwks.Remote)(nil)
)

func TestVerifyAccepts(t *testing.T) {
	keys := clientKeys(t)
	k := testKeys()
	tests := []struct {
		name  string
		key   signingKey
		alg   jose.SignatureAlgorithm
		claim func(c map[string]any)
	}{
		{"RS256", k["rsa"], jose.RS256, nil},
		{"ES256", k["ec"], jose.ES256, nil},
		{"EdDSA", k["ed"], jose.EdDSA, nil},
		{"PS256 with an RSA key registered without alg", k["rsa-no-alg"], jose.PS256, nil},
		{"RS256 with an RSA key registered without alg", k["rsa-no-alg"], jose.RS256, nil},
		{"no kid, one of several EC keys", noKid(k["ec2"]), jose.ES256, nil},
		{"no kid, RSA", noKid(k["rsa"]), jose.RS256, nil},
		{"aud a list holding the issuer", k["ec"], jose.ES256, func(c map[string]any) { c["aud"] = []string{"x", testIssuer} }},
		{"expired within the leeway", k["ec"], jose.ES256, func(c map[string]any) { c["exp"] = testNow.Unix() - 29 }},
		{"nbf within the leeway", k["ec"], jose.ES256, func(c map[string]any) { c["nbf"] = testNow.Unix() + 30 }},
		{"lifetime exactly the maximum", k["ec"], jose.ES256, func(c map[string]any) { c["exp"] = testNow.Unix() + 300 }},
		{"fractional dates", k["ec"], jose.ES256, func(c map[string]any) { c["iat"], c["exp"] = float64(testNow.Unix())+0.5, float64(testNow.Unix())+60.5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := clientClaims()
			claims["custom"] = map[string]any{"n": 7}
			if tt.claim != nil {
				tt.claim(claims)
			}
			c, err := Verify(t.Context(), sign(t, tt.key, tt.alg, claims, nil), keys, clientExpect())
			if err != nil {
				t.Fatalf("Verify: got %v, want nil", err)
			}
			wantKID := tt.key.kid
			if wantKID == "-" {
				wantKID = ""
			}
			if c.Issuer != testClient || c.Subject != testClient || c.JTI != "jti-1" || c.KeyID != wantKID || c.Algorithm != string(tt.alg) {
				t.Errorf("claims: got iss %q sub %q jti %q kid %q alg %q", c.Issuer, c.Subject, c.JTI, c.KeyID, c.Algorithm)
			}
			if got, want := c.AcceptedUntil, c.Expiry.Add(DefaultLeeway); !got.Equal(want) {
				t.Errorf("AcceptedUntil: got %v, want %v", got, want)
			}
			if got := c.Raw["custom"].(map[string]any)["n"]; got != float64(7) {
				t.Errorf("Raw[custom][n]: got %#v, want float64(7)", got)
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	keys := clientKeys(t)
	ec := testKeys()["ec"]
	now := testNow.Unix()
	tests := []struct {
		name   string
		claims func(c map[string]any)
		expect func(e *Expect)
		want   error
	}{
		{"wrong issuer", func(c map[string]any) { c["iss"] = "c_other" }, nil, ErrIssuer},
		{"no issuer", func(c map[string]any) { delete(c, "iss") }, nil, ErrIssuer},
		{"issuer a number", func(c map[string]any) { c["iss"] = 7 }, nil, ErrMalformed},
		{"any issuer", func(c map[string]any) { c["iss"] = "c_other" }, func(e *Expect) { e.Issuer = "" }, nil},
		{"wrong subject", func(c map[string]any) { c["sub"] = "c_other" }, nil, ErrSubject},
		{"any subject", func(c map[string]any) { c["sub"] = "c_other" }, func(e *Expect) { e.Subject = "" }, nil},
		{"wrong audience", func(c map[string]any) { c["aud"] = "https://other.example.io" }, nil, ErrAudience},
		{"audience list without ours", func(c map[string]any) { c["aud"] = []string{"a", "b"} }, nil, ErrAudience},
		{"no audience", func(c map[string]any) { delete(c, "aud") }, nil, ErrAudience},
		{"audience a number", func(c map[string]any) { c["aud"] = 1 }, nil, ErrMalformed},
		{"no audience expected", nil, func(e *Expect) { e.Audiences = nil }, ErrAudience},
		{"expired", func(c map[string]any) { c["exp"] = now - 31 }, nil, ErrExpired},
		{"expired at the leeway", func(c map[string]any) { c["exp"] = now - 30 }, nil, ErrExpired},
		{"expired, no leeway", func(c map[string]any) { c["exp"] = now }, func(e *Expect) { e.Leeway = -1 }, ErrExpired},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, nil, ErrMalformed},
		{"exp a string", func(c map[string]any) { c["exp"] = "soon" }, nil, ErrMalformed},
		{"exp huge", func(c map[string]any) { c["exp"] = 1e300 }, nil, ErrMalformed},
		{"exp negative", func(c map[string]any) { c["exp"] = -1 }, nil, ErrMalformed},
		{"far-future exp", func(c map[string]any) { c["exp"] = now + 365*24*3600 }, nil, ErrLifetime},
		{"far-future exp, old iat", func(c map[string]any) { c["iat"], c["exp"] = now-3600, now+60 }, nil, ErrLifetime},
		{"lifetime a second too long", func(c map[string]any) { c["exp"] = now + 301 }, nil, ErrLifetime},
		{"no iat with MaxLifetime", func(c map[string]any) { delete(c, "iat") }, nil, ErrLifetime},
		{"no iat, no MaxLifetime", func(c map[string]any) { delete(c, "iat") }, func(e *Expect) { e.MaxLifetime = 0 }, nil},
		{"far-future exp, no MaxLifetime", func(c map[string]any) { c["exp"] = now + 365*24*3600 }, func(e *Expect) { e.MaxLifetime = 0 }, nil},
		{"nbf in the future", func(c map[string]any) { c["nbf"] = now + 31 }, nil, ErrNotYetValid},
		{"iat in the future", func(c map[string]any) { c["iat"], c["exp"] = now+31, now+90 }, nil, ErrNotYetValid},
		{"too old", func(c map[string]any) { c["iat"] = now - 3600 }, func(e *Expect) { e.MaxAge, e.MaxLifetime = 10*time.Minute, 0 }, ErrTooOld},
		{"old within MaxAge and leeway", func(c map[string]any) { c["iat"] = now - 630 }, func(e *Expect) { e.MaxAge, e.MaxLifetime = 10*time.Minute, 0 }, nil},
		{"no iat with MaxAge", func(c map[string]any) { delete(c, "iat") }, func(e *Expect) { e.MaxAge, e.MaxLifetime = 10*time.Minute, 0 }, ErrTooOld},
		{"missing jti", func(c map[string]any) { delete(c, "jti") }, nil, ErrMissingJTI},
		{"empty jti", func(c map[string]any) { c["jti"] = "" }, nil, ErrMissingJTI},
		{"jti not required", func(c map[string]any) { delete(c, "jti") }, func(e *Expect) { e.RequireJTI = false }, nil},
		{"jti a number", func(c map[string]any) { c["jti"] = 5 }, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, want := clientClaims(), clientExpect()
			if tt.claims != nil {
				tt.claims(claims)
			}
			if tt.expect != nil {
				tt.expect(&want)
			}
			c, err := Verify(t.Context(), sign(t, ec, jose.ES256, claims, nil), keys, want)
			checkErr(t, c, err, tt.want)
		})
	}
}

// checkErr fails unless err is want (nil: accepted), and claims come only
// without an error.
func checkErr(t *testing.T, c *Claims, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("Verify: got %v, want nil", err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("Verify: got %v, want %v", err, want)
	case err != nil && c != nil:
		t.Errorf("Verify: got claims %+v with error %v", c, err)
	case err == nil && c == nil:
		t.Error("Verify: got no claims and no error")
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	keys := clientKeys(t)
	k := testKeys()
	claims := clientClaims()
	valid := sign(t, k["rsa"], jose.RS256, claims, nil)
	parts := strings.Split(valid, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	other := clientClaims()
	other["sub"] = "c_victim"
	otherPayload, _ := json.Marshal(other)
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(otherPayload) + "." + parts[2]

	pub := k["rsa"].priv.Public().(*rsa.PublicKey)
	pkixDER, _ := x509.MarshalPKIXPublicKey(pub)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwkJSON, _ := json.Marshal(k["rsa"].public(true))
	hs256 := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		}
	}
	hsHeader := map[string]any{"alg": "HS256", "kid": "rsa-1"}
	none := func([]byte) []byte { return nil }
	tooManyKeys := func() KeyFinder {
		var many []jwks.Key
		for range maxCandidates + 1 {
			many = append(many, jwks.Key{Alg: "ES256", Public: k["ec2"].priv.Public()})
		}
		return jwks.NewSet(many...)
	}()
	tests := []struct {
		name  string
		token string
		keys  KeyFinder
		want  error
	}{
		{"signature byte flipped", flipped, nil, ErrSignature},
		{"payload swapped", swapped, nil, ErrSignature},
		{"alg none", rawToken(t, map[string]any{"alg": "none", "kid": "rsa-1"}, claims, none), nil, ErrAlgorithm},
		{"alg none, no kid", rawToken(t, map[string]any{"alg": "none"}, claims, none), nil, ErrAlgorithm},
		{"alg None", rawToken(t, map[string]any{"alg": "None"}, claims, none), nil, ErrAlgorithm},
		{"HS256 with the PEM public key as secret", rawToken(t, hsHeader, claims, hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER}))), nil, ErrAlgorithm},
		{"HS256 with the PKCS1 PEM as secret", rawToken(t, hsHeader, claims, hs256(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}))), nil, ErrAlgorithm},
		{"HS256 with the DER public key as secret", rawToken(t, hsHeader, claims, hs256(pkixDER)), nil, ErrAlgorithm},
		{"HS256 with the JWK as secret", rawToken(t, hsHeader, claims, hs256(jwkJSON)), nil, ErrAlgorithm},
		{"RS384, not allowed by default", sign(t, k["rsa-no-alg"], jose.RS384, claims, nil), nil, ErrAlgorithm},
		{"a foreign key under the client's kid", sign(t, k["foreign"], jose.RS256, claims, nil), nil, ErrSignature},
		{"a foreign EC key, no kid", sign(t, noKid(k["foreign-ec"]), jose.ES256, claims, nil), nil, ErrSignature},
		{"an unknown kid", sign(t, signingKey{kid: "nope", priv: k["ec"].priv}, jose.ES256, claims, nil), nil, ErrUnknownKey},
		{"PS256 with a key registered for RS256", sign(t, k["rsa"], jose.PS256, claims, nil), nil, ErrUnknownKey},
		{"RS256 under an EC key's kid", sign(t, signingKey{kid: "ec-1", priv: k["rsa"].priv}, jose.RS256, claims, nil), nil, ErrUnknownKey},
		{"no kid and more keys than are tried", sign(t, noKid(k["ec2"]), jose.ES256, claims, nil), tooManyKeys, ErrUnknownKey},
		{"crit header", sign(t, k["ec"], jose.ES256, claims, map[string]any{"crit": []string{"exp"}, "exp": 1}), nil, ErrMalformed},
		{"empty", "", nil, ErrMalformed},
		{"two parts", "a.b", nil, ErrMalformed},
		{"five parts (JWE)", "a.b.c.d.e", nil, ErrMalformed},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, nil, ErrMalformed},
		{"oversized", strings.Repeat("a", maxTokenBytes+1), nil, ErrMalformed},
		{"leading space", " " + valid, nil, ErrMalformed},
		{"claims an array", rawSigned(t, k["ec"], "[]"), nil, ErrMalformed},
		{"claims null", rawSigned(t, k["ec"], "null"), nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			finder := tt.keys
			if finder == nil {
				finder = keys
			}
			c, err := Verify(t.Context(), tt.token, finder, clientExpect())
			checkErr(t, c, err, tt.want)
		})
	}
}

// rawSigned signs an arbitrary payload with k under ES256.
func rawSigned(t testing.TB, k signingKey, payload string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyAlgs(t *testing.T) {
	keys := clientKeys(t)
	k := testKeys()
	es256 := sign(t, k["ec"], jose.ES256, clientClaims(), nil)
	rs384 := sign(t, k["rsa-no-alg"], jose.RS384, clientClaims(), nil)
	hs256 := rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, clientClaims(), func([]byte) []byte { return []byte("x") })
	tests := []struct {
		name  string
		algs  []string
		token string
		want  error
	}{
		{"ES256 only allows ES256", []string{"ES256"}, es256, nil},
		{"EdDSA only refuses ES256", []string{"EdDSA"}, es256, ErrAlgorithm},
		{"RS384 when asked for", []string{"RS384"}, rs384, nil},
		{"HS256 is never allowed", []string{"HS256", "ES256"}, hs256, ErrAlgorithm},
		{"none is never allowed", []string{"none"}, es256, ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := clientExpect()
			want.Algs = tt.algs
			c, err := Verify(t.Context(), tt.token, keys, want)
			checkErr(t, c, err, tt.want)
		})
	}
	if got := DefaultAlgs(); strings.Join(got, ",") != "RS256,PS256,ES256,EdDSA" {
		t.Errorf("DefaultAlgs: got %v", got)
	}
}

func TestVerifyType(t *testing.T) {
	keys := clientKeys(t)
	ec := testKeys()["ec"]
	tests := []struct {
		want string
		typ  any // nil: no typ header
		err  error
	}{
		{"", "at+jwt", nil},
		{"", nil, nil},
		{"JWT", "JWT", nil},
		{"JWT", "jwt", nil},
		{"JWT", "application/jwt", nil},
		{"application/JWT", "JWT", nil},
		{"client-authentication+jwt", "client-authentication+jwt", nil},
		{"JWT", "at+jwt", ErrType},
		{"JWT", nil, ErrType},
		{"JWT", 1, ErrType},
	}
	for _, tt := range tests {
		var extra map[string]any
		if tt.typ != nil {
			extra = map[string]any{"typ": tt.typ}
		}
		want := clientExpect()
		want.Type = tt.want
		c, err := Verify(t.Context(), sign(t, ec, jose.ES256, clientClaims(), extra), keys, want)
		t.Run(tt.want+"/"+strings.ReplaceAll(fmtAny(tt.typ), "/", "|"), func(t *testing.T) { checkErr(t, c, err, tt.err) })
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestVerifyIgnoresKeyHeaders: keys named or carried by the token are
// never used or fetched.
func TestVerifyIgnoresKeyHeaders(t *testing.T) {
	keys := clientKeys(t)
	var hits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testKeys()["foreign"].public(true)}})
	}))
	defer attacker.Close()
	foreign := testKeys()["foreign"]
	cert := selfSigned(t, foreign)
	claims := clientClaims()
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"jku", sign(t, foreign, jose.RS256, claims, map[string]any{"jku": attacker.URL}), ErrSignature},
		{"x5u", sign(t, foreign, jose.RS256, claims, map[string]any{"x5u": attacker.URL}), ErrSignature},
		{"embedded jwk", sign(t, foreign, jose.RS256, claims, map[string]any{"jwk": foreign.public(true)}), ErrSignature},
		{"embedded jwk, no kid", sign(t, noKid(foreign), jose.RS256, claims, map[string]any{"jwk": foreign.public(true)}), ErrSignature},
		{"x5c", sign(t, foreign, jose.RS256, claims, map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(cert)}}), ErrSignature},
		{"jku on a good token", sign(t, testKeys()["rsa"], jose.RS256, claims, map[string]any{"jku": attacker.URL}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Verify(t.Context(), tt.token, keys, clientExpect())
			checkErr(t, c, err, tt.want)
		})
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("requests to the jku/x5u server: got %d, want 0", got)
	}
}

// selfSigned is a certificate for k's public key, signed by k.
func selfSigned(t testing.TB, k signingKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.priv.Public(), k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// failingFinder is a KeyFinder whose keys cannot be had.
type failingFinder struct{ err error }

func (f failingFinder) Lookup(context.Context, string, string) ([]jwks.Key, error) { return nil, f.err }

// unfitFinder returns a key whatever it is asked, as a careless KeyFinder might.
type unfitFinder struct{ key jwks.Key }

func (f unfitFinder) Lookup(context.Context, string, string) ([]jwks.Key, error) {
	return []jwks.Key{f.key}, nil
}

func TestVerifyKeyFinder(t *testing.T) {
	k := testKeys()
	down := errors.New("jwks_uri unreachable")
	_, err := Verify(t.Context(), sign(t, k["ec"], jose.ES256, clientClaims(), nil), failingFinder{down}, clientExpect())
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, down) {
		t.Errorf("failing finder: got %v, want ErrUnknownKey wrapping %v", err, down)
	}
	// An RS256 key handed back for a PS256 signature is not used.
	rsaKey := jwks.Key{KID: "rsa-1", Alg: "RS256", Public: k["rsa"].priv.Public()}
	_, err = Verify(t.Context(), sign(t, k["rsa"], jose.PS256, clientClaims(), nil), unfitFinder{rsaKey}, clientExpect())
	if !errors.Is(err, ErrSignature) {
		t.Errorf("unfit key: got %v, want ErrSignature", err)
	}
}

// TestVerifyWithRemote: a client's jwks_uri, cached, refreshed once when
// the client signs with a key it has just added.
func TestVerifyWithRemote(t *testing.T) {
	k := testKeys()
	var published atomic.Pointer[jose.JSONWebKeySet]
	published.Store(&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k["ec"].public(true)}})
	var fetches atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(published.Load())
	}))
	defer srv.Close()
	now := testNow
	remote, err := jwks.NewRemote(srv.URL, jwks.RemoteOptions{HTTPClient: srv.Client(), RequireHTTPS: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := Verify(t.Context(), sign(t, k["ec"], jose.ES256, clientClaims(), nil), remote, clientExpect()); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	published.Store(&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k["ec"].public(true), k["ed"].public(true)}})
	now = now.Add(jwks.DefaultMinRefresh)
	want := clientExpect()
	want.Now = func() time.Time { return now }
	claims := clientClaims()
	claims["iat"], claims["exp"] = now.Unix(), now.Unix()+60
	if _, err := Verify(t.Context(), sign(t, k["ed"], jose.EdDSA, claims, nil), remote, want); err != nil {
		t.Fatalf("Verify with the new key: %v", err)
	}
	if _, err := Verify(t.Context(), sign(t, k["foreign-ec"], jose.ES256, claims, nil), remote, want); !errors.Is(err, ErrSignature) {
		t.Fatalf("Verify with a foreign key: got %v, want ErrSignature", err)
	}
	if got := fetches.Load(); got != 2 {
		t.Errorf("fetches: got %d, want 2", got)
	}
}

func TestPeek(t *testing.T) {
	ec := testKeys()["ec"]
	claims := clientClaims()
	claims["iss"], claims["sub"] = "https://token.actions.githubusercontent.com", "repo:acme/deploy:ref:refs/heads/main"
	valid := sign(t, ec, jose.ES256, claims, nil)
	parts := strings.Split(valid, ".")
	badSig := parts[0] + "." + parts[1] + ".AAAA"
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		token    string
		iss, sub string
		wantErr  bool
	}{
		{"signed", valid, "https://token.actions.githubusercontent.com", "repo:acme/deploy:ref:refs/heads/main", false},
		{"bad signature: Peek does not verify", badSig, "https://token.actions.githubusercontent.com", "repo:acme/deploy:ref:refs/heads/main", false},
		{"no iss or sub", "e30." + enc(`{"aud":"x"}`) + ".", "", "", false},
		{"iss a number", "e30." + enc(`{"iss":1}`) + ".", "", "", true},
		{"claims an array", "e30." + enc(`[]`) + ".", "", "", true},
		{"claims null", "e30." + enc(`null`) + ".", "", "", true},
		{"not base64url", "e30.***.", "", "", true},
		{"two parts", "e30." + enc(`{}`), "", "", true},
		{"empty", "", "", "", true},
		{"oversized", "e30." + enc(`{"iss":"`+strings.Repeat("a", maxTokenBytes)+`"}`) + ".", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, sub, err := Peek(tt.token)
			if (err != nil) != tt.wantErr || iss != tt.iss || sub != tt.sub {
				t.Errorf("Peek: got (%q, %q, %v), want (%q, %q, error %v)", iss, sub, err, tt.iss, tt.sub, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("Peek: got %v, want ErrMalformed", err)
			}
		})
	}
}
