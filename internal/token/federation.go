package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/jsonw"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// External says who acted, in a token issued for an outside token
// (DESIGN §9): the outside issuer and subject, and the trust and rule
// that accepted it. It is the token's "ext" claim; RFC 8693's "act" is
// kept for delegation, where one gatehouse client acts for another.
type External struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Trust   string `json:"trust"`
	Rule    string `json:"rule"`
}

// AppendJSON appends e as encoding/json writes it: the ext claim, and the
// ext of a token.issued audit event.
func (e *External) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = jsonw.AppendField(b, "iss", e.Issuer)
	b = jsonw.AppendField(b, "sub", e.Subject)
	b = jsonw.AppendField(b, "trust", e.Trust)
	b = jsonw.AppendField(b, "rule", e.Rule)
	return append(b, '}')
}

// resolution is what a grant decided beyond the client: limits the
// token must stay within and claims it carries.
type resolution struct {
	client *store.Client
	// scopeCap, when not nil, bounds the scopes: asking for more is
	// invalid_scope, asking for none gives the granted ones within it.
	scopeCap []string
	capName  string // what the cap is, for the error
	ttlCap   time.Duration
	// notAfter, when set, is the latest the token may expire.
	notAfter        time.Time
	external        *External
	act             map[string]any
	subject         string
	issuedTokenType string
}

// federated runs an outside token through the federation engine and
// returns the client its rule names. Every refusal is a generic
// invalid_grant whose cause (logged and audited) says, per trust and
// rule, why.
func (i *Issuer) federated(ctx context.Context, raw, clientID, issuedType string) (*resolution, error) {
	d, err := i.federation.Exchange(ctx, raw, clientID)
	if err != nil {
		var ref *federation.Refusal
		if errors.As(err, &ref) && ref.Ambiguous {
			return nil, oauth.ErrInvalidGrant("Several rules accept this token; the request must name its client with client_id.").WithCause(err)
		}
		return nil, oauth.ErrInvalidGrant("The token was not accepted.").WithCause(err)
	}
	client, ok := i.catalog.Client(d.Rule.Client)
	var why error
	switch {
	case !ok:
		why = fmt.Errorf("rule %s of trust %s names client %q, which does not exist", d.Rule.Name, d.Trust.Key(), d.Rule.Client)
	case client.Disabled:
		why = fmt.Errorf("rule %s of trust %s names client %q, which is disabled", d.Rule.Name, d.Trust.Key(), d.Rule.Client)
	case client.Tenant != d.Trust.Tenant:
		why = fmt.Errorf("rule %s of trust %s names client %q of another tenant", d.Rule.Name, d.Trust.Key(), d.Rule.Client)
	}
	if why != nil {
		return nil, oauth.ErrInvalidGrant("The token was not accepted.").WithCause(&federation.Refusal{
			Issuer: d.Claims.Issuer, Subject: d.Claims.Subject, Reason: why.Error()})
	}
	res := &resolution{
		client: client, ttlCap: d.Rule.TokenTTL, issuedTokenType: issuedType,
		external: &External{Issuer: d.Claims.Issuer, Subject: d.Claims.Subject, Trust: d.Trust.Key(), Rule: d.Rule.Name},
	}
	if len(d.Rule.Scopes) > 0 {
		res.scopeCap, res.capName = d.Rule.Scopes, "rule "+d.Rule.Name
	}
	return res, nil
}

// apply holds g, the policy's grant for the resolved client, to what the
// grant decided: the scope cap, the lifetime caps, the claims.
func (r *resolution) apply(g *Grant, req oauth.TokenRequest, now time.Time) error {
	if r.scopeCap != nil {
		explicit := req.ScopeGiven && len(g.Scopes) > 0
		kept := g.Scopes[:0:0]
		for _, s := range g.Scopes {
			switch {
			case slices.Contains(r.scopeCap, s):
				kept = append(kept, s)
			case explicit:
				return oauth.ErrInvalidScope("Scope %q is more than %s allows.", truncate(s), r.capName)
			}
		}
		g.Scopes = kept
	}
	if r.ttlCap > 0 && r.ttlCap < g.TTL {
		g.TTL = r.ttlCap
	}
	if !r.notAfter.IsZero() {
		left := r.notAfter.Sub(now.Truncate(time.Second)).Truncate(time.Second)
		if left < time.Second {
			return oauth.ErrInvalidGrant("The subject token has expired.")
		}
		g.TTL = min(g.TTL, left)
	}
	g.External, g.Act, g.Subject, g.IssuedTokenType = r.external, r.act, r.subject, r.issuedTokenType
	return nil
}
