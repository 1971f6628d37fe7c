package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/bearer"
)

// contextKey is the key under which the middleware stores a requestAuth.
type contextKey struct{}

// requestAuth is what the middleware leaves in a request's context.
type requestAuth struct {
	claims *Claims
	realm  string
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

// Middleware verifies the request's bearer token (RFC 6750 §2.1, the
// Authorization header only) and calls next with the claims in the request
// context. It answers 401 with a bare Bearer challenge when there is no
// bearer token, 400 invalid_request when the header is malformed, and 401
// invalid_token when the token is refused; every answer has a JSON body
// {"error","error_description"}.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer.FromHeader(r.Header, bearer.SchemeBearer)
		switch {
		case errors.Is(err, bearer.ErrNoToken):
			writeChallenge(w, http.StatusUnauthorized, challenge{realm: v.realm,
				description: "a bearer access token is required"})
			return
		case err != nil:
			writeChallenge(w, http.StatusBadRequest, challenge{realm: v.realm, code: "invalid_request",
				description: "malformed Authorization header"})
			return
		}
		claims, err := v.Verify(r.Context(), token.Value)
		if err != nil {
			writeChallenge(w, http.StatusUnauthorized, challenge{realm: v.realm, code: "invalid_token",
				description: description(err)})
			return
		}
		ctx := context.WithValue(r.Context(), contextKey{}, requestAuth{claims: claims, realm: v.realm})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
				writeChallenge(w, http.StatusForbidden, challenge{realm: a.realm, code: "insufficient_scope",
					description: why, scope: scope})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// challenge is the middleware's refusal, written as an RFC 6750 §3 Bearer
// challenge by package bearer.
type challenge struct {
	realm, code, description, scope string
}

func (c challenge) header() bearer.Challenge {
	return bearer.Challenge{Scheme: bearer.SchemeBearer, Realm: c.realm, Code: c.code,
		Description: c.description, Scope: c.scope}
}

func (c challenge) String() string { return c.header().String() }

func writeChallenge(w http.ResponseWriter, status int, c challenge) {
	bearer.WriteChallenge(w, status, c.header())
}
