package oauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
)

// writeError runs WriteError and decodes the body strictly.
func writeError(t *testing.T, err error) (*httptest.ResponseRecorder, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	oauth.WriteError(rec, err)
	var body map[string]string
	if jerr := json.Unmarshal(rec.Body.Bytes(), &body); jerr != nil {
		t.Fatalf("body %q: got %v, want JSON object of strings", rec.Body.String(), jerr)
	}
	return rec, body
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantHeader map[string]string // "" means absent
	}{
		{
			"invalid_request", oauth.ErrInvalidRequest("Parameter %q is included more than once.", "scope"),
			400, "invalid_request",
			map[string]string{"WWW-Authenticate": "", "Retry-After": "", "Allow": ""},
		},
		{
			"invalid_client basic", oauth.ErrInvalidClient(true),
			401, "invalid_client",
			map[string]string{"WWW-Authenticate": `Basic realm="gatehouse", charset="UTF-8"`},
		},
		{
			"invalid_client post", oauth.ErrInvalidClient(false),
			401, "invalid_client",
			map[string]string{"WWW-Authenticate": ""},
		},
		{"unsupported_grant_type", oauth.ErrUnsupportedGrantType("password"), 400, "unsupported_grant_type", nil},
		{"invalid_scope", oauth.ErrInvalidScope("Scope %q is not granted.", "x"), 400, "invalid_scope", nil},
		{"invalid_target", oauth.ErrInvalidTarget("not absolute"), 400, "invalid_target", nil},
		{"access_denied", oauth.ErrAccessDenied("https://api.example.io"), 403, "access_denied", nil},
		{
			"method not allowed", oauth.ErrMethodNotAllowed(),
			405, "invalid_request",
			map[string]string{"Allow": "POST"},
		},
		{"too large", oauth.ErrTooLarge(oauth.MaxBodyBytes), 413, "invalid_request", nil},
		{"retry after whole", oauth.ErrTooManyRequests("slow down", 3*time.Second), 429, "too_many_requests", map[string]string{"Retry-After": "3"}},
		{"retry after rounds up", oauth.ErrTooManyRequests("slow down", 1500*time.Millisecond), 429, "too_many_requests", map[string]string{"Retry-After": "2"}},
		{"retry after tiny", oauth.ErrTooManyRequests("slow down", time.Nanosecond), 429, "too_many_requests", map[string]string{"Retry-After": "1"}},
		{"retry after zero", oauth.ErrTooManyRequests("slow down", 0), 429, "too_many_requests", map[string]string{"Retry-After": ""}},
		{"unavailable", oauth.ErrTemporarilyUnavailable(errors.New("db down")), 503, "temporarily_unavailable", nil},
		{"wrapped", fmt.Errorf("authenticating: %w", oauth.ErrInvalidClient(true)), 401, "invalid_client", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, body := writeError(t, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if body["error"] != tt.wantCode {
				t.Errorf("error: got %q, want %q", body["error"], tt.wantCode)
			}
			if body["error_description"] == "" {
				t.Errorf("error_description: got empty, want a description")
			}
			if len(body) != 2 {
				t.Errorf("body fields: got %v, want error and error_description only", body)
			}
			for name, want := range map[string]string{
				"Cache-Control":  "no-store",
				"Content-Type":   "application/json",
				"Content-Length": strconv.Itoa(rec.Body.Len()),
			} {
				if got := rec.Header().Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
			for name, want := range tt.wantHeader {
				if got := rec.Header().Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestWriteErrorHidesCause(t *testing.T) {
	cause := errors.New("pq: password authentication failed for user gatehouse at 10.0.0.7")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"plain error", cause, 500, "server_error"},
		{"server error", oauth.ErrServerError(cause), 500, "server_error"},
		{"unavailable", oauth.ErrTemporarilyUnavailable(cause), 503, "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, body := writeError(t, tt.err)
			if rec.Code != tt.wantStatus || body["error"] != tt.wantCode {
				t.Errorf("got %d %q, want %d %q", rec.Code, body["error"], tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(rec.Body.String(), "password") || strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("body %q contains the cause", rec.Body.String())
			}
		})
	}
}

func TestAsError(t *testing.T) {
	plain := errors.New("disk full")
	e := oauth.AsError(plain)
	if e.Status != http.StatusInternalServerError || e.Code != "server_error" {
		t.Errorf("plain error: got %d %s, want 500 server_error", e.Status, e.Code)
	}
	if !errors.Is(e, plain) {
		t.Errorf("errors.Is(AsError(plain), plain): got false, want true (the cause is kept for the log)")
	}
	if strings.Contains(e.Description, "disk full") {
		t.Errorf("Description %q contains the cause", e.Description)
	}
	if !strings.Contains(e.Error(), "disk full") {
		t.Errorf("Error() %q: want the cause, for the log", e.Error())
	}

	orig := oauth.ErrInvalidScope("nope")
	if got := oauth.AsError(fmt.Errorf("wrapped: %w", orig)); got != orig {
		t.Errorf("wrapped *Error: got %p, want the same *Error %p", got, orig)
	}
}

func TestErrorDescriptionsTruncateEcho(t *testing.T) {
	long := strings.Repeat("x", 1000)
	for _, e := range []*oauth.Error{oauth.ErrUnsupportedGrantType(long), oauth.ErrAccessDenied(long)} {
		if len(e.Description) > 400 {
			t.Errorf("%s: got description of %d bytes, want the echoed value truncated", e.Code, len(e.Description))
		}
	}
	if got, want := oauth.ErrAccessDenied("https://x.example").Description, `Client is not authorized to access "https://x.example".`; got != want {
		t.Errorf("access_denied description: got %q, want %q", got, want)
	}
}
