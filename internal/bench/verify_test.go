package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/keys"
)

// fakeIssuer is a token server that signs real tokens with package keys
// and publishes a JWKS, for testing --verify.
type fakeIssuer struct {
	signer *keys.Key
	// published returns the keys in the JWKS at the n-th fetch (from 1).
	published func(n int64) []*keys.Key
	// tamper, when set, changes each token before it is sent.
	tamper  func(string) string
	fetches atomic.Int64
}

func (f *fakeIssuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/jwks.json":
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
		for _, k := range f.published(f.fetches.Add(1)) {
			set.Keys = append(set.Keys, k.JWK())
		}
		_ = json.NewEncoder(w).Encode(set)
	case "/oauth/token":
		payload, err := sampleClaims().next(time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, err := f.signer.Sign(payload)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if f.tamper != nil {
			tok = f.tamper(tok)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": tok, "token_type": "Bearer", "expires_in": 900, "scope": "read",
		})
	default:
		http.NotFound(w, r)
	}
}

// always publishes keys at every fetch.
func always(ks ...*keys.Key) func(int64) []*keys.Key {
	return func(int64) []*keys.Key { return ks }
}

func runVerify(t *testing.T, f *fakeIssuer) TokenResult {
	t.Helper()
	srv, _ := newServerFor(t, f)
	o := quickOpts(srv.URL)
	o.Verify, o.Duration = true, 60*time.Millisecond
	res, err := Token(context.Background(), o)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if res.Verification == nil {
		t.Fatalf("no verification report, want one")
	}
	if res.OK == 0 {
		t.Fatalf("no tokens (failures %+v), want some", res.Failures)
	}
	return res
}

func TestVerifyGoodTokens(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			key, other := testKey(t, alg, "a"), testKey(t, "EdDSA", "other")
			res := runVerify(t, &fakeIssuer{signer: key, published: always(other, key)})
			v := res.Verification
			if v.Failed != 0 || v.Verified != res.OK {
				t.Errorf("verified %d, failed %d (%s), want all %d verified", v.Verified, v.Failed, v.FirstError, res.OK)
			}
			if v.JWKSFetches != 1 {
				t.Errorf("JWKS fetches = %d, want 1", v.JWKSFetches)
			}
			if err := res.Err(); err != nil {
				t.Errorf("Err() = %v, want nil", err)
			}
		})
	}
}

func TestVerifyRefetchesOnUnknownKid(t *testing.T) {
	old, next := testKey(t, "ES256", "a"), testKey(t, "ES256", "b")
	f := &fakeIssuer{signer: next, published: func(n int64) []*keys.Key {
		if n == 1 {
			return []*keys.Key{old} // rotated after the run's first fetch
		}
		return []*keys.Key{old, next}
	}}
	res := runVerify(t, f)
	if v := res.Verification; v.Failed != 0 || v.JWKSFetches != 2 {
		t.Errorf("failed %d (%s), JWKS fetches %d, want 0 failed after exactly one refetch", v.Failed, v.FirstError, v.JWKSFetches)
	}
}

// segment replaces the i-th dot-separated part of a compact JWS.
func segment(tok string, i int, f func(string) string) string {
	parts := strings.Split(tok, ".")
	parts[i] = f(parts[i])
	return strings.Join(parts, ".")
}

func TestVerifyFailsBadTokens(t *testing.T) {
	key, stranger := testKey(t, "RS256", "a"), testKey(t, "RS256", "stranger")
	tests := []struct {
		name    string
		signer  *keys.Key
		tamper  func(string) string
		wantErr string
		fetches uint64
	}{
		{"payload changed", key, func(tok string) string {
			return segment(tok, 1, func(string) string {
				return base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin@clients","scope":"admin:write"}`))
			})
		}, "signature", 1},
		{"signature changed", key, func(tok string) string {
			return segment(tok, 2, func(s string) string {
				b, _ := base64.RawURLEncoding.DecodeString(s)
				b[10] ^= 0xff
				return base64.RawURLEncoding.EncodeToString(b)
			})
		}, "signature", 1},
		{"alg none", key, func(tok string) string {
			return segment(tok, 0, func(string) string {
				return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"x"}`))
			})
		}, "not a JWS", 1},
		{"unpublished key", stranger, nil, "not in the JWKS", 2},
		{"not a JWT", key, func(string) string { return "AbCdEfGhIjKlMnOpQrStUvWxYz012345" }, "not a JWS", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runVerify(t, &fakeIssuer{signer: tt.signer, published: always(key), tamper: tt.tamper})
			v := res.Verification
			if v.Failed != res.OK || v.Verified != 0 {
				t.Errorf("verified %d, failed %d, want all %d failed", v.Verified, v.Failed, res.OK)
			}
			if !strings.Contains(v.FirstError, tt.wantErr) {
				t.Errorf("first error = %q, want it to mention %q", v.FirstError, tt.wantErr)
			}
			if v.JWKSFetches != tt.fetches {
				t.Errorf("JWKS fetches = %d, want %d", v.JWKSFetches, tt.fetches)
			}
			if err := res.Err(); err == nil || !strings.Contains(err.Error(), "failed verification") {
				t.Errorf("Err() = %v, want a verification failure", err)
			}
		})
	}
}
