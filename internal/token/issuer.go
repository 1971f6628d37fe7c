package token

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/keys"
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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Response is the documents' four-field token answer.
type Response struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// Grant is what a token request was found to be entitled to.
type Grant struct {
	Client   *store.Client
	API      *store.API
	Audience string // the resolved audience (a template filled with the tenant)
	Scopes   []string
	TTL      time.Duration
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// Token runs a parsed request through every step and returns the answer.
func (i *Issuer) Token(ctx context.Context, req oauth.TokenRequest) (Response, *Grant, error) {
	if req.GrantType == "" {
		return Response{}, nil, oauth.ErrInvalidRequest("grant_type is required.")
	}
	if req.GrantType != "client_credentials" {
		return Response{}, nil, oauth.ErrUnsupportedGrantType(req.GrantType)
	}
	client, err := i.Authenticate(ctx, req)
	if err != nil {
		return Response{}, nil, err
	}
	g, err := i.Authorize(client, req)
	if err != nil {
		return Response{}, nil, err
	}
	resp, err := i.Mint(g)
	return resp, g, err
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

// Claims are the JWT access token claims: RFC 9068 plus the hosted
// vendor's, so APIs written against it keep working.
type Claims struct {
	Issuer      string `json:"iss"`
	Subject     string `json:"sub"`
	Audience    string `json:"aud"`
	IssuedAt    int64  `json:"iat"`
	Expiry      int64  `json:"exp"`
	JTI         string `json:"jti"`
	ClientID    string `json:"client_id"`
	AZP         string `json:"azp"`
	Scope       string `json:"scope"`
	GrantType   string `json:"gty"`
	Tenant      string `json:"tenant,omitempty"`
	Environment string `json:"environment,omitempty"`
	Service     string `json:"service,omitempty"`
}

// Mint issues the token for a grant.
func (i *Issuer) Mint(g *Grant) (Response, error) {
	if g.API.TokenFormat != store.FormatJWT {
		return Response{}, oauth.ErrServerError(fmt.Errorf("api %s: token format %q is not available yet", g.API.Audience, g.API.TokenFormat))
	}
	key := i.Keys.Current(g.API.SigningAlg)
	if key == nil {
		return Response{}, oauth.ErrTemporarilyUnavailable(fmt.Errorf("no current %s signing key", g.API.SigningAlg))
	}
	now := i.now().Truncate(time.Second)
	exp := now.Add(g.TTL)
	scope := strings.Join(g.Scopes, " ")
	claims := Claims{
		Issuer:      i.IssuerURL,
		Subject:     g.Client.ID + "@clients",
		Audience:    g.Audience,
		IssuedAt:    now.Unix(),
		Expiry:      exp.Unix(),
		JTI:         newJTI(),
		ClientID:    g.Client.ID,
		AZP:         g.Client.ID,
		Scope:       scope,
		GrantType:   "client-credentials",
		Tenant:      g.Client.Tenant,
		Environment: g.Client.Environment,
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return Response{}, oauth.ErrServerError(err)
	}
	jwt, err := key.Sign(payload)
	if err != nil {
		return Response{}, oauth.ErrServerError(err)
	}
	return Response{AccessToken: jwt, Scope: scope, ExpiresIn: claims.Expiry - claims.IssuedAt, TokenType: "Bearer"}, nil
}

// newJTI returns a unique token id: 128 random bits in hex.
func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("token: crypto/rand failed: " + err.Error())
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 32)
	for i, v := range b {
		out[i*2], out[i*2+1] = hexdigits[v>>4], hexdigits[v&15]
	}
	return string(out)
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
