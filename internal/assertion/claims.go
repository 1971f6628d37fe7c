package assertion

import (
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/jwtclaim"
)

// Claims are the claims of a verified assertion.
type Claims struct {
	Issuer   string   // iss
	Subject  string   // sub
	Audience []string // aud, a string or an array in the token
	JTI      string   // jti; empty when absent
	Expiry   time.Time
	// IssuedAt and NotBefore are zero when the token has no iat or nbf.
	IssuedAt  time.Time
	NotBefore time.Time
	// AcceptedUntil is the last instant Verify accepts this assertion:
	// Expiry plus the leeway. A replay cache must remember the jti until
	// then (replay.ID.ExpiresAt), not only until Expiry.
	AcceptedUntil time.Time

	// KeyID and Algorithm are the "kid" (empty when absent) and "alg"
	// headers the signature was verified with.
	KeyID     string
	Algorithm string

	// Raw holds every claim as encoding/json decodes it into an any:
	// strings, bool, nil, []any, map[string]any, and every number as a
	// float64 (exact up to 2^53), as in verify.Claims.Raw.
	Raw map[string]any
}

// wireClaims is the JSON form of the registered claims Verify reads. A
// claim of the wrong type fails the decoding.
type wireClaims struct {
	Issuer    string                `json:"iss"`
	Subject   string                `json:"sub"`
	Audience  jwtclaim.Audience     `json:"aud"`
	JTI       string                `json:"jti"`
	Expiry    *jwtclaim.NumericDate `json:"exp"`
	IssuedAt  *jwtclaim.NumericDate `json:"iat"`
	NotBefore *jwtclaim.NumericDate `json:"nbf"`
}

// decodeClaims parses a verified payload; exp is required.
func decodeClaims(payload []byte) (*Claims, error) {
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return nil, refuse(ErrMalformed, "claims are not a JSON object")
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, refuse(ErrMalformed, "claims: %v", err)
	}
	if w.Expiry == nil {
		return nil, refuse(ErrMalformed, "no exp claim")
	}
	c := &Claims{
		Issuer:   w.Issuer,
		Subject:  w.Subject,
		Audience: w.Audience,
		JTI:      w.JTI,
		Expiry:   w.Expiry.T,
		Raw:      raw,
	}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.T
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.T
	}
	return c, nil
}
