package store

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The built-in APIs every store holds (admin.Bootstrap creates them): the
// admin API, and introspection of any token (a client holding a grant on
// it, a gateway, may introspect, revoke and list revocations of tokens
// issued to others).
const (
	AdminAudience      = "urn:gatehouse:admin"
	ScopeRead          = "admin:read"
	ScopeWrite         = "admin:write"
	IntrospectAudience = "urn:gatehouse:introspect"
	ScopeIntrospect    = "introspect"
)

// Tenant is a customer organization.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Limits    Limits    `json:"limits"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits are optional token budgets; zero means none.
type Limits struct {
	// RatePerSecond caps token requests a second (clients only).
	RatePerSecond int64 `json:"rate_per_second,omitempty"`
	QuotaHour     int64 `json:"quota_hour,omitempty"`
	QuotaDay      int64 `json:"quota_day,omitempty"`
	// Mode is LimitEnforce ("" means it too) or LimitLogOnly.
	Mode string `json:"mode,omitempty"`
}

// Limit modes: enforce refuses what goes over a limit; log-only lets it
// through and logs and counts it (for trying a limit out first).
const (
	LimitEnforce = "enforce"
	LimitLogOnly = "log-only"
)

// Any reports whether some limit is set.
func (l Limits) Any() bool { return l.RatePerSecond > 0 || l.QuotaHour > 0 || l.QuotaDay > 0 }

// Environment is a tenant's deployment stage (the gateway's "site group").
// APIKey is its public identifier in per-service gateway paths.
type Environment struct {
	Tenant    string    `json:"tenant"`
	ID        string    `json:"id"`
	APIKey    string    `json:"api_key"`
	CreatedAt time.Time `json:"created_at"`
}

// Token formats an API may issue.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
)

// Scope is one permission an API defines.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// API is a resource server, known by its audience. An audience containing
// TenantPlaceholder is a template that resolves to each client's tenant.
type API struct {
	Audience    string        `json:"audience"`
	Name        string        `json:"name"`
	Scopes      []Scope       `json:"scopes"`
	TokenTTL    time.Duration `json:"token_ttl"`
	TokenFormat string        `json:"token_format"`
	SigningAlg  string        `json:"signing_alg"`
	Service     string        `json:"service,omitempty"`
	// ReuseWindow, when set, hands a client that asks again for the same
	// audience and scopes within it the token it already holds.
	ReuseWindow time.Duration `json:"reuse_window,omitempty"`
	// AcceptExchangeFrom lists the audiences whose access tokens a client
	// may exchange for a token to this API (RFC 8693 delegation).
	AcceptExchangeFrom []string `json:"accept_exchange_from,omitempty"`
	// BuiltIn marks the APIs gatehouse creates for itself; they cannot be deleted.
	BuiltIn   bool      `json:"built_in,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TenantPlaceholder is the part of a template audience replaced by a tenant id.
const TenantPlaceholder = "{tenant}"

// IsTemplate reports whether the audience is a per-tenant template.
func (a API) IsTemplate() bool { return strings.Contains(a.Audience, TenantPlaceholder) }

// HasScope reports whether the API defines the named scope.
func (a API) HasScope(name string) bool {
	return slices.ContainsFunc(a.Scopes, func(s Scope) bool { return s.Name == name })
}

// Client is an API key or automation client.
type Client struct {
	ID          string `json:"client_id"`
	Name        string `json:"name"`
	Tenant      string `json:"tenant,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Grants maps an audience (a template audience as written) to the scopes
	// the client may ask for there.
	Grants   map[string][]string `json:"grants"`
	Secrets  []Secret            `json:"-"`
	Disabled bool                `json:"disabled"`
	// TokenTTL caps the lifetime of the client's tokens; zero means no cap.
	TokenTTL time.Duration `json:"token_ttl,omitempty"`
	Limits   Limits        `json:"limits"`
	// Auth says how the client proves itself (DESIGN §8); the zero value
	// is a shared secret.
	Auth      ClientAuth `json:"auth"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Client authentication methods (DESIGN §8). The secret methods are the
// default: a client whose Method is "" authenticates with a secret.
const (
	AuthSecret        = "client_secret"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthTLS           = "tls_client_auth"
	AuthSelfSignedTLS = "self_signed_tls_client_auth"
)

// AuthMethods are the methods a client may be registered with.
var AuthMethods = []string{AuthSecret, AuthPrivateKeyJWT, AuthTLS, AuthSelfSignedTLS}

// TLS subject kinds for tls_client_auth: which one field of the
// certificate must match (RFC 8705 §2.1.2).
var TLSSubjectKinds = []string{"dn", "dns", "uri", "email"}

// ClientAuth is how a client without a shared secret proves itself, and
// whether its tokens must be sender-constrained.
type ClientAuth struct {
	// Method is one of AuthMethods; "" means AuthSecret.
	Method string `json:"method,omitempty"`
	// JWKS holds the client's public keys (a JSON Web Key Set), for
	// private_key_jwt and self_signed_tls_client_auth.
	JWKS string `json:"jwks,omitempty"`
	// JWKSURI is where private_key_jwt keys are fetched instead (HTTPS).
	JWKSURI string `json:"jwks_uri,omitempty"`
	// TLSSubjectKind and TLSSubject name the one certificate field a
	// tls_client_auth client is matched on.
	TLSSubjectKind string `json:"tls_subject_kind,omitempty"`
	TLSSubject     string `json:"tls_subject,omitempty"`
	// RequireDPoP refuses token requests without a DPoP proof.
	RequireDPoP bool `json:"require_dpop,omitempty"`
}

// MethodOrDefault is Method, or AuthSecret when unset.
func (a ClientAuth) MethodOrDefault() string {
	if a.Method == "" {
		return AuthSecret
	}
	return a.Method
}

// UsesSecret reports whether the client authenticates with a secret.
func (a ClientAuth) UsesSecret() bool { return a.MethodOrDefault() == AuthSecret }

// MaxSecrets is how many live secrets a client may hold (two for rotation).
const MaxSecrets = 2

// Secret is one stored client secret: only its hash is kept.
type Secret struct {
	ID        string     `json:"id"`
	Hash      string     `json:"hash"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Live reports whether the secret may still be used at now.
func (s Secret) Live(now time.Time) bool { return s.ExpiresAt == nil || now.Before(*s.ExpiresAt) }

// Signing key states, in the order a key passes through them.
const (
	KeyNext    = "next"    // published, not yet signing
	KeyCurrent = "current" // signing
	KeyRetired = "retired" // published until its last token expires
)

// SigningKey is a key that signs JWTs. PrivateKey is encrypted with the
// key-encryption key; PublicKey is the DER (PKIX) public key.
type SigningKey struct {
	KID        string    `json:"kid"`
	Alg        string    `json:"alg"`
	State      string    `json:"state"`
	PrivateKey []byte    `json:"-"`
	PublicKey  []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	// ActivatesAt is when a next key may start signing.
	ActivatesAt time.Time `json:"activates_at"`
	// RetiredAt is when a key stopped signing; RemoveAfter when it leaves the JWKS.
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RemoveAfter *time.Time `json:"remove_after,omitempty"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidSlug reports whether s can be a tenant, environment or service id.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// ReservedServices are path names the per-service endpoint may not take.
var ReservedServices = []string{"oauth", "admin", "console", ".well-known", "healthz", "readyz", "metrics"}

// Supported signing algorithms.
var SigningAlgs = []string{"RS256", "ES256", "EdDSA"}

// Validate checks an API's fields and fills defaults.
func (a *API) Validate() error {
	if a.TokenFormat == "" {
		a.TokenFormat = FormatJWT
	}
	if a.SigningAlg == "" {
		a.SigningAlg = "RS256"
	}
	if a.TokenTTL == 0 {
		a.TokenTTL = 24 * time.Hour
	}
	if err := ValidAudience(a.Audience); err != nil {
		return err
	}
	if a.TokenFormat != FormatJWT && a.TokenFormat != FormatOpaque {
		return fmt.Errorf("token_format must be %q or %q, not %q", FormatJWT, FormatOpaque, a.TokenFormat)
	}
	if !slices.Contains(SigningAlgs, a.SigningAlg) {
		return fmt.Errorf("signing_alg must be one of %s, not %q", strings.Join(SigningAlgs, ", "), a.SigningAlg)
	}
	if a.ReuseWindow < 0 || a.ReuseWindow > a.TokenTTL/2 {
		return fmt.Errorf("reuse_window must be between 0 and half the token lifetime (%s)", a.TokenTTL/2)
	}
	if a.TokenTTL < time.Minute || a.TokenTTL > 30*24*time.Hour {
		return fmt.Errorf("token_ttl must be between 1m and 720h, not %s", a.TokenTTL)
	}
	if a.Service != "" && a.IsTemplate() {
		return fmt.Errorf("a per-tenant template audience cannot have a service: a per-service token needs one audience")
	}
	if a.Service != "" {
		if !ValidSlug(a.Service) || slices.Contains(ReservedServices, a.Service) {
			return fmt.Errorf("service %q is not a valid service name (lower-case letters, digits and '-'; not one of %s)", a.Service, strings.Join(ReservedServices, ", "))
		}
	}
	seen := map[string]bool{}
	for _, s := range a.Scopes {
		if !validScope(s.Name) {
			return fmt.Errorf("scope %q is not a valid scope name (RFC 6749 §3.3: printable ASCII without space, '\"' or '\\\\')", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("scope %q is listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// ValidAudience checks that an audience is an absolute URI or a URN, with at
// most one {tenant} placeholder.
func ValidAudience(aud string) error {
	if aud == "" {
		return fmt.Errorf("audience is required")
	}
	if len(aud) > 512 {
		return fmt.Errorf("audience is longer than 512 characters")
	}
	if strings.Count(aud, TenantPlaceholder) > 1 {
		return fmt.Errorf("audience %q has more than one %s", aud, TenantPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(aud, TenantPlaceholder, "t"))
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return fmt.Errorf("audience %q is not an absolute URI", aud)
	}
	return nil
}

func validScope(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// ScopeNames returns the names of scopes in order.
func ScopeNames(scopes []Scope) []string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = s.Name
	}
	return names
}

// Validate checks a client's own fields (not whether its tenant, environment
// or granted APIs exist: that needs the store, and is the admin API's job).
func (c *Client) Validate() error {
	if strings.TrimSpace(c.Name) == "" {
		return fmt.Errorf("name is required")
	}
	if len(c.Name) > 200 {
		return fmt.Errorf("name is longer than 200 characters")
	}
	if !ValidClientID(c.ID) {
		return fmt.Errorf("client_id %q is not valid (1-128 characters of A-Z, a-z, 0-9, '_', '-', '.')", c.ID)
	}
	if c.Tenant != "" && !ValidSlug(c.Tenant) {
		return fmt.Errorf("tenant %q is not a valid id", c.Tenant)
	}
	if c.Environment != "" && c.Tenant == "" {
		return fmt.Errorf("an environment needs a tenant")
	}
	if c.Environment != "" && !ValidSlug(c.Environment) {
		return fmt.Errorf("environment %q is not a valid id", c.Environment)
	}
	if c.TokenTTL < 0 {
		return fmt.Errorf("token_ttl must not be negative")
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if c.Grants == nil {
		c.Grants = map[string][]string{}
	}
	for aud, scopes := range c.Grants {
		if err := ValidAudience(aud); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
		for _, s := range scopes {
			if !validScope(s) {
				return fmt.Errorf("grant on %q: scope %q is not a valid scope name", aud, s)
			}
		}
	}
	if len(c.Secrets) > MaxSecrets {
		return fmt.Errorf("a client holds at most %d secrets", MaxSecrets)
	}
	return nil
}

// ValidClientID reports whether id can name a client. Generated ids are
// alphanumeric; imported ones (from another vendor) may also hold '_', '-', '.'.
func ValidClientID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
