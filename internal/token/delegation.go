package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// maxActDepth bounds an act chain: each exchange nests one more.
const maxActDepth = 8

// subjectToken is a gatehouse access token presented for exchange.
type subjectToken struct {
	subject, clientID, audience, tenant string
	scopes                              []string
	expiry                              time.Time
	act                                 any  // the token's act claim, nil without one
	bound                               bool // sender-constrained (cnf)
}

// delegate is RFC 8693 delegation: caller, authenticated, exchanges a
// gatehouse access token for one to another audience with no more
// scopes, where that API accepts exchange from the subject token's
// audience. The new token keeps the subject's sub, carries an act chain
// naming caller (and the earlier actors, nested), and never outlives the
// subject token.
func (i *Issuer) delegate(ctx context.Context, req oauth.TokenRequest, caller *store.Client) (*resolution, error) {
	st, err := i.subjectToken(ctx, req.SubjectToken)
	if err != nil {
		return nil, oauth.ErrInvalidGrant("The subject token is not valid.").WithCause(err)
	}
	if st.bound {
		// Its holder proves a key or certificate at every use; the
		// exchanging client cannot, so the binding would be laundered.
		return nil, oauth.ErrInvalidGrant("A sender-constrained (DPoP or certificate-bound) subject token cannot be exchanged.")
	}
	if st.tenant != caller.Tenant {
		return nil, oauth.ErrInvalidGrant("The subject token may not be exchanged by this client.").
			WithCause(fmt.Errorf("subject token of tenant %q, caller of tenant %q", st.tenant, caller.Tenant))
	}
	audience, err := i.audience(req)
	if err != nil {
		return nil, err
	}
	api, ok := i.catalog.Resolve(audience, caller.Tenant)
	if !ok {
		return nil, oauth.ErrAccessDenied(audience)
	}
	from := []string{st.audience}
	if src, ok := i.catalog.Resolve(st.audience, st.tenant); ok {
		from = append(from, src.Audience) // a template, as grants name it
	}
	if !slices.ContainsFunc(from, func(a string) bool { return slices.Contains(api.AcceptExchangeFrom, a) }) {
		return nil, oauth.ErrInvalidTarget("%q does not accept tokens exchanged from %q.", truncate(audience), truncate(st.audience))
	}
	if depth(st.act) >= maxActDepth {
		return nil, oauth.ErrInvalidGrant("The subject token has been exchanged too many times.")
	}
	act := map[string]any{"sub": caller.ID + "@clients", "client_id": caller.ID}
	if st.act != nil {
		act["act"] = st.act
	}
	return &resolution{
		client: caller, scopeCap: st.scopes, capName: "the subject token", notAfter: st.expiry,
		act: act, subject: st.subject, issuedTokenType: oauth.TokenTypeAccess,
	}, nil
}

// subjectToken reads a gatehouse access token: a JWT this gatehouse
// signed, or a stored opaque token; not expired, not revoked.
func (i *Issuer) subjectToken(ctx context.Context, raw string) (*subjectToken, error) {
	if strings.Count(raw, ".") == 2 {
		c, err := i.own.Verify(ctx, raw)
		if err != nil {
			return nil, err
		}
		if i.revoked.Revoked(c.JTI) {
			return nil, errors.New("the subject token was revoked")
		}
		return &subjectToken{subject: c.Subject, clientID: c.ClientID, audience: c.Audience[0], tenant: c.Tenant,
			scopes: c.Scopes, expiry: c.Expiry, act: c.Raw["act"], bound: c.Confirmation != (verify.Confirmation{})}, nil
	}
	t, ok, err := i.inspect(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !ok || i.revoked.Revoked(t.JTI) {
		return nil, errors.New("not an active gatehouse access token")
	}
	return &subjectToken{subject: t.Subject, clientID: t.ClientID, audience: t.Audience, tenant: t.Tenant,
		scopes: strings.Fields(t.Scope), expiry: time.Unix(t.Expiry, 0), bound: t.Cnf != nil}, nil
}

// depth counts the actors of an act chain.
func depth(act any) int {
	n := 0
	for m, ok := act.(map[string]any); ok; m, ok = m["act"].(map[string]any) {
		n++
	}
	return n
}
