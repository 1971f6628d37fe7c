package verify

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestVerifyValid(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	for _, name := range []string{"rsa", "ec", "ed"} {
		k := testKeys()[name]
		t.Run(string(k.alg), func(t *testing.T) {
			c, err := v.Verify(t.Context(), fi.token(t, k, fi.claims(), nil))
			if err != nil {
				t.Fatalf("Verify: got %v, want nil", err)
			}
			now := fi.clock.Now()
			checks := []struct {
				name      string
				got, want any
			}{
				{"Issuer", c.Issuer, fi.srv.URL},
				{"Subject", c.Subject, "c_123@clients"},
				{"Audience", c.Audience, []string{testAudience}},
				{"ClientID", c.ClientID, "c_123"},
				{"Scopes", c.Scopes, []string{"read", "write"}},
				{"Tenant", c.Tenant, "acme"},
				{"Environment", c.Environment, "qa"},
				{"Service", c.Service, "streaming-property"},
				{"JTI", c.JTI, "jti-1"},
				{"IssuedAt", c.IssuedAt, now},
				{"Expiry", c.Expiry, now.Add(900 * time.Second)},
				{"Raw[gty]", c.Raw["gty"], "client-credentials"},
			}
			for _, ch := range checks {
				gj, _ := json.Marshal(ch.got)
				wj, _ := json.Marshal(ch.want)
				if string(gj) != string(wj) {
					t.Errorf("%s: got %s, want %s", ch.name, gj, wj)
				}
			}
		})
	}
}

func TestVerifyTokenType(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	k := testKeys()["ec"]
	tests := []struct {
		typ  any
		want error
	}{
		{"at+jwt", nil},
		{"application/at+jwt", nil},
		{"AT+JWT", nil},
		{"JWT", ErrTokenType},
		{"", ErrTokenType},
		{42, ErrTokenType},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.typ), func(t *testing.T) {
			tok := fi.token(t, k, fi.claims(), map[string]any{"typ": tt.typ}) // replaces at+jwt
			_, err := v.Verify(t.Context(), tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	now := fi.clock.Now().Unix()
	leeway := int64(DefaultLeeway / time.Second)
	tests := []struct {
		name   string
		modify func(c map[string]any)
		want   error
	}{
		{"expired", func(c map[string]any) { c["exp"] = now - leeway - 1 }, ErrExpired},
		{"expired at the leeway", func(c map[string]any) { c["exp"] = now - leeway }, ErrExpired},
		{"expired within leeway", func(c map[string]any) { c["exp"] = now - leeway + 1 }, nil},
		{"nbf in the future", func(c map[string]any) { c["nbf"] = now + leeway + 1 }, ErrNotYetValid},
		{"nbf within leeway", func(c map[string]any) { c["nbf"] = now + leeway }, nil},
		{"iat in the future", func(c map[string]any) { c["iat"] = now + leeway + 1 }, ErrNotYetValid},
		{"iat within leeway", func(c map[string]any) { c["iat"] = now + leeway }, nil},
		{"wrong audience", func(c map[string]any) { c["aud"] = "https://other.example.io" }, ErrAudience},
		{"audience list", func(c map[string]any) { c["aud"] = []string{"x", testAudience} }, nil},
		{"empty audience list", func(c map[string]any) { c["aud"] = []string{} }, ErrMalformed},
		{"wrong issuer", func(c map[string]any) { c["iss"] = "https://evil.example.io" }, ErrIssuer},
		{"issuer with slash", func(c map[string]any) { c["iss"] = fi.srv.URL + "/" }, ErrIssuer},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, ErrMalformed},
		{"no iat", func(c map[string]any) { delete(c, "iat") }, ErrMalformed},
		{"no jti", func(c map[string]any) { delete(c, "jti") }, ErrMalformed},
		{"no client_id", func(c map[string]any) { delete(c, "client_id") }, ErrMalformed},
		{"exp as string", func(c map[string]any) { c["exp"] = "soon" }, ErrMalformed},
		{"exp huge", func(c map[string]any) { c["exp"] = 1e300 }, ErrMalformed},
		{"scope as list", func(c map[string]any) { c["scope"] = []string{"read"} }, ErrMalformed},
		{"fractional exp", func(c map[string]any) { c["exp"] = float64(now) + 60.5 }, nil},
	}
	k := testKeys()["ed"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fi.claims()
			tt.modify(c)
			_, err := v.Verify(t.Context(), fi.token(t, k, c, nil))
			if tt.want == nil && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !errors.Is(err, tt.want) || (tt.want != nil && !errors.Is(err, ErrInvalidToken)) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyAudienceTemplate(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.Audience = "https://delivery.example.io/{tenant}" })
	tests := []struct {
		tenant, aud string
		want        error
	}{
		{"acme", "https://delivery.example.io/acme", nil},
		{"acme", "https://delivery.example.io/other", ErrAudience},
		{"", "https://delivery.example.io/", ErrAudience},
		{"", "https://delivery.example.io/{tenant}", ErrAudience},
	}
	for _, tt := range tests {
		t.Run(tt.aud, func(t *testing.T) {
			c := fi.claims()
			c["aud"], c["tenant"] = tt.aud, tt.tenant
			_, err := v.Verify(t.Context(), fi.token(t, testKeys()["ec"], c, nil))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyForgedTokens(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	rk := testKeys()["rsa"]
	valid := fi.token(t, rk, fi.claims(), nil)
	parts := strings.Split(valid, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	flippedSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	elevated := fi.claims()
	elevated["scope"] = "read write admin"
	payload, _ := json.Marshal(elevated)
	swappedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	hs256 := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		}
	}
	pub := rk.priv.Public().(*rsa.PublicKey)
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwkJSON, _ := json.Marshal(rk.public())
	hsHeader := map[string]any{"alg": "HS256", "kid": rk.kid, "typ": "at+jwt"}
	none := func([]byte) []byte { return nil }
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"signature byte flipped", flippedSig, ErrSignature},
		{"payload changed", swappedPayload, ErrSignature},
		{"alg none", rawToken(t, map[string]any{"alg": "none", "kid": rk.kid, "typ": "at+jwt"}, fi.claims(), none), ErrAlgorithm},
		{"alg None", rawToken(t, map[string]any{"alg": "None", "kid": rk.kid, "typ": "at+jwt"}, fi.claims(), none), ErrAlgorithm},
		{"alg none with a signature", rawToken(t, map[string]any{"alg": "none", "kid": rk.kid, "typ": "at+jwt"}, fi.claims(), func(b []byte) []byte { return b }), ErrAlgorithm},
		{"HS256 with PEM PKIX", rawToken(t, hsHeader, fi.claims(), hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))), ErrAlgorithm},
		{"HS256 with PEM PKCS1", rawToken(t, hsHeader, fi.claims(), hs256(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}))), ErrAlgorithm},
		{"HS256 with DER PKIX", rawToken(t, hsHeader, fi.claims(), hs256(pkix)), ErrAlgorithm},
		{"HS256 with DER PKCS1", rawToken(t, hsHeader, fi.claims(), hs256(pkcs1)), ErrAlgorithm},
		{"HS256 with JWK JSON", rawToken(t, hsHeader, fi.claims(), hs256(jwkJSON)), ErrAlgorithm},
		{"PS256 with an RS256 key", signWith(t, jose.PS256, rk, fi.claims(), nil), ErrAlgorithm},
		{"RS256 header on the EC kid", signWith(t, jose.RS256, signingKey{kid: "ec-1", priv: rk.priv}, fi.claims(), nil), ErrAlgorithm},
		{"EC key under the RSA kid", signWith(t, jose.ES256, signingKey{kid: rk.kid, priv: testKeys()["ec"].priv}, fi.claims(), nil), ErrAlgorithm},
		{"attacker key under the RSA kid", fi.token(t, signingKey{kid: rk.kid, alg: jose.RS256, priv: testKeys()["attacker"].priv}, fi.claims(), nil), ErrSignature},
		{"no kid", fi.token(t, signingKey{alg: jose.RS256, priv: rk.priv}, fi.claims(), nil), ErrUnknownKey},
		{"empty", "", ErrMalformed},
		{"two parts", "a.b", ErrMalformed},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, ErrMalformed},
		{"whitespace", " " + valid, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), tt.token)
			if c != nil || !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidToken) {
				t.Errorf("got (%v, %v), want (nil, %v)", c, err, tt.want)
			}
		})
	}
}

func TestVerifyUnknownKidRefreshesOnce(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	forged := fi.token(t, testKeys()["attacker"], fi.claims(), nil)
	verifyN := func(n int, want int32) {
		t.Helper()
		for range n {
			if _, err := v.Verify(t.Context(), forged); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("got %v, want ErrUnknownKey", err)
			}
		}
		if got := fi.jwksFetches.Load(); got != want {
			t.Fatalf("JWKS fetches: got %d, want %d", got, want)
		}
	}
	verifyN(3, 1) // the fetch at New is too recent: no refresh
	fi.clock.Advance(DefaultMinRefreshInterval)
	verifyN(3, 2) // one refresh, then rate-limited
	fi.clock.Advance(DefaultMinRefreshInterval - time.Second)
	verifyN(1, 2)
	fi.clock.Advance(time.Second)
	verifyN(1, 3)
}

func TestVerifyUnknownKidConcurrent(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	fi.clock.Advance(time.Minute)
	forged := fi.token(t, testKeys()["attacker"], fi.claims(), nil)
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 64 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), forged); err == nil {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := accepted.Load(); got != 0 {
		t.Errorf("accepted: got %d, want 0", got)
	}
	if got := fi.jwksFetches.Load(); got != 2 {
		t.Errorf("JWKS fetches: got %d, want 2 (New plus one refresh)", got)
	}
}

func TestVerifyIgnoresKeyHeaders(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	fi.clock.Advance(time.Minute) // let unknown kids refresh
	var attackerHits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		writeTestJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testKeys()["attacker"].public()}})
	}))
	defer attacker.Close()
	ak, rk := testKeys()["attacker"], testKeys()["rsa"]
	attackerPub := ak.public()
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"jku to attacker, attacker kid", fi.token(t, ak, fi.claims(), map[string]any{"jku": attacker.URL}), ErrUnknownKey},
		{"x5u to attacker, attacker kid", fi.token(t, ak, fi.claims(), map[string]any{"x5u": attacker.URL}), ErrUnknownKey},
		{"jku to attacker, issuer kid", fi.token(t, signingKey{kid: rk.kid, alg: jose.RS256, priv: ak.priv}, fi.claims(), map[string]any{"jku": attacker.URL}), ErrSignature},
		{"embedded jwk, issuer kid", fi.token(t, signingKey{kid: rk.kid, alg: jose.RS256, priv: ak.priv}, fi.claims(), map[string]any{"jwk": attackerPub}), ErrSignature},
		{"issuer key with jku and x5u", fi.token(t, rk, fi.claims(), map[string]any{"jku": attacker.URL, "x5u": attacker.URL}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tt.token)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if got := attackerHits.Load(); got != 0 {
		t.Errorf("requests to the jku/x5u server: got %d, want 0", got)
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	fi.publish(testKeys()["rotated"])
	fi.clock.Advance(DefaultMinRefreshInterval)
	tok := fi.token(t, testKeys()["rotated"], fi.claims(), nil)
	for i := range 3 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("Verify #%d: got %v, want nil", i, err)
		}
	}
	if got := fi.jwksFetches.Load(); got != 2 {
		t.Errorf("JWKS fetches: got %d, want 2", got)
	}
}

func TestVerifyStaleKeysRefreshInBackground(t *testing.T) {
	fi := newIssuer(t, newClock())
	fi.maxAge = "60"
	v := newTestVerifier(t, fi)
	tok := fi.token(t, testKeys()["ed"], fi.claims(), nil)
	fi.clock.Advance(61 * time.Second)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify with stale keys: got %v, want nil", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fi.jwksFetches.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := fi.jwksFetches.Load(); got != 2 {
		t.Errorf("JWKS fetches: got %d, want 2", got)
	}
}

func TestNew(t *testing.T) {
	fi := newIssuer(t, newClock())
	openIDOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		writeTestJSON(w, map[string]string{"issuer": "http://" + r.Host, "jwks_uri": fi.srv.URL + "/.well-known/jwks.json"})
	}))
	defer openIDOnly.Close()
	noKeys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, map[string]any{"keys": []any{map[string]string{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}}})
	}))
	defer noKeys.Close()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"discovery", Config{Issuer: fi.srv.URL, Audience: testAudience}, false},
		{"openid-configuration fallback", Config{Issuer: openIDOnly.URL, Audience: testAudience}, false},
		{"JWKS URL without discovery", Config{Issuer: "https://issuer.example", Audience: testAudience, JWKSURL: fi.srv.URL + "/.well-known/jwks.json"}, false},
		{"metadata issuer mismatch", Config{Issuer: fi.srv.URL + "/", Audience: testAudience}, true},
		{"no issuer", Config{Audience: testAudience}, true},
		{"no audience", Config{Issuer: fi.srv.URL}, true},
		{"relative JWKS URL", Config{Issuer: fi.srv.URL, Audience: testAudience, JWKSURL: "/jwks"}, true},
		{"only an HMAC key", Config{Issuer: fi.srv.URL, Audience: testAudience, JWKSURL: noKeys.URL}, true},
		{"unreachable", Config{Issuer: "http://127.0.0.1:1", Audience: testAudience}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Errorf("got %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyKeyWithoutAlg: a published key without "alg" verifies only the
// one algorithm gatehouse would sign with it (RS256 for RSA), and unusable
// keys beside it (another use, an algorithm unfit for the key) are skipped.
func TestVerifyKeyWithoutAlg(t *testing.T) {
	fi := newIssuer(t, newClock())
	noAlg := testKeys()["rotated"]
	pub := noAlg.public()
	pub.Algorithm = ""
	enc := testKeys()["attacker"].public()
	enc.Use = "enc"
	unfit := testKeys()["ec"].public()
	unfit.KeyID, unfit.Algorithm = "ec-as-rs", "RS256"
	fi.mu.Lock()
	fi.keys = append(fi.keys, pub, enc, unfit)
	fi.mu.Unlock()
	v := newTestVerifier(t, fi)
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"RS256 with the alg-less key", fi.token(t, noAlg, fi.claims(), nil), nil},
		{"PS256 with the alg-less key", signWith(t, jose.PS256, noAlg, fi.claims(), nil), ErrAlgorithm},
		{"key published for encryption", fi.token(t, testKeys()["attacker"], fi.claims(), nil), ErrUnknownKey},
		{"EC key published as RS256", signWith(t, jose.ES256, signingKey{kid: "ec-as-rs", priv: testKeys()["ec"].priv}, fi.claims(), nil), ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tt.token)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
