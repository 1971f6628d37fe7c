package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/bearer"
	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// maxBody bounds an admin request body.
const maxBody = 1 << 20

// Handler is the JSON admin API under /admin/v1.
type Handler struct {
	service *Service
	tokens  *verify.Verifier
	revoked RevocationList
	keys    KeyRotator
	// bound holds DPoP- and certificate-bound admin tokens to their key
	// or certificate, as a product API holds its tokens.
	bound *binding.Checker
	log   *slog.Logger
}

// RevocationList says whether a token's jti was revoked (token.Revocations).
type RevocationList interface {
	Revoked(jti string) bool
}

// NewHandler returns the admin API over svc. tokens checks bearer tokens
// for AdminAudience (the same verifier product APIs use, over the node's
// own keys); revoked and keys serve the revocation check and the key
// routes. A bound token's DPoP proof names the URL the request came to
// (its Host, https when over TLS).
func NewHandler(svc *Service, tokens *verify.Verifier, revoked RevocationList, keys KeyRotator, log *slog.Logger) *Handler {
	bound, _ := binding.New(binding.Config{Now: svc.clock}) // fails only for a bad PublicURL
	return &Handler{service: svc, tokens: tokens, revoked: revoked, keys: keys, bound: bound, log: log}
}

// KeyRotator lists signing keys and starts a rotation (keys.Rotator).
type KeyRotator interface {
	List(ctx context.Context) ([]store.SigningKey, error)
	Rotate(ctx context.Context) ([]store.SigningKey, error)
}

// Mount adds the admin routes to mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	r, w := h.auth(store.ScopeRead), h.auth(store.ScopeWrite)
	mux.Handle("GET /admin/v1/tenants", r(h.listTenants))
	mux.Handle("POST /admin/v1/tenants", w(h.createTenant))
	mux.Handle("GET /admin/v1/tenants/{id}", r(h.getTenant))
	mux.Handle("PATCH /admin/v1/tenants/{id}", w(h.updateTenant))
	mux.Handle("GET /admin/v1/audit", r(h.listAudit))
	mux.Handle("GET /admin/v1/environments", r(h.listEnvironments))
	mux.Handle("POST /admin/v1/environments", w(h.createEnvironment))
	mux.Handle("GET /admin/v1/apis", r(h.listAPIs))
	mux.Handle("POST /admin/v1/apis", w(h.createAPI))
	mux.Handle("GET /admin/v1/apis/{audience}", r(h.getAPI))
	mux.Handle("PATCH /admin/v1/apis/{audience}", w(h.updateAPI))
	mux.Handle("DELETE /admin/v1/apis/{audience}", w(h.deleteAPI))
	mux.Handle("GET /admin/v1/clients", r(h.listClients))
	mux.Handle("POST /admin/v1/clients", w(h.createClient))
	mux.Handle("GET /admin/v1/clients/{id}", r(h.getClient))
	mux.Handle("PATCH /admin/v1/clients/{id}", w(h.updateClient))
	mux.Handle("DELETE /admin/v1/clients/{id}", w(h.deleteClient))
	mux.Handle("POST /admin/v1/clients/{id}/disable", w(h.setDisabled(true)))
	mux.Handle("POST /admin/v1/clients/{id}/enable", w(h.setDisabled(false)))
	mux.Handle("POST /admin/v1/clients/{id}/rotate-secret", w(h.rotateSecret))
	mux.Handle("GET /admin/v1/keys", r(h.listKeys))
	mux.Handle("POST /admin/v1/keys/rotate", w(h.rotateKeys))
	h.mountTrusts(mux, r, w)
	mux.Handle("/admin/", h.auth(store.ScopeRead)(func(w http.ResponseWriter, r *http.Request) error {
		return apiError(http.StatusNotFound, "not_found", "No admin endpoint "+r.Method+" "+r.URL.Path+".")
	}))
}

// handlerFunc is an admin handler that returns its error for one place to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// auth checks the access token (RFC 6750, or RFC 9449 DPoP) for the admin
// audience and scope, then runs next and writes any error it returns. A
// token bound to a DPoP key or a client certificate passes only with a
// proof of that key or over a connection with that certificate: sent as
// a plain Bearer token it is refused, like a stolen one.
func (h *Handler) auth(scope string) func(handlerFunc) http.Handler {
	return func(next handlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := bearer.FromHeader(r.Header, bearer.SchemeBearer, bearer.SchemeDPoP)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin"`)
				h.write(w, r, apiError(http.StatusUnauthorized, "invalid_token", "A bearer token for "+store.AdminAudience+" is required."))
				return
			}
			challenge := string(tok.Scheme) + ` realm="gatehouse-admin", error=`
			claims, err := h.tokens.Verify(r.Context(), tok.Value)
			var granted []string
			if err == nil {
				// The token must still stand: not revoked, its client still
				// there and enabled, and the scope still in the client's grant.
				c, ok := h.service.catalog.Client(claims.ClientID)
				if !ok || c.Disabled || h.revoked.Revoked(claims.JTI) {
					err = verify.ErrInvalidToken
				} else {
					granted = c.Grants[store.AdminAudience]
				}
			}
			if err != nil {
				w.Header().Set("WWW-Authenticate", challenge+`"invalid_token"`)
				h.write(w, r, apiError(http.StatusUnauthorized, "invalid_token", "The access token is not valid for the admin API."))
				return
			}
			if ref := h.bound.Check(r, tok, binding.Confirmation(claims.Confirmation)); ref != nil {
				w.Header().Set("WWW-Authenticate", challenge+`"`+ref.Code+`"`)
				h.write(w, r, apiError(http.StatusUnauthorized, ref.Code, ref.Description))
				return
			}
			if !claims.HasScope(scope) || !slices.Contains(granted, scope) {
				w.Header().Set("WWW-Authenticate", challenge+`"insufficient_scope", scope="`+scope+`"`)
				h.write(w, r, apiError(http.StatusForbidden, "insufficient_scope", "This needs scope "+scope+"."))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			h.write(w, r, next(w, r.WithContext(WithActor(r.Context(), claims.ClientID))))
		})
	}
}

// Authorized protects next like the admin API's own routes: a bearer token
// for store.AdminAudience holding scope; next sees the caller in Actor(r.Context()).
func (h *Handler) Authorized(scope string, next http.HandlerFunc) http.Handler {
	return h.auth(scope)(func(w http.ResponseWriter, r *http.Request) error { next(w, r); return nil })
}

type actorKey struct{}

// WithActor returns ctx naming the admin client (or console user) making changes.
func WithActor(ctx context.Context, clientID string) context.Context {
	return context.WithValue(ctx, actorKey{}, clientID)
}

// Actor returns the admin client that made the request.
func Actor(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}

// Error is an admin API error answer.
type Error struct {
	Status      int
	Code        string
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func apiError(status int, code, description string) *Error {
	return &Error{Status: status, Code: code, Description: description}
}

// write maps err to its answer: rule breaks 400, missing 404, clashes 409,
// an unreachable store 503, anything else 500 (logged, not shown).
func (h *Handler) write(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &tooBig):
		e = apiError(http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
	case errors.Is(err, ErrInvalid):
		e = apiError(http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	case errors.Is(err, store.ErrNotFound):
		e = apiError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrAlreadyExists):
		e = apiError(http.StatusConflict, "already_exists", err.Error())
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		h.log.ErrorContext(r.Context(), "admin request failed: store unavailable", "err", err)
		e = apiError(http.StatusServiceUnavailable, "temporarily_unavailable", "The database is unavailable; nothing was changed. Try again.")
	default:
		h.log.ErrorContext(r.Context(), "admin request failed", "err", err)
		e = apiError(http.StatusInternalServerError, "server_error", "The server could not complete the request.")
	}
	oauth.WriteJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// decode reads a JSON body into v, refusing unknown fields and trailing data.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return invalid("the body is not valid JSON for this request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the body has data after its JSON object")
	}
	return nil
}
