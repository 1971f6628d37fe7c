package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/binding"
)

// contextKey is the key under which the middleware stores a requestAuth.
type contextKey struct{}

// requestAuth is what the middleware leaves in a request's context: the
// claims, and what the Require* refusals need to answer in kind.
type requestAuth struct {
	claims   *Claims
	realm    string
	scheme   bearer.Scheme
	metadata string
}

// ContextWithClaims returns a copy of ctx that carries claims, as the
// middleware does; handler tests use it to skip token verification.
func ContextWithClaims(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, requestAuth{claims: claims})
}

// ClaimsFromContext returns the claims the middleware verified for this
// request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	a, ok := ctx.Value(contextKey{}).(requestAuth)
	return a.claims, ok && a.claims != nil
}

// Middleware verifies the request's access token (the Authorization
// header only) and calls next with the claims in the request context.
//
// A token comes as "Bearer" (RFC 6750 §2.1) or as "DPoP" with a proof in
// the DPoP header (RFC 9449 §7.1). A token bound to a DPoP key (cnf.jkt)
// passes only as DPoP, with a proof for this request (method, URL: see
// Config.PublicURL) and this token, signed by that key and not seen
// before; a token bound to a client certificate (cnf x5t#S256) passes only
// over a connection with that certificate (see Config.ClientCertificate);
// an unbound token passes as Bearer unless Config.RequireDPoP is set.
// Proofs are remembered in this process's memory only, so one replayed to
// another instance of the API within its minute or so is not caught.
//
// It answers 401 with bare Bearer and DPoP challenges when there is no
// token, 400 invalid_request when the Authorization header is malformed,
// 401 invalid_token when the token is refused, and 401 invalid_dpop_proof
// when the proof is; the challenge of the scheme the request used comes
// first and carries the error. Every answer has a JSON body
// {"error","error_description"}.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer.FromHeader(r.Header, bearer.SchemeBearer, bearer.SchemeDPoP)
		switch {
		case errors.Is(err, bearer.ErrNoToken):
			v.refuse(w, http.StatusUnauthorized, challenge{description: "a bearer access token is required"})
			return
		case err != nil:
			v.refuse(w, http.StatusBadRequest, challenge{code: "invalid_request", description: "malformed Authorization header"})
			return
		}
		claims, err := v.Verify(r.Context(), token.Value)
		if err != nil {
			v.refuse(w, http.StatusUnauthorized, challenge{scheme: token.Scheme, code: "invalid_token",
				description: description(err)})
			return
		}
		if ref := v.resource.binding.Check(r, token, binding.Confirmation(claims.Confirmation)); ref != nil {
			v.refuse(w, http.StatusUnauthorized, challenge{scheme: token.Scheme, code: ref.Code, description: ref.Description})
			return
		}
		ctx := context.WithValue(r.Context(), contextKey{}, requestAuth{claims: claims, realm: v.realm,
			scheme: token.Scheme, metadata: v.resource.metadataURL})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// refuse answers 400 or 401 with the challenges of every scheme this
// Verifier accepts.
func (v *Verifier) refuse(w http.ResponseWriter, status int, c challenge) {
	c.realm, c.metadata = v.realm, v.resource.metadataURL
	v.resource.binding.WriteChallenges(w, status, c.header())
}

// RequireScope returns middleware that lets a request through only when its
// token grants every one of scopes; otherwise it answers 403
// insufficient_scope naming them (RFC 6750 §3.1). It must run inside
// Verifier.Middleware; without verified claims it answers 500.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return require(func(c *Claims) (bool, string) {
		for _, s := range scopes {
			if !c.HasScope(s) {
				return false, "the token lacks a required scope"
			}
		}
		return true, ""
	}, strings.Join(scopes, " "))
}

// RequireEnvironment returns middleware that lets a request through only
// when its token was issued to a client of environment env; otherwise it
// answers 403 insufficient_scope. A token of an organization-wide client
// (no environment claim) does not pass. It must run inside
// Verifier.Middleware.
func RequireEnvironment(env string) func(http.Handler) http.Handler {
	return require(func(c *Claims) (bool, string) {
		return c.Environment == env, "the token is not valid for this environment"
	}, "")
}

// RequireService returns middleware that lets a request through only when
// its token was issued at the per-service endpoint of service; otherwise it
// answers 403 insufficient_scope. It must run inside Verifier.Middleware.
func RequireService(service string) func(http.Handler) http.Handler {
	return require(func(c *Claims) (bool, string) {
		return c.Service == service, "the token is not valid for this service"
	}, "")
}

// require builds the Require* middleware: allow decides, and its text is
// the error_description of the 403.
func require(allow func(*Claims) (bool, string), scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, _ := r.Context().Value(contextKey{}).(requestAuth)
			if a.claims == nil {
				bearer.WriteError(w, http.StatusInternalServerError, "server_error",
					"verify: Require* used without Verifier.Middleware")
				return
			}
			if ok, why := allow(a.claims); !ok {
				c := challenge{scheme: a.scheme, realm: a.realm, metadata: a.metadata, code: "insufficient_scope",
					description: why, scope: scope}
				bearer.WriteChallenge(w, http.StatusForbidden, c.header())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// challenge is the middleware's refusal, written as an RFC 6750 §3
// challenge by package bearer: in the scheme the request used, Bearer
// when none.
type challenge struct {
	scheme                                    bearer.Scheme
	realm, code, description, scope, metadata string
}

func (c challenge) header() bearer.Challenge {
	if c.scheme == "" {
		c.scheme = bearer.SchemeBearer
	}
	return bearer.Challenge{Scheme: c.scheme, Realm: c.realm, Code: c.code,
		Description: c.description, Scope: c.scope, ResourceMetadata: c.metadata}
}

func (c challenge) String() string { return c.header().String() }
