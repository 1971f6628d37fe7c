package verify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// okHandler answers 200 with the verified client id.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(c.ClientID))
})

type response struct {
	status    int
	challenge string
	errorCode string
	body      string
}

func serve(h http.Handler, authorization ...string) response {
	req := httptest.NewRequest(http.MethodGet, "/things", nil)
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return response{rec.Code, rec.Header().Get("WWW-Authenticate"), body.Error, rec.Body.String()}
}

func TestMiddleware(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi, func(c *Config) { c.Realm = "things" })
	valid := fi.token(t, testKeys()["ec"], fi.claims(), nil)
	expiredClaims := fi.claims()
	expiredClaims["exp"] = fi.clock.Now().Add(-time.Hour).Unix()
	expired := fi.token(t, testKeys()["ec"], expiredClaims, nil)
	tests := []struct {
		name          string
		authorization []string
		want          response
	}{
		{"valid", []string{"Bearer " + valid}, response{status: 200, body: "c_123"}},
		{"lower-case scheme", []string{"bearer " + valid}, response{status: 200, body: "c_123"}},
		{"upper-case scheme", []string{"BEARER " + valid}, response{status: 200, body: "c_123"}},
		{"no header", nil, response{status: 401, challenge: `Bearer realm="things"`}},
		{"Basic scheme", []string{"Basic YTpi"}, response{status: 401, challenge: `Bearer realm="things"`}},
		{"scheme only", []string{"Bearer"}, response{status: 400, errorCode: "invalid_request",
			challenge: `Bearer realm="things", error="invalid_request", error_description="malformed Authorization header"`}},
		{"two tokens", []string{"Bearer " + valid + " " + valid}, response{status: 400, errorCode: "invalid_request",
			challenge: `Bearer realm="things", error="invalid_request", error_description="malformed Authorization header"`}},
		{"two headers", []string{"Bearer " + valid, "Bearer " + valid}, response{status: 400, errorCode: "invalid_request",
			challenge: `Bearer realm="things", error="invalid_request", error_description="malformed Authorization header"`}},
		{"garbled token", []string{"Bearer !!not-a-jwt!!"}, response{status: 401, errorCode: "invalid_token",
			challenge: `Bearer realm="things", error="invalid_token", error_description="malformed token"`}},
		{"expired", []string{"Bearer " + expired}, response{status: 401, errorCode: "invalid_token",
			challenge: `Bearer realm="things", error="invalid_token", error_description="token expired"`}},
	}
	h := v.Middleware(okHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(h, tt.authorization...)
			if tt.want.body == "" {
				tt.want.body = got.body // only the success bodies are compared
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.status != 200 && !strings.Contains(got.body, `"error_description"`) {
				t.Errorf("body %s: want a JSON error_description", got.body)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	fi := newIssuer(t, newClock())
	v := newTestVerifier(t, fi)
	orgWide := fi.claims()
	delete(orgWide, "environment")
	delete(orgWide, "service")
	tokens := map[string]string{
		"qa":       fi.token(t, testKeys()["ed"], fi.claims(), nil), // scope "read write", environment qa
		"org-wide": fi.token(t, testKeys()["ed"], orgWide, nil),
	}
	forbidden := func(params string) response {
		return response{status: 403, errorCode: "insufficient_scope",
			challenge: `Bearer realm="` + testAudience + `", error="insufficient_scope", ` + params}
	}
	const (
		lacksScope = `error_description="the token lacks a required scope", scope="read admin"`
		otherEnv   = `error_description="the token is not valid for this environment"`
		otherSvc   = `error_description="the token is not valid for this service"`
	)
	tests := []struct {
		name  string
		mw    func(http.Handler) http.Handler
		token string
		want  response
	}{
		{"scope granted", RequireScope("read"), "qa", response{status: 200}},
		{"all scopes granted", RequireScope("read", "write"), "qa", response{status: 200}},
		{"scope missing", RequireScope("read", "admin"), "qa", forbidden(lacksScope)},
		{"environment matches", RequireEnvironment("qa"), "qa", response{status: 200}},
		{"other environment", RequireEnvironment("production"), "qa", forbidden(otherEnv)},
		{"organization-wide client", RequireEnvironment("qa"), "org-wide", forbidden(otherEnv)},
		{"service matches", RequireService("streaming-property"), "qa", response{status: 200}},
		{"other service", RequireService("delivery"), "qa", forbidden(otherSvc)},
		{"no service claim", RequireService("streaming-property"), "org-wide", forbidden(otherSvc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(v.Middleware(tt.mw(okHandler)), "Bearer "+tokens[tt.token])
			got.body = ""
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRequireWithoutMiddleware(t *testing.T) {
	got := serve(RequireScope("read")(okHandler), "Bearer x")
	if got.status != http.StatusInternalServerError {
		t.Errorf("got %d, want 500", got.status)
	}
}

func TestContextWithClaims(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(ContextWithClaims(req.Context(), &Claims{ClientID: "c_1", Scopes: []string{"read"}}))
	rec := httptest.NewRecorder()
	RequireScope("read")(okHandler).ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "c_1" {
		t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), "c_1")
	}
}

func TestChallengeQuoting(t *testing.T) {
	c := challenge{realm: `a"b\c` + "\n", code: "invalid_token", description: "é bad"}
	want := `Bearer realm="abc", error="invalid_token", error_description=" bad"`
	if got := c.String(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
