package verify

import (
	"crypto"
	"errors"
	"testing"
	"time"
)

// mapSource is a KeySource over fixed keys, as gatehouse's key set is.
type mapSource map[string]signingKey

func (m mapSource) VerificationKey(kid string) (crypto.PublicKey, string, bool) {
	k, ok := m[kid]
	if !ok {
		return nil, "", false
	}
	return k.priv.Public(), string(k.alg), true
}

func TestVerifyWithKeySource(t *testing.T) {
	fi := newIssuer(t, newClock())
	keys := testKeys()
	source := mapSource{"ec-1": keys["ec"], "rsa-1": keys["rsa"]}
	// A key published under the wrong algorithm for its type.
	mislabeled := keys["ed"]
	mislabeled.alg = "RS256"
	source["ed-1"] = mislabeled

	fetches := fi.jwksFetches.Load() + fi.metaFetches.Load()
	v := newTestVerifier(t, fi, func(c *Config) { c.Keys = source })
	anyAud := newTestVerifier(t, fi, func(c *Config) { c.Keys, c.Audience, c.SkipAudienceCheck = source, "", true })
	if got := fi.jwksFetches.Load() + fi.metaFetches.Load(); got != fetches {
		t.Errorf("JWKS fetches with a KeySource: got %d, want %d", got, fetches)
	}

	other := fi.claims()
	other["aud"] = "https://other.example.io"
	expired := fi.claims()
	expired["exp"] = fi.clock.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name  string
		v     *Verifier
		token string
		want  error
	}{
		{"ES256 from the source", v, fi.token(t, keys["ec"], fi.claims(), nil), nil},
		{"RS256 from the source", v, fi.token(t, keys["rsa"], fi.claims(), nil), nil},
		{"kid the source lacks", v, fi.token(t, keys["rotated"], fi.claims(), nil), ErrUnknownKey},
		{"key unfit for its algorithm", v, fi.token(t, keys["ed"], fi.claims(), nil), ErrAlgorithm},
		{"another audience", v, fi.token(t, keys["ec"], other, nil), ErrAudience},
		{"another audience, any accepted", anyAud, fi.token(t, keys["ec"], other, nil), nil},
		{"expired, any audience", anyAud, fi.token(t, keys["ec"], expired, nil), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(t.Context(), tt.token)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify: got %v, want it to match ErrInvalidToken", err)
			}
		})
	}
}

func TestNewAudienceRequiredUnlessSkipped(t *testing.T) {
	fi := newIssuer(t, newClock())
	if _, err := New(t.Context(), Config{Issuer: fi.srv.URL, Keys: mapSource{}}); err == nil {
		t.Error("New without Audience: got nil error, want one")
	}
	if _, err := New(t.Context(), Config{Issuer: fi.srv.URL, Keys: mapSource{}, SkipAudienceCheck: true}); err != nil {
		t.Errorf("New with SkipAudienceCheck: got %v, want nil", err)
	}
}
