package token

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// TestHandlerErrors is the error table of DESIGN §2 at POST /oauth/token:
// status, error code, WWW-Authenticate where Basic was tried, an RFC 6749
// §5.2 JSON body with nothing else in it, no-store, no secret echoed, and
// every refusal heard by the observer and logged without credentials.
func TestHandlerErrors(t *testing.T) {
	e := newEndpoint(t, nil)
	ctx := t.Context()
	grants := map[string][]string{platform: {"read"}}
	c := e.client(admin.NewClient{Grants: grants})
	disabled := e.client(admin.NewClient{Grants: grants})
	deleted := e.client(admin.NewClient{Grants: grants})
	rotated := e.client(admin.NewClient{Grants: grants})
	if _, err := e.admin.UpdateClient(ctx, disabled.id, admin.ClientPatch{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.DeleteClient(ctx, deleted.id); err != nil {
		t.Fatal(err)
	}
	_, newSecret, err := e.admin.RotateSecret(ctx, rotated.id, admin.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, newSecret)

	as := func(cr cred, kv ...string) string {
		return form(append([]string{"grant_type", "client_credentials", "client_id", cr.id, "client_secret", cr.secret}, kv...)...)
	}
	ok := func(kv ...string) string { return as(c, append([]string{"audience", platform}, kv...)...) }
	wrong := cred{c.id, "gatehouse_wrong"}
	tests := []struct {
		name, query, ctype, body string
		header                   http.Header
		status                   int
		code                     string
		challenge                bool
	}{
		{"wrong secret", "", formType, as(wrong, "audience", platform), nil, 401, "invalid_client", false},
		{"wrong secret by Basic", "", formType, form("grant_type", "client_credentials", "audience", platform), basic(c.id, "gatehouse_wrong"), 401, "invalid_client", true},
		{"unknown client", "", formType, as(cred{"nobody", c.secret}, "audience", platform), nil, 401, "invalid_client", false},
		{"disabled client", "", formType, as(disabled, "audience", platform), nil, 401, "invalid_client", false},
		{"deleted client", "", formType, as(deleted, "audience", platform), nil, 401, "invalid_client", false},
		{"expired secret after rotation", "", formType, as(rotated, "audience", platform), nil, 401, "invalid_client", false},
		{"id and secret swapped", "", formType, as(cred{c.secret, c.id}, "audience", platform), nil, 401, "invalid_client", false},
		{"no client id", "", formType, form("grant_type", "client_credentials", "audience", platform), nil, 401, "invalid_client", false},
		{"malformed Basic", "", formType, form("grant_type", "client_credentials", "audience", platform), http.Header{"Authorization": {"Basic !!!"}}, 401, "invalid_client", true},
		{"missing grant_type", "", formType, form("client_id", c.id, "client_secret", c.secret, "audience", platform), nil, 400, "invalid_request", false},
		{"unsupported grant", "", formType, form("grant_type", "password", "client_id", c.id, "client_secret", c.secret, "audience", platform), nil, 400, "unsupported_grant_type", false},
		{"missing audience", "", formType, as(c), nil, 400, "invalid_request", false},
		{"unknown audience", "", formType, as(c, "audience", "https://nowhere.example"), nil, 403, "access_denied", false},
		{"audience not granted", "", formType, as(c, "audience", "https://delivery.example.io/acme"), nil, 403, "access_denied", false},
		{"scope not granted", "", formType, ok("scope", "write"), nil, 400, "invalid_scope", false},
		{"resource not absolute", "", formType, as(c, "resource", "api.example.io"), nil, 400, "invalid_target", false},
		{"resource and audience differ", "", formType, ok("resource", "https://other.example"), nil, 400, "invalid_request", false},
		{"two secrets: Basic and body", "", formType, ok(), basic(c.id, c.secret), 400, "invalid_request", false},
		{"Basic and another client_id", "", formType, form("grant_type", "client_credentials", "client_id", "someone-else", "audience", platform), basic(c.id, c.secret), 400, "invalid_request", false},
		{"repeated parameter", "", formType, ok("audience", platform), nil, 400, "invalid_request", false},
		{"unknown content type", "", "text/plain", ok(), nil, 400, "invalid_request", false},
		{"body without content type", "", "", ok(), nil, 400, "invalid_request", false},
		{"malformed form", "", formType, "grant_type=%zz", nil, 400, "invalid_request", false},
		{"malformed JSON", "", "application/json", `{"grant_type": "client_credentials",`, nil, 400, "invalid_request", false},
		{"JSON number value", "", "application/json", `{"grant_type": "client_credentials", "client_id": 42}`, nil, 400, "invalid_request", false},
		{"JSON array", "", "application/json", `["client_credentials"]`, nil, 400, "invalid_request", false},
		{"oversized body", "", formType, ok("padding", strings.Repeat("x", 20<<10)), nil, 413, "invalid_request", false},
		{"secret in the URL", "?client_secret=" + c.secret, formType, ok(), nil, 400, "invalid_request", false},
		{"per-service parameters at /oauth/token", "?grant_type=client_credentials&client_id=" + c.id, "", "", nil, 400, "invalid_request", false},
	}
	bodies := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.send("POST", "/oauth/token"+tt.query, tt.ctype, tt.body, tt.header)
			checkError(t, a, tt.status, tt.code)
			if got := strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic"); got != tt.challenge {
				t.Errorf("WWW-Authenticate: got %q, want a Basic challenge: %v", a.header.Get("WWW-Authenticate"), tt.challenge)
			}
			for _, s := range e.secrets {
				if strings.Contains(a.body, s) {
					t.Errorf("the answer echoes a secret: %s", a.body)
				}
			}
			if _, code := e.obs.last(); code != tt.code {
				t.Errorf("observer heard %q, want %q", code, tt.code)
			}
			bodies[tt.name] = a.body
		})
	}
	for _, name := range []string{"unknown client", "disabled client", "deleted client", "expired secret after rotation", "no client id"} {
		if bodies[name] != bodies["wrong secret"] {
			t.Errorf("%s and wrong secret answer differently:\n%s\n%s", name, bodies[name], bodies["wrong secret"])
		}
	}
	if logs := e.logs.String(); strings.Count(logs, `"msg":"token request refused"`) != len(tests) || !strings.Contains(logs, `"client_id":"`+c.id+`"`) {
		t.Errorf("the refusals are not logged with their client ids:\n%s", logs)
	}
}

// checkError checks an RFC 6749 §5.2 answer: status, a JSON body of
// exactly error and a description, no-store.
func checkError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	f := a.fields()
	if a.status != status || f["error"] != code || f["error_description"] == "" || len(f) != 2 {
		t.Errorf("got %d %s, want %d with only error %q and a description", a.status, a.body, status, code)
	}
	if a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Content-Type %q Cache-Control %q, want JSON and no-store", a.header.Get("Content-Type"), a.header.Get("Cache-Control"))
	}
}

// TestHandlerMethodNotAllowed: any method but POST is 405 with Allow: POST
// and the JSON body.
func TestHandlerMethodNotAllowed(t *testing.T) {
	e := newEndpoint(t, nil)
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		a := e.send(m, "/oauth/token", "", "", nil)
		checkError(t, a, 405, "invalid_request")
		if a.header.Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q, want POST", m, a.header.Get("Allow"))
		}
	}
	if a := e.send("HEAD", "/oauth/token", "", "", nil); a.status != 405 || a.header.Get("Allow") != "POST" {
		t.Errorf("HEAD: got %d Allow %q, want 405 and POST", a.status, a.header.Get("Allow"))
	}
}

// TestHandlerThrottled: the throttle's 429 carries Retry-After in whole
// seconds, and lifts once it has passed.
func TestHandlerThrottled(t *testing.T) {
	e := newEndpoint(t, nil)
	c := e.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	guess := form("grant_type", "client_credentials", "client_id", c.id, "client_secret", "gatehouse_guess", "audience", platform)
	for range 10 {
		e.postForm(guess, nil)
	}
	right := form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform)
	a := e.postForm(right, nil)
	checkError(t, a, 429, "too_many_requests")
	if a.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After: got %q, want 1", a.header.Get("Retry-After"))
	}
	e.clock.Add(1100 * time.Millisecond)
	if a := e.postForm(right, nil); a.status != 200 {
		t.Errorf("after the backoff: got %d %s, want 200", a.status, a.body)
	}
}
