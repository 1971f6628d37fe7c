package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/verify"
)

// principal is what a valid token says about its holder, whatever its
// format.
type principal struct {
	ClientID    string
	Tenant      string
	Environment string
	Service     string
	APIKey      string
	JTI         string
	Audience    []string
	Scopes      []string
	// Confirmation is what the token is bound to; zero when unbound.
	Confirmation binding.Confirmation
}

// refusal is an RFC 6750 §3 answer: 401 invalid_token, 403
// insufficient_scope, 400 invalid_request, or 401 without an error code
// when no token was sent.
type refusal struct {
	status      int
	code        string
	description string
	scope       string
}

func invalidToken(description string) *refusal {
	return &refusal{status: http.StatusUnauthorized, code: "invalid_token", description: description}
}

func insufficientScope(description, scope string) *refusal {
	return &refusal{status: http.StatusForbidden, code: "insufficient_scope", description: description, scope: scope}
}

// errUnavailable marks a token the gateway could not check because
// gatehouse did not answer.
var errUnavailable = errors.New("gatehouse is unavailable")

// opaqueLength is the length of gatehouse's opaque tokens, all [A-Za-z0-9].
const opaqueLength = 32

func isOpaque(token string) bool {
	if len(token) != opaqueLength {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// accessToken reads "Authorization: Bearer <token>" (RFC 6750 §2.1) or
// "Authorization: DPoP <token>" (RFC 9449 §7.1), the scheme in any case.
// No header or another scheme is no token; several headers or an empty
// token are a malformed request.
func accessToken(r *http.Request) (token bearer.Token, present bool, malformed bool) {
	t, err := bearer.FromHeader(r.Header, bearer.SchemeBearer, bearer.SchemeDPoP)
	switch {
	case errors.Is(err, bearer.ErrNoToken):
		return bearer.Token{}, false, false
	case err != nil:
		return bearer.Token{}, true, true
	}
	return t, true, false
}

// authenticate checks token for route rt: a JWT offline with the route's
// verifier and the revocation list, an opaque token by introspection.
func (g *Gateway) authenticate(ctx context.Context, rt *route, token string) (*principal, *refusal, error) {
	switch {
	case isOpaque(token):
		return g.introspected(ctx, rt, token)
	case strings.Count(token, ".") == 2:
		c, err := rt.verifier.Verify(ctx, token)
		if err != nil {
			return nil, invalidToken(tokenErrorText(err)), nil
		}
		if g.revoked.revoked(c.JTI) || g.revoked.clientGone(c.ClientID, c.IssuedAt.Unix()) {
			return nil, invalidToken("token revoked"), nil
		}
		return &principal{
			ClientID: c.ClientID, Tenant: c.Tenant, Environment: c.Environment, Service: c.Service,
			APIKey: c.APIKey, JTI: c.JTI, Audience: c.Audience, Scopes: c.Scopes,
			Confirmation: binding.Confirmation(c.Confirmation),
		}, nil, nil
	}
	return nil, invalidToken("malformed token"), nil
}

// tokenErrorText is the client-safe reason of a verify error: the text of
// the specific verify error it wraps.
func tokenErrorText(err error) string {
	for _, e := range []error{verify.ErrMalformed, verify.ErrTokenType, verify.ErrAlgorithm, verify.ErrUnknownKey,
		verify.ErrSignature, verify.ErrIssuer, verify.ErrAudience, verify.ErrExpired, verify.ErrNotYetValid} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return verify.ErrInvalidToken.Error()
}

// introspected checks an opaque token through the introspection cache and
// applies the checks the verify package makes for JWTs: iss, exp, aud.
func (g *Gateway) introspected(ctx context.Context, rt *route, token string) (*principal, *refusal, error) {
	a, err := g.introspections.lookup(ctx, token)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, errors.Join(errUnavailable, err)
	}
	switch {
	case !a.Active:
		return nil, invalidToken("token is not active"), nil
	case a.Issuer != g.issuer:
		return nil, invalidToken("wrong issuer"), nil
	case !g.now().Before(time.Unix(a.Expiry, 0)):
		return nil, invalidToken("token expired"), nil
	case g.revoked.revoked(a.JTI), g.revoked.clientGone(a.ClientID, a.IssuedAt):
		return nil, invalidToken("token revoked"), nil
	}
	cnf, err := binding.FromClaim(a.Cnf)
	if err != nil {
		return nil, invalidToken("malformed token"), nil
	}
	p := &principal{
		ClientID: a.ClientID, Tenant: a.Tenant, Environment: a.Environment, Service: a.Service,
		APIKey: a.APIKey, JTI: a.JTI, Audience: []string{a.Audience}, Scopes: strings.Fields(a.Scope),
		Confirmation: cnf,
	}
	if !slices.Contains(p.Audience, resolveAudience(rt.cfg.Audience, p.Tenant)) {
		return nil, invalidToken("wrong audience"), nil
	}
	return p, nil, nil
}

// resolveAudience fills an audience template's {tenant}, as gatehouse
// does when it issues the token.
func resolveAudience(audience, tenant string) string {
	if !strings.Contains(audience, "{tenant}") {
		return audience
	}
	if tenant == "" {
		return "" // matches no token
	}
	return strings.ReplaceAll(audience, "{tenant}", tenant)
}

// authorize applies the route's rules to a valid token. On a service
// route, a token issued for another service (or at /oauth/token) is not a
// token for this resource at all: 401 invalid_token. A token of the right
// service but another environment is a valid token without the right to
// this environment: 403 insufficient_scope, as verify.RequireEnvironment
// answers. Missing scopes are 403 insufficient_scope naming them.
func authorize(m match, p *principal) *refusal {
	rt := m.route
	if rt.cfg.Service != "" {
		if p.Service != rt.cfg.Service {
			return invalidToken("the token was not issued for this service")
		}
		if p.APIKey != m.apiKey {
			return insufficientScope("the token is not valid for this environment", "")
		}
	}
	for _, s := range rt.cfg.Scopes {
		if !slices.Contains(p.Scopes, s) {
			return insufficientScope("the token lacks a required scope", strings.Join(rt.cfg.Scopes, " "))
		}
	}
	return nil
}
