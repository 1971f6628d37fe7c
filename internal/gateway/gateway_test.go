package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServiceRoutes follows the gateway document end to end: the site
// group's client gets a token per service with the document's request,
// and calls /{service}/v1/{apiKey}/... through the gateway.
func TestServiceRoutes(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	var tokens []string
	gw := w.startGateway(t, w.gatewayConfig(up.URL), &tokens)

	propQA := serviceToken(t, w.gh.url, "streaming-property", w.siteQA)
	propProd := serviceToken(t, w.gh.url, "streaming-property", w.siteProd)
	viewQA := serviceToken(t, w.gh.url, "streaming-view", w.siteQA)
	plainProp := w.gh.token(w.siteQA, propertyAudience) // from /oauth/token: bound to no service
	viaGateway := serviceToken(t, gw.url, "streaming-property", w.siteQA)
	tokens = append(tokens, propQA, propProd, viewQA, plainProp, viaGateway)
	if !isOpaqueShape(propQA) || strings.Count(viewQA, ".") != 2 {
		t.Fatalf("got tokens %.6s... and %.6s..., want an opaque property token and a JWT view token", propQA, viewQA)
	}

	tests := []struct {
		name, path, token string
		status            int
		err, desc         string
		env, client       string // on success: what the upstream is told
	}{
		{"right service and environment, opaque", "/streaming-property/v1/" + w.qaKey + "/collections/product", propQA,
			200, "", "", "qa", w.siteQA.ClientID},
		{"right service and environment, JWT", "/streaming-view/v1/" + w.qaKey + "/views", viewQA,
			200, "", "", "qa", w.siteQA.ClientID},
		{"production token, production apiKey", "/streaming-property/v1/" + w.prodKey + "/collections/product", propProd,
			200, "", "", "production", w.siteProd.ClientID},
		{"token fetched through the gateway", "/streaming-property/v1/" + w.qaKey, viaGateway,
			200, "", "", "qa", w.siteQA.ClientID},
		{"another environment's apiKey, opaque", "/streaming-property/v1/" + w.prodKey + "/collections/product", propQA,
			403, "insufficient_scope", "the token is not valid for this environment", "", ""},
		{"another environment's apiKey, JWT", "/streaming-view/v1/" + w.prodKey + "/views", viewQA,
			403, "insufficient_scope", "the token is not valid for this environment", "", ""},
		{"unknown apiKey", "/streaming-property/v1/AAAAAAAAAAAAAAAAAAAAAAAA/x", propQA,
			403, "insufficient_scope", "the token is not valid for this environment", "", ""},
		{"another service's token, opaque on a JWT service", "/streaming-view/v1/" + w.qaKey + "/views", propQA,
			401, "invalid_token", "wrong audience", "", ""},
		{"another service's token, JWT on an opaque service", "/streaming-property/v1/" + w.qaKey + "/x", viewQA,
			401, "invalid_token", "wrong audience", "", ""},
		{"right audience but no service", "/streaming-property/v1/" + w.qaKey + "/x", plainProp,
			401, "invalid_token", "the token was not issued for this service", "", ""},
	}
	forged := http.Header{
		"X-Gatehouse-Tenant":    {"evil"},
		"X-Gatehouse-Client-Id": {"forged"},
		"X-Gatehouse-Admin":     {"yes"},
		"X_gatehouse_scopes":    {"everything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := gw.call(t, "GET", tt.path, tt.token, forged)
			if a.status != tt.status || a.err != tt.err || a.desc != tt.desc {
				t.Fatalf("got %d %q %q, want %d %q %q", a.status, a.err, a.desc, tt.status, tt.err, tt.desc)
			}
			if tt.status != 200 {
				wantChallenge := `Bearer realm="`
				if !strings.HasPrefix(a.challenge, wantChallenge) || !strings.Contains(a.challenge, `error="`+tt.err+`"`) {
					t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge with error=%q", a.challenge, tt.err)
				}
				return
			}
			h := a.echo.Headers
			want := map[string]string{
				"X-Gatehouse-Client-Id": tt.client, "X-Gatehouse-Tenant": "acme",
				"X-Gatehouse-Environment": tt.env,
			}
			for name, v := range want {
				if got := h.Values(name); len(got) != 1 || got[0] != v {
					t.Errorf("upstream header %s: got %q, want [%q]", name, got, v)
				}
			}
			if got := h.Get("X-Gatehouse-Scopes"); got != "property:write" && got != "view:read" {
				t.Errorf("upstream X-Gatehouse-Scopes: got %q, want the token's scope", got)
			}
			for name := range h {
				if n := strings.ToLower(name); strings.Contains(n, "admin") || strings.Contains(n, "x_gatehouse") {
					t.Errorf("upstream got forged header %s: %q", name, h[name])
				}
			}
			if got := h.Get("Authorization"); got != "Bearer "+tt.token {
				t.Errorf("upstream Authorization: got %.16q..., want the caller's (forward_authorization defaults to true)", got)
			}
			if !strings.HasPrefix(a.echo.Path, "/streaming-") {
				t.Errorf("upstream path: got %q, want the full path", a.echo.Path)
			}
		})
	}
}

func isOpaqueShape(s string) bool {
	if len(s) != 32 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// TestPathRoutes checks routes by path prefix: scopes, audiences, missing
// and garbled tokens, and the gateway's own answers.
func TestPathRoutes(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	cfg := w.gatewayConfig(up.URL)
	cfg.Routes = append(cfg.Routes, cfg.Routes[2])
	cfg.Routes[len(cfg.Routes)-1].Path, cfg.Routes[len(cfg.Routes)-1].Upstream = "/down/", down.URL
	var tokens []string
	gw := w.startGateway(t, cfg, &tokens)

	writer := w.gh.token(w.writer, ordersAudience)
	reader := w.gh.token(w.reader, ordersAudience)
	report := w.gh.token(w.writer, reportsAudience)
	view := serviceToken(t, w.gh.url, "streaming-view", w.siteQA)
	tokens = append(tokens, writer, reader, report, view)
	tampered := writer[:len(writer)-4] + strings.Repeat("A", 4)
	if tampered == writer {
		tampered = writer[:len(writer)-4] + "BBBB"
	}
	realm := `Bearer realm="` + ordersAudience + `"`

	tests := []struct {
		name, path, auth string
		status           int
		err, challenge   string
	}{
		{"scopes granted", "/orders/42", "Bearer " + writer, 200, "", ""},
		{"the prefix itself", "/orders", "Bearer " + writer, 200, "", ""},
		{"scope missing", "/orders/42", "Bearer " + reader, 403, "insufficient_scope",
			realm + `, error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:write"`},
		{"another API's token", "/orders/42", "Bearer " + view, 401, "invalid_token",
			realm + `, error="invalid_token", error_description="wrong audience"`},
		{"no token", "/orders/42", "", 401, "", realm},
		{"another scheme", "/orders/42", "Basic dXNlcjpwYXNz", 401, "", realm},
		{"empty bearer", "/orders/42", "Bearer ", 400, "invalid_request",
			realm + `, error="invalid_request", error_description="malformed Authorization header"`},
		{"garbled", "/orders/42", "Bearer not-a-token", 401, "invalid_token",
			realm + `, error="invalid_token", error_description="malformed token"`},
		{"three garbled parts", "/orders/42", "Bearer a.b.c", 401, "invalid_token",
			realm + `, error="invalid_token", error_description="malformed token"`},
		{"bad signature", "/orders/42", "Bearer " + tampered, 401, "invalid_token",
			realm + `, error="invalid_token", error_description="invalid signature"`},
		{"unknown opaque token", "/orders/42", "Bearer AbCdEfGhIjKlMnOpQrStUvWxYz012345", 401, "invalid_token",
			realm + `, error="invalid_token", error_description="token is not active"`},
		{"opaque token, authorization not forwarded", "/reports/daily?day=1", "Bearer " + report, 200, "", ""},
		{"no route", "/nothing/here", "Bearer " + writer, 404, "not_found", ""},
		{"path not canonical", "/reports/../orders/1", "Bearer " + writer, 400, "invalid_request", ""},
		{"upstream down", "/down/x", "Bearer " + writer, 502, "bad_gateway", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Header
			if tt.auth != "" {
				h = http.Header{"Authorization": {tt.auth}}
			}
			a := gw.call(t, "GET", tt.path, "", h)
			if a.status != tt.status || a.err != tt.err || a.challenge != tt.challenge {
				t.Fatalf("got %d %q, WWW-Authenticate %q\nwant %d %q, WWW-Authenticate %q",
					a.status, a.err, a.challenge, tt.status, tt.err, tt.challenge)
			}
		})
	}
	t.Run("upstream sees", func(t *testing.T) {
		a := gw.call(t, "GET", "/orders/42", writer, nil)
		if a.echo.Path != "/orders/42" || a.echo.Headers.Get("X-Gatehouse-Scopes") != "orders:read orders:write" ||
			a.echo.Headers.Get("X-Gatehouse-Environment") != "" || a.echo.Headers.Get("X-Request-Id") == "" {
			t.Errorf("got path %q headers %v, want /orders/42 with scopes, no environment, a request id", a.echo.Path, a.echo.Headers)
		}
		a = gw.call(t, "GET", "/reports/daily?day=1", report, nil)
		if a.echo.Path != "/daily" || a.echo.Query != "day=1" || a.echo.Headers.Get("Authorization") != "" {
			t.Errorf("got path %q query %q Authorization %q, want /daily, day=1 and none (strip_prefix, forward_authorization false)",
				a.echo.Path, a.echo.Query, a.echo.Headers.Get("Authorization"))
		}
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		a := gw.call(t, "GET", "/orders/42", "", http.Header{"Authorization": {"Bearer " + writer, "Bearer " + reader}})
		if a.status != 400 || a.err != "invalid_request" {
			t.Errorf("got %d %q, want 400 invalid_request", a.status, a.err)
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		a := gw.call(t, "GET", "/orders/42", writer, http.Header{"X-Big": {strings.Repeat("x", 64<<10)}})
		if a.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("got %d, want 431", a.status)
		}
	})
}

// TestIntrospectionCache checks that opaque tokens are introspected once
// per cache period, inactive answers included, and that JWTs never are.
func TestIntrospectionCache(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	var tokens []string
	gw := w.startGateway(t, w.gatewayConfig(up.URL), &tokens)
	report := w.gh.token(w.writer, reportsAudience)
	writer := w.gh.token(w.writer, ordersAudience)
	tokens = append(tokens, report, writer)

	steps := []struct {
		name, path, token string
		status, calls     int // calls: introspections so far
	}{
		{"first use", "/reports/a", report, 200, 1},
		{"cached", "/reports/b", report, 200, 1},
		{"cached again", "/reports/c", report, 200, 1},
		{"unknown token", "/reports/a", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", 401, 2},
		{"unknown token, cached inactive", "/reports/a", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", 401, 2},
		{"JWT", "/orders/1", writer, 200, 2},
	}
	for _, s := range steps {
		a := gw.call(t, "GET", s.path, s.token, nil)
		if a.status != s.status {
			t.Errorf("%s: got %d, want %d", s.name, a.status, s.status)
		}
		if got := gw.counter.count("/oauth/introspect"); got != s.calls {
			t.Errorf("%s: got %d introspection calls so far, want %d", s.name, got, s.calls)
		}
	}
}

// TestRevocation checks that revoking a token at gatehouse stops it at the
// gateway: a JWT within the poll interval, an opaque token within the
// introspection cache period.
func TestRevocation(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	cfg := w.gatewayConfig(up.URL)
	cfg.RevocationPollInterval = 100 * time.Millisecond
	cfg.IntrospectionCacheTTL = 300 * time.Millisecond
	var tokens []string
	gw := w.startGateway(t, cfg, &tokens)

	tests := []struct {
		name, path, audience string
	}{
		{"JWT", "/orders/1", ordersAudience},
		{"opaque", "/reports/1", reportsAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := w.gh.token(w.writer, tt.audience)
			tokens = append(tokens, tok)
			if a := gw.call(t, "GET", tt.path, tok, nil); a.status != 200 {
				t.Fatalf("before revocation: got %d %q, want 200", a.status, a.desc)
			}
			w.gh.revoke(w.writer, tok)
			deadline := time.Now().Add(10 * time.Second)
			for {
				a := gw.call(t, "GET", tt.path, tok, nil)
				if a.status == 401 && a.err == "invalid_token" {
					break
				}
				if a.status != 200 || time.Now().After(deadline) {
					t.Fatalf("after revocation: got %d %q, want 401 invalid_token within 10s", a.status, a.err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	if n := gw.counter.count("/oauth/revocations"); n < 2 {
		t.Errorf("got %d revocation polls, want at least 2", n)
	}
}

// TestGatehouseDown checks what still works while gatehouse is away: JWTs
// (checked offline) and cached opaque tokens pass; an opaque token the
// gateway has not seen gets 503, not a false 401.
func TestGatehouseDown(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	var tokens []string
	gw := w.startGateway(t, w.gatewayConfig(up.URL), &tokens)
	writer := w.gh.token(w.writer, ordersAudience)
	report := w.gh.token(w.writer, reportsAudience)
	unseen := w.gh.token(w.writer, reportsAudience)
	tokens = append(tokens, writer, report, unseen)
	if a := gw.call(t, "GET", "/reports/1", report, nil); a.status != 200 {
		t.Fatalf("before the outage: got %d, want 200", a.status)
	}
	w.gh.stop()

	tests := []struct {
		name, path, token string
		status            int
		err               string
	}{
		{"JWT", "/orders/1", writer, 200, ""},
		{"cached opaque token", "/reports/1", report, 200, ""},
		{"opaque token not cached", "/reports/1", unseen, 503, "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := gw.call(t, "GET", tt.path, tt.token, nil); a.status != tt.status || a.err != tt.err {
				t.Errorf("got %d %q, want %d %q", a.status, a.err, tt.status, tt.err)
			}
		})
	}
}
