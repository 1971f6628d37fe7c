package token

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Issuer mints access tokens for authenticated clients.
type Issuer struct {
	// IssuerURL goes verbatim into iss.
	IssuerURL string
	// DefaultAudience is used when a request names none; "" makes audience required.
	DefaultAudience string
	Keys            *keys.Set
	Catalog         *catalog.Catalog
	Secrets         *secret.Checker
	// Tokens stores opaque tokens and revocations.
	Tokens store.TokenStore
	// Revoked is the node's copy of revoked JWT ids.
	Revoked *Revocations
	// Throttle slows repeated failed authentication, by client id and by
	// address (nil: off).
	ThrottleClient, ThrottleAddr *limits.Throttle
	// Limits applies rate limits and quotas (nil: off).
	Limits *limits.Limiter
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	reuse reuseCache
}

// Outcome is what a successful token request produced.
type Outcome struct {
	Response Response
	Grant    *Grant
	// Budget, when Limited, becomes the RateLimit-* headers.
	Budget  limits.Budget
	Limited bool
}

// Response is the documents' four-field token answer.
type Response struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// Grant is what a token request was found to be entitled to, and after
// Mint, what was issued.
type Grant struct {
	Client   *store.Client
	API      *store.API
	Audience string // the resolved audience (a template filled with the tenant)
	Scopes   []string
	TTL      time.Duration
	// Service and APIKey bind a per-service token to one service and one
	// environment (the environment's public api_key).
	Service string
	APIKey  string

	// Set by Mint.
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Reused    bool
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// Token runs a parsed request through every step and returns the answer.
// service is "" at /oauth/token, or the path name of the per-service
// endpoint the request came to; addr is the caller's address.
func (i *Issuer) Token(ctx context.Context, req oauth.TokenRequest, service, addr string) (Outcome, error) {
	if req.GrantType == "" {
		return Outcome{}, oauth.ErrInvalidRequest("grant_type is required.")
	}
	if req.GrantType != "client_credentials" {
		return Outcome{}, oauth.ErrUnsupportedGrantType(req.GrantType)
	}
	var api *store.API
	if service != "" {
		var ok bool
		if api, ok = i.Catalog.Service(service); !ok {
			return Outcome{}, oauth.ErrNotFound("No service named %q.", truncate(service))
		}
	}
	client, err := i.authenticateThrottled(ctx, req, addr)
	if err != nil {
		return Outcome{}, err
	}
	var g *Grant
	if api != nil {
		g, err = i.authorizeService(client, api, req)
	} else {
		g, err = i.Authorize(client, req)
	}
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Grant: g}
	if i.Limits != nil {
		var ok bool
		out.Budget, out.Limited, ok = i.Limits.Admit(client, i.Catalog.TenantLimits(client.Tenant))
		if !ok {
			e := oauth.ErrTooManyRequests(out.Budget.Describe(), out.Budget.Reset)
			e.Header = out.Budget.Headers()
			e.Cause = limits.ExceededError{Limit: out.Budget.Exceeded}
			return out, e
		}
	}
	out.Response, err = i.Mint(ctx, g)
	return out, err
}

// authenticateThrottled refuses callers that keep failing before their
// secret is even hashed, and counts their failures.
func (i *Issuer) authenticateThrottled(ctx context.Context, req oauth.TokenRequest, addr string) (*store.Client, error) {
	// No client id is longer than 128 characters, so a longer one is
	// counted under its first 128: callers cannot grow the throttle's
	// memory with long made-up ids.
	id := req.ClientID[:min(len(req.ClientID), 128)]
	if i.ThrottleClient != nil {
		wait := max(i.ThrottleClient.Blocked(id), i.ThrottleAddr.Blocked(addr))
		if wait > 0 {
			return nil, oauth.ErrTooManyRequests("Too many failed authentications; slow down.", wait)
		}
	}
	client, err := i.Authenticate(ctx, req)
	if err != nil && i.ThrottleClient != nil {
		if id != "" {
			i.ThrottleClient.Failed(id)
		}
		i.ThrottleAddr.Failed(addr)
	}
	return client, err
}

// authorizeService applies the per-service endpoint's policy: the token is
// for that service's API and bound to the client's environment.
func (i *Issuer) authorizeService(client *store.Client, api *store.API, req oauth.TokenRequest) (*Grant, error) {
	if a := req.Audience + req.Resource; a != "" && req.Audience != api.Audience && req.Resource != api.Audience {
		return nil, oauth.ErrInvalidTarget("This endpoint issues tokens for %q only.", api.Audience)
	}
	if client.Environment == "" {
		return nil, oauth.ErrAccessDeniedf("Client is not authorized to access %q: only a client of an environment gets tokens for a service.", api.Service)
	}
	env, ok := i.Catalog.Environment(client.Tenant, client.Environment)
	if !ok {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	g, err := i.grant(client, api, api.Audience, req)
	if err != nil {
		return nil, err
	}
	g.Service, g.APIKey = api.Service, env.APIKey
	return g, nil
}

// Authenticate checks the client's credentials. Unknown, disabled and
// deleted clients and wrong or expired secrets all give the same
// invalid_client, after the same work.
func (i *Issuer) Authenticate(ctx context.Context, req oauth.TokenRequest) (*store.Client, error) {
	if req.ClientID == "" {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	client, known := i.Catalog.Client(req.ClientID)
	var secrets []store.Secret
	if known {
		secrets = client.Secrets
		if secrets == nil {
			secrets = []store.Secret{}
		}
	}
	if !i.Secrets.Check(ctx, secrets, req.ClientSecret, i.now()) || client.Disabled {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	return client, nil
}

// Authorize applies the audience and scope policy to an authenticated client.
func (i *Issuer) Authorize(client *store.Client, req oauth.TokenRequest) (*Grant, error) {
	audience, err := i.audience(req)
	if err != nil {
		return nil, err
	}
	api, ok := i.Catalog.Resolve(audience, client.Tenant)
	if !ok {
		return nil, oauth.ErrAccessDenied(audience)
	}
	return i.grant(client, api, audience, req)
}

// grant checks the client's grant on api and picks scopes and lifetime.
func (i *Issuer) grant(client *store.Client, api *store.API, audience string, req oauth.TokenRequest) (*Grant, error) {
	granted, ok := client.Grants[api.Audience]
	if !ok {
		return nil, oauth.ErrAccessDenied(audience)
	}
	// A grant may outlive a scope the API has since dropped.
	allowed := make([]string, 0, len(granted))
	for _, s := range granted {
		if api.HasScope(s) {
			allowed = append(allowed, s)
		}
	}
	scopes := allowed
	if req.ScopeGiven && strings.TrimSpace(req.Scope) != "" {
		scopes = nil
		for _, s := range strings.Fields(req.Scope) {
			if !slices.Contains(allowed, s) {
				return nil, oauth.ErrInvalidScope("Scope %q is not granted to this client for %q.", truncate(s), audience)
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	ttl := api.TokenTTL
	if client.TokenTTL > 0 && client.TokenTTL < ttl {
		ttl = client.TokenTTL
	}
	return &Grant{Client: client, API: api, Audience: audience, Scopes: scopes, TTL: ttl}, nil
}

// audience picks the requested audience: audience, or RFC 8707 resource,
// or the configured default.
func (i *Issuer) audience(req oauth.TokenRequest) (string, error) {
	if req.Resource != "" {
		u, err := url.Parse(req.Resource)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return "", oauth.ErrInvalidTarget("resource must be an absolute URI without a fragment (RFC 8707).")
		}
		if req.Audience != "" && req.Audience != req.Resource {
			return "", oauth.ErrInvalidRequest("audience and resource name different APIs; send one.")
		}
		return req.Resource, nil
	}
	if req.Audience != "" {
		return req.Audience, nil
	}
	if i.DefaultAudience != "" {
		return i.DefaultAudience, nil
	}
	return "", oauth.ErrInvalidRequest("audience is required.")
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
