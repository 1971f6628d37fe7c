package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Revoker records revocations: the node's revocation list
// (token.Revocations), which introspection, the admin API's own bearer
// check and the gateways' revocation feed all read.
type Revoker interface {
	RevocationList
	Add(ctx context.Context, r store.Revocation) error
}

// RevokedToken is the answer to an operator's revocation by jti.
type RevokedToken struct {
	JTI       string    `json:"jti"`
	ClientID  string    `json:"client_id"`
	Audience  string    `json:"audience"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at"`
	// AlreadyRevoked is set when the token was revoked before (the call
	// changed nothing; RevokedAt is then this call's time).
	AlreadyRevoked bool `json:"already_revoked,omitempty"`
}

// jtiRE is what a jti gatehouse issued looks like, with room for imported
// forms; it keeps LIKE patterns and log lines plain.
var jtiRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// RevokeToken revokes the token (JWT or opaque) whose jti the audit log
// shows, until it expires. It finds the token's client, audience and
// expiry in its issuance event, so only a token gatehouse issued within
// the longest token lifetime (and still in the audit log) is found.
// Revoking twice is not an error; an expired token is refused, since it
// is refused everywhere already.
func (s *Service) RevokeToken(ctx context.Context, list Revoker, jti string) (RevokedToken, error) {
	if !jtiRE.MatchString(jti) {
		return RevokedToken{}, invalid("the jti must be the token id the audit log shows: 1-128 letters, digits, '-' or '_'")
	}
	longest, err := s.longestLifetime(ctx)
	if err != nil {
		return RevokedToken{}, err
	}
	now := s.now()
	events, err := s.store.ListAudit(ctx, store.AuditFilter{JTI: jti, Since: now.Add(-longest), Limit: 1})
	if err != nil {
		return RevokedToken{}, err
	}
	if len(events) == 0 {
		// Issuance events reach the store in batches, within about a
		// second: a token issued just now is not found yet.
		return RevokedToken{}, fmt.Errorf("no token with jti %q was issued in the last %s (the longest token lifetime), "+
			"or its issuance has not reached the audit log yet (it does within a second or two: try again): %w", jti, longest, store.ErrNotFound)
	}
	var issued struct {
		Audience string `json:"audience"`
		Expires  int64  `json:"exp"`
	}
	if err := json.Unmarshal([]byte(events[0].Detail), &issued); err != nil || issued.Expires == 0 {
		return RevokedToken{}, fmt.Errorf("the issuance event of jti %q has no expiry: %w", jti, store.ErrNotFound)
	}
	out := RevokedToken{JTI: jti, ClientID: events[0].ClientID, Audience: issued.Audience,
		ExpiresAt: time.Unix(issued.Expires, 0).UTC(), RevokedAt: now}
	if !now.Before(out.ExpiresAt) {
		return out, invalid("the token with jti %q expired at %s: it is refused everywhere already", jti, out.ExpiresAt.Format(time.RFC3339))
	}
	if list.Revoked(jti) {
		out.AlreadyRevoked = true
		return out, nil
	}
	err = list.Add(ctx, store.Revocation{JTI: jti, ClientID: out.ClientID, RevokedAt: now, ExpiresAt: out.ExpiresAt})
	if err != nil {
		return RevokedToken{}, err
	}
	s.audit(ctx, "token.revoke", jti, nil, out)
	return out, nil
}

// longestLifetime is the longest token_ttl of any API: no token lives
// longer (a client's token_ttl only shortens it).
func (s *Service) longestLifetime(ctx context.Context) (time.Duration, error) {
	apis, err := s.store.ListAPIs(ctx)
	if err != nil {
		return 0, err
	}
	longest := time.Hour
	for _, a := range apis {
		longest = max(longest, a.TokenTTL)
	}
	return longest, nil
}
