package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
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
		token, problem := bearerToken(r)
		switch problem {
		case missingToken:
			writeChallenge(w, http.StatusUnauthorized, challenge{realm: v.realm,
				description: "a bearer access token is required"})
			return
		case malformedHeader:
			writeChallenge(w, http.StatusBadRequest, challenge{realm: v.realm, code: "invalid_request",
				description: "malformed Authorization header"})
			return
		}
		claims, err := v.Verify(r.Context(), token)
		if err != nil {
			writeChallenge(w, http.StatusUnauthorized, challenge{realm: v.realm, code: "invalid_token",
				description: description(err)})
			return
		}
		ctx := context.WithValue(r.Context(), contextKey{}, requestAuth{claims: claims, realm: v.realm})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type headerProblem int

const (
	noProblem headerProblem = iota
	missingToken
	malformedHeader
)

// bearerToken reads "Authorization: Bearer <token>", the scheme in any
// case. No header, or another scheme, counts as no token (RFC 6750 §3.1);
// several headers or an empty token are malformed.
func bearerToken(r *http.Request) (string, headerProblem) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", missingToken
	case 1:
	default:
		return "", malformedHeader
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", missingToken
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", malformedHeader
	}
	return token, noProblem
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
				writeJSON(w, http.StatusInternalServerError, "server_error",
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

// challenge is one WWW-Authenticate: Bearer challenge (RFC 6750 §3).
type challenge struct {
	realm, code, description, scope string
}

func (c challenge) String() string {
	var params []string
	add := func(name, value string) {
		if value != "" {
			params = append(params, name+`="`+quotable(value)+`"`)
		}
	}
	add("realm", c.realm)
	add("error", c.code)
	if c.code != "" {
		add("error_description", c.description)
	}
	add("scope", c.scope)
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

// quotable drops the characters RFC 6750 §3 does not allow inside the
// quoted values (", \ and anything outside printable ASCII).
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

func writeChallenge(w http.ResponseWriter, status int, c challenge) {
	w.Header().Set("WWW-Authenticate", c.String())
	writeJSON(w, status, c.code, c.description)
}

// writeJSON writes the error body. A missing token has no error code
// (RFC 6750 §3.1), so its body carries only the description.
func writeJSON(w http.ResponseWriter, status int, code, description string) {
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description"`
	}{code, description}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
