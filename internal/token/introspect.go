package token

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// IntrospectAudience is the built-in API whose grant lets a client
// introspect and revoke any token, not only its own.
const IntrospectAudience = "urn:gatehouse:introspect"

// Introspection is the RFC 7662 answer; inactive tokens show only Active.
type Introspection struct {
	Active      bool   `json:"active"`
	Scope       string `json:"scope,omitempty"`
	ClientID    string `json:"client_id,omitempty"`
	TokenType   string `json:"token_type,omitempty"`
	Expiry      int64  `json:"exp,omitempty"`
	IssuedAt    int64  `json:"iat,omitempty"`
	Subject     string `json:"sub,omitempty"`
	Audience    string `json:"aud,omitempty"`
	Issuer      string `json:"iss,omitempty"`
	JTI         string `json:"jti,omitempty"`
	Tenant      string `json:"tenant,omitempty"`
	Environment string `json:"environment,omitempty"`
	Service     string `json:"service,omitempty"`
	APIKey      string `json:"api_key,omitempty"`
}

// inspected is a token found valid, whatever its format.
type inspected struct {
	claims Claims
	opaque string // the store hash, for opaque tokens
}

// inspect finds what raw is: a JWT this gatehouse signed (not revoked,
// not expired) or a stored opaque token. ok is false for anything else.
func (i *Issuer) inspect(ctx context.Context, raw string) (inspected, bool, error) {
	if strings.Count(raw, ".") == 2 {
		c, err := i.Verify(raw, "")
		if err != nil || (i.Revoked != nil && i.Revoked.Revoked(c.JTI)) {
			return inspected{}, false, nil
		}
		return inspected{claims: *c}, true, nil
	}
	if len(raw) != OpaqueLength || i.Tokens == nil {
		return inspected{}, false, nil
	}
	hash := HashOpaque(raw)
	t, err := i.Tokens.GetOpaqueToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return inspected{}, false, nil
	}
	if err != nil {
		return inspected{}, false, oauth.ErrTemporarilyUnavailable(err)
	}
	if !i.now().Before(t.ExpiresAt) {
		return inspected{}, false, nil
	}
	c := Claims{
		Issuer: i.IssuerURL, Subject: t.ClientID + "@clients", Audience: t.Audience,
		IssuedAt: t.IssuedAt.Unix(), Expiry: t.ExpiresAt.Unix(), JTI: t.JTI,
		ClientID: t.ClientID, AZP: t.ClientID, Scope: strings.Join(t.Scopes, " "), GrantType: "client-credentials",
		Tenant: t.Tenant, Environment: t.Environment, Service: t.Service,
	}
	if t.Service != "" && t.Environment != "" {
		if env, ok := i.Catalog.Environment(t.Tenant, t.Environment); ok {
			c.APIKey = env.APIKey
		}
	}
	return inspected{claims: c, opaque: hash}, true, nil
}

// mayInspect reports whether caller may see or revoke a token of owner.
func (i *Issuer) mayInspect(caller *store.Client, owner string) bool {
	if caller.ID == owner {
		return true
	}
	_, ok := caller.Grants[IntrospectAudience]
	return ok
}

// Introspect answers RFC 7662 for an authenticated caller. A token that is
// unknown, expired, revoked or not the caller's to see is inactive.
func (i *Issuer) Introspect(ctx context.Context, req oauth.TokenRequest, addr string) (Introspection, error) {
	caller, err := i.authenticateThrottled(ctx, req, addr)
	if err != nil {
		return Introspection{}, err
	}
	if req.Token == "" {
		return Introspection{}, oauth.ErrInvalidRequest("token is required.")
	}
	t, ok, err := i.inspect(ctx, req.Token)
	if err != nil || !ok || !i.mayInspect(caller, t.claims.ClientID) {
		return Introspection{}, err
	}
	c := t.claims
	return Introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
		Expiry: c.Expiry, IssuedAt: c.IssuedAt, Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer,
		JTI: c.JTI, Tenant: c.Tenant, Environment: c.Environment, Service: c.Service, APIKey: c.APIKey,
	}, nil
}

// Revoke answers RFC 7009: an opaque token is deleted; a JWT's jti is
// recorded until the JWT expires. Unknown or invalid tokens are not an
// error (§2.2); another client's token is unauthorized_client.
func (i *Issuer) Revoke(ctx context.Context, req oauth.TokenRequest, addr string) error {
	caller, err := i.authenticateThrottled(ctx, req, addr)
	if err != nil {
		return err
	}
	if req.Token == "" {
		return oauth.ErrInvalidRequest("token is required.")
	}
	t, ok, err := i.inspect(ctx, req.Token)
	if err != nil || !ok {
		return err
	}
	if !i.mayInspect(caller, t.claims.ClientID) {
		return oauth.ErrUnauthorizedClient("The token was not issued to this client.")
	}
	if t.opaque != "" {
		if err := i.Tokens.DeleteOpaqueToken(ctx, t.opaque); err != nil && !errors.Is(err, store.ErrNotFound) {
			return oauth.ErrTemporarilyUnavailable(err)
		}
		// Also list its jti, so a gateway holding a cached introspection
		// answer drops it at its next revocation poll.
	}
	if i.Revoked == nil {
		return oauth.ErrServerError(errors.New("no revocation store"))
	}
	err = i.Revoked.Add(ctx, store.Revocation{
		JTI: t.claims.JTI, ClientID: t.claims.ClientID, RevokedAt: i.now(), ExpiresAt: time.Unix(t.claims.Expiry, 0),
	})
	if err != nil {
		return oauth.ErrTemporarilyUnavailable(err)
	}
	return nil
}

// RevokedSince lists revocations for a caller holding the introspection
// grant (the gateway), so it can refuse revoked JWTs it checks offline.
func (i *Issuer) RevokedSince(ctx context.Context, req oauth.TokenRequest, addr string, since time.Time) ([]store.Revocation, error) {
	caller, err := i.authenticateThrottled(ctx, req, addr)
	if err != nil {
		return nil, err
	}
	if _, ok := caller.Grants[IntrospectAudience]; !ok {
		return nil, oauth.ErrUnauthorizedClient("Listing revocations needs a grant on %s.", IntrospectAudience)
	}
	revs, err := i.Tokens.ListRevocations(ctx, since)
	if err != nil {
		return nil, oauth.ErrTemporarilyUnavailable(err)
	}
	return revs, nil
}
