package token

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

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
	// Cnf is the token's binding (RFC 9449 §6.2, RFC 8705 §3.2).
	Cnf *store.Confirmation `json:"cnf,omitempty"`
}

// inspected is a token found valid, whatever its format.
type inspected struct {
	Introspection
	opaque string // the store hash, for opaque tokens
}

// inspect finds what raw is: a JWT this gatehouse signed (not revoked,
// not expired) or a stored opaque token. ok is false for anything else.
func (i *Issuer) inspect(ctx context.Context, raw string) (inspected, bool, error) {
	if strings.Count(raw, ".") == 2 {
		c, err := i.own.Verify(ctx, raw)
		if err != nil || i.revoked.Revoked(c.JTI) {
			return inspected{}, false, nil
		}
		cnf := store.Confirmation{JKT: c.Confirmation.JKT, X5TS256: c.Confirmation.X5TS256}
		return inspected{Introspection: Introspection{
			Active: true, Scope: strings.Join(c.Scopes, " "), ClientID: c.ClientID, TokenType: tokenType(cnf),
			Expiry: c.Expiry.Unix(), IssuedAt: c.IssuedAt.Unix(), Subject: c.Subject, Audience: c.Audience[0], Issuer: c.Issuer,
			JTI: c.JTI, Tenant: c.Tenant, Environment: c.Environment, Service: c.Service, APIKey: c.APIKey, Cnf: cnfClaim(&cnf),
		}}, true, nil
	}
	if len(raw) != OpaqueLength {
		return inspected{}, false, nil
	}
	hash := HashOpaque(raw)
	t, err := i.tokens.GetOpaqueToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return inspected{}, false, nil
	}
	if err != nil {
		return inspected{}, false, oauth.ErrTemporarilyUnavailable(err)
	}
	// An opaque token revoked by its jti (by an operator, who sees only
	// the jti in the audit log) is refused like a deleted one.
	if !i.now().Before(t.ExpiresAt) || i.revoked.Revoked(t.JTI) {
		return inspected{}, false, nil
	}
	cnf := t.Confirmation
	in := Introspection{
		Active: true, Scope: strings.Join(t.Scopes, " "), ClientID: t.ClientID, TokenType: tokenType(t.Confirmation),
		Expiry: t.ExpiresAt.Unix(), IssuedAt: t.IssuedAt.Unix(), Subject: t.ClientID + "@clients", Audience: t.Audience,
		Issuer: i.cfg.IssuerURL, JTI: t.JTI, Tenant: t.Tenant, Environment: t.Environment, Service: t.Service,
		Cnf: cnfClaim(&cnf),
	}
	if t.Service != "" && t.Environment != "" {
		if env, ok := i.catalog.Environment(t.Tenant, t.Environment); ok {
			in.APIKey = env.APIKey
		}
	}
	return inspected{Introspection: in, opaque: hash}, true, nil
}

// holderStands reports whether the client a token was issued to still
// exists and is that client: a deleted client's tokens are inactive (its
// JWTs still verify offline until they expire, but not here), and so are
// tokens of an earlier client under the same id (an imported id, deleted
// and imported again).
func (i *Issuer) holderStands(t Introspection) bool {
	c, ok := i.catalog.Client(t.ClientID)
	return ok && t.IssuedAt >= c.CreatedAt.Unix()
}

// mayInspect reports whether caller may see or revoke a token of owner.
func (i *Issuer) mayInspect(caller *store.Client, owner string) bool {
	if caller.ID == owner {
		return true
	}
	_, ok := caller.Grants[store.IntrospectAudience]
	return ok
}

// Introspect answers RFC 7662 for an authenticated caller. A token that is
// unknown, expired, revoked or not the caller's to see is inactive.
func (i *Issuer) Introspect(ctx context.Context, req oauth.TokenRequest, addr string) (Introspection, error) {
	caller, _, err := i.authenticateThrottled(ctx, &req, addr)
	if err != nil {
		return Introspection{}, err
	}
	if req.Token == "" {
		return Introspection{}, oauth.ErrInvalidRequest("token is required.")
	}
	t, ok, err := i.inspect(ctx, req.Token)
	if err != nil || !ok || !i.mayInspect(caller, t.ClientID) || !i.holderStands(t.Introspection) {
		return Introspection{}, err
	}
	return t.Introspection, nil
}

// Revoke answers RFC 7009: an opaque token is deleted; a JWT's jti is
// recorded until the JWT expires. Unknown or invalid tokens are not an
// error (§2.2); another client's token is unauthorized_client.
func (i *Issuer) Revoke(ctx context.Context, req oauth.TokenRequest, addr string) error {
	caller, _, err := i.authenticateThrottled(ctx, &req, addr)
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
	if !i.mayInspect(caller, t.ClientID) {
		return oauth.ErrUnauthorizedClient("The token was not issued to this client.")
	}
	if t.opaque != "" {
		if err := i.tokens.DeleteOpaqueToken(ctx, t.opaque); err != nil && !errors.Is(err, store.ErrNotFound) {
			return oauth.ErrTemporarilyUnavailable(err)
		}
		// Also list its jti, so a gateway holding a cached introspection
		// answer drops it at its next revocation poll.
	}
	err = i.revoked.Add(ctx, store.Revocation{
		JTI: t.JTI, ClientID: t.ClientID, RevokedAt: i.now(), ExpiresAt: time.Unix(t.Expiry, 0),
	})
	if err != nil {
		return oauth.ErrTemporarilyUnavailable(err)
	}
	return nil
}

// RevokedSince lists revocations for a caller holding the introspection
// grant (the gateway), so it can refuse revoked JWTs it checks offline.
func (i *Issuer) RevokedSince(ctx context.Context, req oauth.TokenRequest, addr string, since time.Time) ([]store.Revocation, error) {
	caller, _, err := i.authenticateThrottled(ctx, &req, addr)
	if err != nil {
		return nil, err
	}
	if _, ok := caller.Grants[store.IntrospectAudience]; !ok {
		return nil, oauth.ErrUnauthorizedClient("Listing revocations needs a grant on %s.", store.IntrospectAudience)
	}
	revs, err := i.tokens.ListRevocations(ctx, since)
	if err != nil {
		return nil, oauth.ErrTemporarilyUnavailable(err)
	}
	return revs, nil
}
