package store

import (
	"context"
	"time"
)

// OpaqueToken is an issued opaque token: only a handle. The store keeps the
// SHA-256 of the token, never the token.
type OpaqueToken struct {
	Hash        string
	ClientID    string
	Audience    string
	Scopes      []string
	Tenant      string
	Environment string
	Service     string
	JTI         string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	// Confirmation binds the token to its holder (RFC 9449 cnf.jkt,
	// RFC 8705 cnf.x5t#S256); zero for a bearer token.
	Confirmation Confirmation
}

// Confirmation is the cnf claim of a sender-constrained token.
type Confirmation struct {
	JKT     string `json:"jkt,omitempty"`
	X5TS256 string `json:"x5t#S256,omitempty"`
}

// Bound reports whether the token is sender-constrained.
func (c Confirmation) Bound() bool { return c.JKT != "" || c.X5TS256 != "" }

// UsedID is a one-time identifier (a client assertion's or DPoP proof's
// jti, namespaced by the caller) kept until it expires.
type UsedID struct {
	Key       string
	ExpiresAt time.Time
}

// Revocation records a revoked JWT by its jti until the JWT expires.
type Revocation struct {
	JTI       string    `json:"jti"`
	ClientID  string    `json:"client_id"`
	RevokedAt time.Time `json:"revoked_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Audit event kinds.
const (
	AuditTokenIssued = "token.issued"
	// AuditTokenRefused records a refused outside token (workload identity
	// federation): which trusts and rules were tried and why each failed.
	AuditTokenRefused = "token.refused"
)

// AuditEvent is who did what, when. Detail holds the kind's own fields
// (before/after of an admin change; audience, scopes, jti, expiry and
// source address of an issuance) as JSON.
type AuditEvent struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Actor    string    `json:"actor"`
	ClientID string    `json:"client_id,omitempty"`
	Target   string    `json:"target,omitempty"`
	Detail   string    `json:"detail"`
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	ClientID string
	Since    time.Time
	Until    time.Time
	Kind     string
	Limit    int
	// HideAdminTokens leaves out the issuance of admin API tokens, which
	// the CLI and console cause on every command.
	HideAdminTokens bool
}

// TokenStore holds what issuing and revoking tokens needs beyond the catalog.
type TokenStore interface {
	CreateOpaqueToken(ctx context.Context, t OpaqueToken) error
	GetOpaqueToken(ctx context.Context, hash string) (OpaqueToken, error)
	DeleteOpaqueToken(ctx context.Context, hash string) error
	// PurgeExpired removes opaque tokens and revocations expired before t.
	PurgeExpired(ctx context.Context, t time.Time) (int64, error)

	// ClaimIDs records each id until its expiry and reports, in order,
	// which were not recorded before: the one check that makes an id
	// single-use across nodes. PurgeExpired removes expired ids too.
	ClaimIDs(ctx context.Context, ids []UsedID) (fresh []bool, err error)

	Revoke(ctx context.Context, r Revocation) error
	// ListRevocations returns unexpired revocations made at or after since.
	ListRevocations(ctx context.Context, since time.Time) ([]Revocation, error)
}

// AuditStore holds the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, events []AuditEvent) error
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PurgeAudit removes events recorded before t (the retention limit).
	PurgeAudit(ctx context.Context, t time.Time) (int64, error)
}
