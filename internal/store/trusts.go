package store

import (
	"context"
	"time"
)

// ChangeTrust is the change kind of a trust (Key: "<tenant>/<name>").
const ChangeTrust = "trust"

// TrustKey is the Change.Key, and the admin id, of a trust.
func TrustKey(tenant, name string) string { return tenant + "/" + name }

// Trust is an outside issuer whose signed tokens a tenant's workloads may
// trade for gatehouse tokens (DESIGN §9): workload identity federation.
// Keys come from JWKS (a static set), JWKSURI, or, with neither, OIDC
// discovery of Issuer.
type Trust struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Issuer is the exact "iss" of the tokens this trust accepts.
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	JWKS    string `json:"jwks,omitempty"`
	// Audiences are the "aud" values an outside token may carry, one of
	// which it must; none means gatehouse's own issuer URL.
	Audiences []string `json:"audiences,omitempty"`
	// MaxAge refuses tokens issued ("iat") longer ago; zero: no limit
	// beyond "exp".
	MaxAge time.Duration `json:"max_age,omitempty"`
	// SingleUse requires a "jti" and accepts each one once.
	SingleUse bool        `json:"single_use,omitempty"`
	Rules     []TrustRule `json:"rules"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Key is the trust's TrustKey.
func (t Trust) Key() string { return TrustKey(t.Tenant, t.Name) }

// TrustRule maps the outside tokens its Match expression accepts to one
// gatehouse client, whose grants are the ceiling of what they get.
type TrustRule struct {
	Name   string `json:"name"`
	Client string `json:"client"`
	// Match is a CEL expression over `claims`, the outside token's claims.
	Match string `json:"match"`
	// Scopes, when set, caps the scopes granted (names, any audience).
	Scopes []string `json:"scopes,omitempty"`
	// TokenTTL, when set, caps the issued token's lifetime.
	TokenTTL time.Duration `json:"token_ttl,omitempty"`
}

// TrustStore keeps trusts, each with its rules, as one value.
type TrustStore interface {
	CreateTrust(ctx context.Context, t Trust) error
	GetTrust(ctx context.Context, tenant, name string) (Trust, error)
	// ListTrusts lists one tenant's trusts, or all when tenant is "".
	ListTrusts(ctx context.Context, tenant string) ([]Trust, error)
	UpdateTrust(ctx context.Context, tenant, name string, fn func(old Trust) (Trust, error)) (Trust, error)
	DeleteTrust(ctx context.Context, tenant, name string) error
}
