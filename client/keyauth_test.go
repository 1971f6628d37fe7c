package client_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
)

// testKeys are made once: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"ec":       must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"other-ec": must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"p384":     must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"rsa":      must(rsa.GenerateKey(rand.Reader, 2048)),
		"rsa1024":  must(rsa.GenerateKey(rand.Reader, 1024)),
		"ed":       ed,
	}
})

// opaqueSigner hides the key's type, as a KMS or HSM signer does.
type opaqueSigner struct{ crypto.Signer }

func TestNewPrivateKey(t *testing.T) {
	keys := testKeys()
	tests := []struct {
		name, key, alg string
		want           string // the alg, or a piece of the error
		ok             bool
	}{
		{"EC P-256 picks ES256", "ec", "", "ES256", true},
		{"RSA picks RS256", "rsa", "", "RS256", true},
		{"RSA with PS256", "rsa", "PS256", "PS256", true},
		{"Ed25519 picks EdDSA", "ed", "", "EdDSA", true},
		{"ES256 on RSA", "rsa", "ES256", `alg "ES256" does not fit a RSA key`, false},
		{"HS256", "ec", "HS256", `alg "HS256" does not fit`, false},
		{"P-384", "p384", "", "EC P-384 key cannot sign", false},
		{"short RSA", "rsa1024", "", "1024 bits is too short", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk, err := client.NewPrivateKey(keys[tt.key], tt.alg, "")
			d, derr := client.NewDPoP(keys[tt.key], tt.alg)
			switch {
			case tt.ok && (err != nil || derr != nil):
				t.Fatalf("got %v and %v, want %s", err, derr, tt.want)
			case tt.ok && (pk.Alg() != tt.want || d.Alg() != tt.want):
				t.Errorf("got algs %s and %s, want %s", pk.Alg(), d.Alg(), tt.want)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want) || derr == nil):
				t.Errorf("got %v and %v, want an error with %q from both", err, derr, tt.want)
			}
		})
	}
	if _, err := client.NewPrivateKey(nil, "", ""); err == nil {
		t.Errorf("a nil key: got no error")
	}
}

func TestAssertion(t *testing.T) {
	now := time.Now()
	for _, name := range []string{"ec", "rsa", "ed", "opaque"} {
		t.Run(name, func(t *testing.T) {
			signer := testKeys()["ec"]
			switch name {
			case "opaque":
				signer = opaqueSigner{signer}
			default:
				signer = testKeys()[name]
			}
			pk, err := client.NewPrivateKey(signer, "", "key-1")
			if err != nil {
				t.Fatal(err)
			}
			first, err := pk.Assertion("c_123", "https://auth.example.io/oauth/token", now)
			if err != nil {
				t.Fatal(err)
			}
			second, _ := pk.Assertion("c_123", "https://auth.example.io/oauth/token", now)
			var claims [2]struct {
				Iss, Sub, Aud, Jti string
				Iat, Exp           int64
			}
			for i, raw := range []string{first, second} {
				jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(pk.Alg())})
				if err != nil {
					t.Fatal(err)
				}
				if kid := jws.Signatures[0].Protected.KeyID; kid != "key-1" {
					t.Errorf("kid: got %q, want key-1", kid)
				}
				if err := unmarshalVerified(jws, signer.Public(), &claims[i]); err != nil {
					t.Fatal(err)
				}
			}
			c := claims[0]
			if c.Iss != "c_123" || c.Sub != "c_123" || c.Aud != "https://auth.example.io/oauth/token" ||
				c.Iat != now.Unix() || c.Exp != now.Add(client.AssertionLifetime).Unix() {
				t.Errorf("got claims %+v", c)
			}
			if c.Jti == "" || c.Jti == claims[1].Jti {
				t.Errorf("jti: got %q then %q, want two different ones", c.Jti, claims[1].Jti)
			}
		})
	}
}

func TestTokenSourcePrivateKey(t *testing.T) {
	pk, _ := client.NewPrivateKey(testKeys()["ec"], "", "key-1")
	tests := []struct {
		name string
		// audience is the WithAssertionAudience to give, "" for none;
		// want the aud expected.
		audience, want func(ks *keyServer) string
	}{
		{"audience is the token URL", nil, (*keyServer).tokenURL},
		{"audience set", func(ks *keyServer) string { return ks.URL }, func(ks *keyServer) string { return ks.URL }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := startKeyServer(t, testKeys()["ec"].Public(), "")
			opts := []client.Option{client.WithPrivateKey(pk)}
			if tt.audience != nil {
				opts = append(opts, client.WithAssertionAudience(tt.audience(ks)))
			}
			// ClientSecret and AuthStyle are ignored with a private key.
			cfg := &clientcredentials.Config{ClientID: "c_123", ClientSecret: "ignored", TokenURL: ks.tokenURL(),
				AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"read"}, EndpointParams: map[string][]string{"audience": {"https://api.example.io"}}}
			src := client.NewTokenSource(context.Background(), cfg, opts...)
			for i := range 2 {
				tok, err := src.Token()
				if err != nil {
					t.Fatalf("token %d: %v", i, err)
				}
				if tok.Type() != "Bearer" {
					t.Errorf("token type: got %q, want Bearer", tok.Type())
				}
			}
			ks.mu.Lock()
			defer ks.mu.Unlock()
			if ks.requests != 2 || len(ks.jtis) != 2 {
				t.Errorf("got %d requests with %d distinct jtis, want 2 and 2", ks.requests, len(ks.jtis))
			}
			f := ks.forms[0]
			if f.Get("scope") != "read" || f.Get("audience") != "https://api.example.io" || f.Get("client_id") != "c_123" {
				t.Errorf("got form %v, want scope, audience and client_id", f)
			}
			if got := ks.assertions[0]["aud"]; got != tt.want(ks) {
				t.Errorf("aud: got %v, want %s", got, tt.want(ks))
			}
			if ks.headers[0]["kid"] != "key-1" || ks.headers[0]["alg"] != "ES256" {
				t.Errorf("header: got %v", ks.headers[0])
			}
			if len(cfg.EndpointParams) != 1 {
				t.Errorf("the caller's Config changed: %v", cfg.EndpointParams)
			}
		})
	}
}

// TestTokenSourceDPoPNonce checks the token endpoint's nonce dance: one
// use_dpop_nonce, then a second request with the nonce and a new
// assertion, and later requests with the nonce at once.
func TestTokenSourceDPoPNonce(t *testing.T) {
	ks := startKeyServer(t, testKeys()["ec"].Public(), "n-1")
	pk, _ := client.NewPrivateKey(testKeys()["ec"], "", "")
	d, _ := client.NewDPoP(testKeys()["other-ec"], "")
	src := client.NewTokenSource(context.Background(), &clientcredentials.Config{ClientID: "c_123", TokenURL: ks.tokenURL()},
		client.WithPrivateKey(pk), client.WithDPoP(d))
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.Type() != "DPoP" || ks.boundTo[tok.AccessToken] != d.Thumbprint() {
		t.Errorf("got a %s token bound to %q, want DPoP bound to %q", tok.Type(), ks.boundTo[tok.AccessToken], d.Thumbprint())
	}
	if _, err := src.Token(); err != nil {
		t.Fatal(err)
	}
	if ks.requests != 3 || len(ks.jtis) != 3 {
		t.Errorf("got %d requests with %d assertions, want 3 (one use_dpop_nonce) with 3", ks.requests, len(ks.jtis))
	}

	t.Run("a second use_dpop_nonce is returned", func(t *testing.T) {
		ks := startKeyServer(t, testKeys()["ec"].Public(), "n-1")
		d, _ := client.NewDPoP(testKeys()["other-ec"], "")
		src := client.NewTokenSource(context.Background(), &clientcredentials.Config{ClientID: "c_123", TokenURL: ks.tokenURL()},
			client.WithPrivateKey(pk), client.WithDPoP(d))
		// The nonce moves on after every answer, so the retry's is stale.
		ks.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ks.serve(w, r)
			ks.mu.Lock()
			ks.nonce += "x"
			ks.mu.Unlock()
		})
		_, err := src.Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "use_dpop_nonce" || ks.requests != 2 {
			t.Errorf("got %v after %d requests, want use_dpop_nonce after 2", err, ks.requests)
		}
	})
}

// unmarshalVerified verifies jws with pub and decodes its payload.
func unmarshalVerified(jws *jose.JSONWebSignature, pub crypto.PublicKey, v any) error {
	payload, err := jws.Verify(pub)
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, v)
}
