package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Error is an OAuth 2.0 error answer (RFC 6749 §5.2): handlers return it,
// and WriteError puts it on the wire.
type Error struct {
	Code        string
	Description string
	Status      int
	// Challenge, when set, goes in WWW-Authenticate.
	Challenge string
	// RetryAfter, when positive, goes in Retry-After (whole seconds, rounded up).
	RetryAfter time.Duration
	// Allow, when set, goes in Allow (for 405).
	Allow string
	// Header holds further headers to send (RateLimit-*).
	Header map[string]string
	// Cause is logged, never sent.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

// WithCause sets the error's cause, which is logged and never sent.
func (e *Error) WithCause(cause error) *Error {
	e.Cause = cause
	return e
}

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// ErrInvalidRequest is a malformed request (400).
func ErrInvalidRequest(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalid_request", format, args...)
}

// ErrInvalidClient is failed client authentication (401). Every cause gets
// the same description; basic adds the Basic challenge (RFC 6749 §5.2).
func ErrInvalidClient(basic bool) *Error {
	e := newError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	if basic {
		e.Challenge = `Basic realm="gatehouse", charset="UTF-8"`
	}
	return e
}

// ErrInvalidDPoPProof is a DPoP proof that is missing where required, or
// fails a check of RFC 9449 §4.3 (400); cause says which, for the log.
func ErrInvalidDPoPProof(description string, cause error) *Error {
	e := newError(http.StatusBadRequest, "invalid_dpop_proof", "%s", description)
	e.Cause = cause
	return e
}

// ErrUseDPoPNonce asks the client to retry with the server's nonce (RFC
// 9449 §8), sent in the DPoP-Nonce header.
func ErrUseDPoPNonce(nonce string) *Error {
	e := newError(http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
	e.Header = map[string]string{"DPoP-Nonce": nonce}
	return e
}

// ErrUnsupportedGrantType is a grant_type gatehouse does not issue (400).
func ErrUnsupportedGrantType(grant string) *Error {
	return newError(http.StatusBadRequest, "unsupported_grant_type", "Grant type %q is not supported; use client_credentials, %s or %s.", truncate(grant), GrantJWTBearer, GrantTokenExchange)
}

// ErrInvalidGrant is an assertion or subject token that is refused (RFC
// 6749 §5.2, RFC 7523 §3.1, RFC 8693 §2.2.2); the description stays
// generic where the reason would help an attacker (400).
func ErrInvalidGrant(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalid_grant", format, args...)
}

// ErrInvalidScope is a scope the client may not have (400).
func ErrInvalidScope(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalid_scope", format, args...)
}

// ErrInvalidTarget is an RFC 8707 resource that is not an absolute URI (400).
func ErrInvalidTarget(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalid_target", format, args...)
}

// ErrAccessDenied is an audience that is unknown or not granted (403), in the
// hosted vendor's words.
func ErrAccessDenied(audience string) *Error {
	return newError(http.StatusForbidden, "access_denied", "Client is not authorized to access %q.", truncate(audience))
}

// ErrUnauthorizedClient refuses a client acting on a token it does not own (400).
func ErrUnauthorizedClient(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "unauthorized_client", format, args...)
}

// ErrNotFound answers a path that names no endpoint, e.g. an unknown service (404).
func ErrNotFound(format string, args ...any) *Error {
	return newError(http.StatusNotFound, "invalid_request", format, args...)
}

// ErrAccessDeniedf is access_denied (403) with its own description.
func ErrAccessDeniedf(format string, args ...any) *Error {
	return newError(http.StatusForbidden, "access_denied", format, args...)
}

// ErrMethodNotAllowed answers any method but POST on a token path (405).
func ErrMethodNotAllowed() *Error {
	e := newError(http.StatusMethodNotAllowed, "invalid_request", "This endpoint accepts only POST.")
	e.Allow = http.MethodPost
	return e
}

// ErrTooLarge answers an oversized body (413).
func ErrTooLarge(limit int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than %d bytes.", limit)
}

// ErrTooManyRequests answers throttling and quotas (429).
func ErrTooManyRequests(description string, retryAfter time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, "too_many_requests", "%s", description)
	e.RetryAfter = retryAfter
	return e
}

// ErrServerError hides an internal failure (500); cause is logged only.
func ErrServerError(cause error) *Error {
	e := newError(http.StatusInternalServerError, "server_error", "The server could not complete the request.")
	e.Cause = cause
	return e
}

// ErrTemporarilyUnavailable answers while a dependency is down (503).
func ErrTemporarilyUnavailable(cause error) *Error {
	e := newError(http.StatusServiceUnavailable, "temporarily_unavailable", "The server is temporarily unable to handle the request.")
	e.Cause = cause
	return e
}

// truncate keeps echoed request values short.
func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// AsError returns err as an *Error, turning anything else into server_error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError(err)
}

// WriteError writes err as RFC 6749 §5.2 JSON with its headers.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	h := w.Header()
	if e.Challenge != "" {
		h.Set("WWW-Authenticate", e.Challenge)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	for k, v := range e.Header {
		h.Set(k, v)
	}
	h.Set("Cache-Control", "no-store")
	WriteJSON(w, e.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
