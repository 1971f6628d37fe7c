package verify

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/jwtclaim"
)

// Claims are the verified claims of a gatehouse access token (RFC 9068 §2.2
// plus gatehouse's own).
type Claims struct {
	Issuer   string   // iss
	Subject  string   // sub: "<client_id>@clients"
	Audience []string // aud: gatehouse issues exactly one
	ClientID string   // client_id
	Scopes   []string // scope, split on spaces
	// Tenant, Environment and Service are empty when the client or token has
	// none: an organization-wide client has no Environment, and only tokens
	// from a per-service endpoint carry a Service.
	Tenant      string
	Environment string
	Service     string
	// APIKey is the public api_key of the environment a per-service token
	// is bound to; empty on other tokens.
	APIKey    string
	JTI       string    // jti
	IssuedAt  time.Time // iat
	Expiry    time.Time // exp
	NotBefore time.Time // nbf; zero when absent
	// Confirmation is what the token is bound to (its cnf claim); zero
	// for a plain bearer token. The middleware enforces it.
	Confirmation Confirmation

	// Raw holds every claim of the token as decoded by encoding/json, for
	// claims this type does not name.
	Raw map[string]any
}

// Confirmation is what a sender-constrained token is bound to, from its
// cnf claim (RFC 7800). A token with neither field set is a plain bearer
// token.
type Confirmation struct {
	// JKT is cnf.jkt: the RFC 7638 SHA-256 thumbprint of the DPoP key the
	// token is bound to (RFC 9449 §6). Such a token is accepted only with
	// the DPoP scheme and a proof signed by that key.
	JKT string
	// X5TS256 is cnf["x5t#S256"]: the base64url SHA-256 of the DER form of
	// the client certificate the token is bound to (RFC 8705 §3.1). Such a
	// token is accepted only from a connection that presents that
	// certificate.
	X5TS256 string
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// wireClaims is the JSON form of the claims this package reads.
type wireClaims struct {
	Issuer      string                `json:"iss"`
	Subject     string                `json:"sub"`
	Audience    jwtclaim.Audience     `json:"aud"`
	IssuedAt    *jwtclaim.NumericDate `json:"iat"`
	Expiry      *jwtclaim.NumericDate `json:"exp"`
	NotBefore   *jwtclaim.NumericDate `json:"nbf"`
	JTI         string                `json:"jti"`
	ClientID    string                `json:"client_id"`
	Scope       string                `json:"scope"`
	Tenant      string                `json:"tenant"`
	Environment string                `json:"environment"`
	Service     string                `json:"service"`
	APIKey      string                `json:"api_key"`
	Cnf         *binding.Confirmation `json:"cnf"`
}

// decodeClaims parses a verified payload and checks that every claim
// RFC 9068 §2.2 requires is present.
func decodeClaims(payload []byte) (*Claims, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalid(ErrMalformed, "claims: "+err.Error())
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return nil, invalid(ErrMalformed, "claims are not a JSON object")
	}
	switch {
	case w.Issuer == "", w.Subject == "", len(w.Audience) == 0, w.JTI == "", w.ClientID == "":
		return nil, invalid(ErrMalformed, "missing one of iss, sub, aud, jti, client_id")
	case w.Expiry == nil, w.IssuedAt == nil:
		return nil, invalid(ErrMalformed, "missing exp or iat")
	}
	cnf, err := binding.FromClaim(w.Cnf)
	if err != nil {
		return nil, invalid(ErrMalformed, err.Error())
	}
	c := &Claims{
		Issuer:       w.Issuer,
		Subject:      w.Subject,
		Audience:     w.Audience,
		ClientID:     w.ClientID,
		Scopes:       strings.Fields(w.Scope),
		Tenant:       w.Tenant,
		Environment:  w.Environment,
		Service:      w.Service,
		APIKey:       w.APIKey,
		JTI:          w.JTI,
		IssuedAt:     w.IssuedAt.T,
		Expiry:       w.Expiry.T,
		Confirmation: Confirmation(cnf),
		Raw:          raw,
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.T
	}
	return c, nil
}
