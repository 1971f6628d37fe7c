package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/token"
	"github.com/gatehouse/gatehouse/verify"
)

const testIssuer = "https://auth.test"

// adminAPI is the admin API mounted on a mux over a world, checking tokens
// signed with real keys as the server does: verify.Verifier for the admin
// audience over the node's key set, and the node's revocation list.
type adminAPI struct {
	*world
	mux     *http.ServeMux
	keys    *keys.Set
	revoked *token.Revocations
}

func newAdminAPI(t *testing.T) *adminAPI {
	t.Helper()
	return newAdminAPIOn(t, newWorld(t))
}

// newAdminAPIOn is newAdminAPI over w.
func newAdminAPIOn(t *testing.T, w *world) *adminAPI {
	t.Helper()
	r := newRotator(t, w)
	v, err := verify.New(t.Context(), verify.Config{Issuer: testIssuer, Audience: store.AdminAudience, Keys: r.Set, Now: w.clock.Now})
	must(t, err)
	revoked := token.NewRevocations(w.st)
	mux := http.NewServeMux()
	NewHandler(w.svc, v, revoked, r, w.log).Mount(mux)
	return &adminAPI{world: w, mux: mux, keys: r.Set, revoked: revoked}
}

// mint signs an access token as the token endpoint does, issued at iat and
// living ttl, and returns it with its jti.
func (a *adminAPI) mint(clientID, audience, scope string, iat time.Time, ttl time.Duration) (tok, jti string) {
	a.t.Helper()
	jti = secret.RandomAlnum(32)
	payload, err := json.Marshal(token.Claims{
		Issuer: testIssuer, Subject: clientID + "@clients", Audience: audience, IssuedAt: iat.Unix(), Expiry: iat.Add(ttl).Unix(),
		JTI: jti, ClientID: clientID, AZP: clientID, Scope: scope, GrantType: "client-credentials",
	})
	must(a.t, err)
	tok, err = a.keys.Current("ES256").Sign(payload)
	must(a.t, err)
	return tok, jti
}

// adminToken mints a fresh token for the admin API.
func (a *adminAPI) adminToken(clientID, scope string) string {
	tok, _ := a.mint(clientID, store.AdminAudience, scope, a.clock.Now(), 15*time.Minute)
	return tok
}

// call sends one request; tok "" sends no Authorization header.
func (a *adminAPI) call(method, path, tok, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	a.mux.ServeHTTP(rec, req)
	return rec
}

// errorOf reads an error answer's code and description.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) (code, description string) {
	t.Helper()
	if rec.Code < 400 {
		return "", ""
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("error answer: got %q (%s), want a JSON body", rec.Body, rec.Header().Get("Content-Type"))
	}
	return e.Error, e.Description
}

func TestAdminAuth(t *testing.T) {
	a := newAdminAPI(t)
	admins := map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}}
	ops, _ := a.client("ops", admins)
	reader, _ := a.client("auditor", map[string][]string{store.AdminAudience: {store.ScopeRead}})
	customer, _ := a.client("customer", map[string][]string{platform: {"read"}})
	now := a.clock.Now()
	opsTok := a.adminToken(ops.ID, "admin:read admin:write")
	readerTok := a.adminToken(reader.ID, "admin:read")
	customerTok, _ := a.mint(customer.ID, platform, "read", now, time.Hour)
	forged, _ := a.mint(customer.ID, store.AdminAudience, "admin:read", now, time.Hour)
	expired, _ := a.mint(ops.ID, store.AdminAudience, "admin:read", now.Add(-2*time.Hour), time.Hour)
	ghost := a.adminToken("no-such-client", "admin:read")
	readOnly := a.adminToken(ops.ID, "admin:read")
	tampered := readerTok[:len(readerTok)-4] + "AAAA"
	const invalidToken = `Bearer realm="gatehouse-admin", error="invalid_token"`
	tests := []struct {
		name, method, auth string
		status             int
		code, challenge    string
	}{
		{"no token", "GET", "", 401, "invalid_token", `Bearer realm="gatehouse-admin"`},
		{"Basic credentials", "GET", "Basic b3BzOnNlY3JldA==", 401, "invalid_token", `Bearer realm="gatehouse-admin"`},
		{"empty bearer", "GET", "Bearer ", 401, "invalid_token", `Bearer realm="gatehouse-admin"`},
		{"garbage token", "GET", "Bearer not-a-jwt", 401, "invalid_token", invalidToken},
		{"tampered token", "GET", "Bearer " + tampered, 401, "invalid_token", invalidToken},
		{"token for a product API", "GET", "Bearer " + customerTok, 401, "invalid_token", invalidToken},
		{"expired token", "GET", "Bearer " + expired, 401, "invalid_token", invalidToken},
		{"token of an unknown client", "GET", "Bearer " + ghost, 401, "invalid_token", invalidToken},
		{"scope the client was never granted", "GET", "Bearer " + forged, 403, "insufficient_scope", `error="insufficient_scope", scope="admin:read"`},
		{"read scope reads", "GET", "Bearer " + readerTok, 200, "", ""},
		{"scheme in lower case", "GET", "bearer " + readerTok, 200, "", ""},
		{"read scope cannot write", "POST", "Bearer " + readerTok, 403, "insufficient_scope", `error="insufficient_scope", scope="admin:write"`},
		{"a token without the write scope cannot write", "POST", "Bearer " + readOnly, 403, "insufficient_scope", `scope="admin:write"`},
		{"write scope writes", "POST", "Bearer " + opsTok, 201, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/admin/v1/tenants", strings.NewReader(`{"id":"new"}`))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			a.mux.ServeHTTP(rec, req)
			code, _ := errorOf(t, rec)
			if rec.Code != tt.status || code != tt.code {
				t.Errorf("got %d %q, want %d %q", rec.Code, code, tt.status, tt.code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge && !(tt.challenge != "" && strings.Contains(got, tt.challenge)) {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.challenge)
			}
		})
	}
	t.Run("the actor of a change is the token's client", func(t *testing.T) {
		events := a.audit.take()
		if len(events) != 1 || events[0].Kind != "tenant.create" || events[0].Actor != ops.ID {
			t.Errorf("audit: got %+v, want one tenant.create by %s", events, ops.ID)
		}
	})
}

// TestAdminTokenMustStillStand: a valid token stops working before it
// expires when it is revoked, when its client is disabled or deleted, or
// for a scope taken out of its client's grant.
func TestAdminTokenMustStillStand(t *testing.T) {
	a := newAdminAPI(t)
	grant := func(scopes ...string) ClientPatch {
		return ClientPatch{Grants: &map[string][]string{store.AdminAudience: scopes}}
	}
	yes := true
	steps := []struct {
		name  string
		act   func(c store.Client, jti string) error
		read  int
		write int
	}{
		{"fresh", func(store.Client, string) error { return nil }, 200, 201},
		{"admin:write taken from the grant", func(c store.Client, _ string) error {
			return first(a.svc.UpdateClient(t.Context(), c.ID, grant(store.ScopeRead)))
		}, 200, 403},
		{"admin:read taken from the grant", func(c store.Client, _ string) error {
			return first(a.svc.UpdateClient(t.Context(), c.ID, grant(store.ScopeWrite)))
		}, 403, 201},
		{"revoked", func(c store.Client, jti string) error {
			return a.revoked.Add(t.Context(), store.Revocation{JTI: jti, ClientID: c.ID, RevokedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}, 401, 401},
		{"disabled", func(c store.Client, _ string) error {
			return first(a.svc.UpdateClient(t.Context(), c.ID, ClientPatch{Disabled: &yes}))
		}, 401, 401},
		{"deleted", func(c store.Client, _ string) error { return a.svc.DeleteClient(t.Context(), c.ID) }, 401, 401},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
			tok, jti := a.mint(c.ID, store.AdminAudience, "admin:read admin:write", a.clock.Now(), 15*time.Minute)
			must(t, s.act(c, jti))
			read := a.call("GET", "/admin/v1/tenants", tok, "")
			write := a.call("POST", "/admin/v1/tenants", tok, `{"id":"t`+string(rune('a'+i))+`"}`)
			if read.Code != s.read || write.Code != s.write {
				t.Errorf("got read %d write %d, want %d %d", read.Code, write.Code, s.read, s.write)
			}
		})
	}
}

// TestAdminAPIErrors: each refusal answers its status and a description
// that says what was wrong.
func TestAdminAPIErrors(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	tests := []struct {
		name, method, path, body string
		status                   int
		mention                  string
	}{
		{"bad tenant id", "POST", "/admin/v1/tenants", `{"id":"Not A Slug"}`, 400, "tenant id"},
		{"duplicate tenant", "POST", "/admin/v1/tenants", `{"id":"acme"}`, 409, "already exists"},
		{"unknown field", "POST", "/admin/v1/tenants", `{"id":"x","colour":"red"}`, 400, "colour"},
		{"malformed JSON", "POST", "/admin/v1/tenants", `{"id":`, 400, "not valid JSON"},
		{"wrong JSON type", "POST", "/admin/v1/tenants", `{"id":5}`, 400, "not valid JSON"},
		{"a second object after the first", "POST", "/admin/v1/tenants", `{"id":"x"} {"id":"y"}`, 400, "after its JSON object"},
		{"trailing garbage", "POST", "/admin/v1/tenants", `{"id":"x"}]`, 400, "after its JSON object"},
		{"oversized body", "POST", "/admin/v1/tenants", `{"id":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too large"},
		{"tenant limits with a rate", "PATCH", "/admin/v1/tenants/acme", `{"limits":{"rate_per_second":5}}`, 400, "rate limit"},
		{"environment of a missing tenant", "POST", "/admin/v1/environments", `{"tenant":"nobody","id":"qa"}`, 404, "nobody"},
		{"API without audience", "POST", "/admin/v1/apis", `{"name":"x"}`, 400, "audience"},
		{"API with a relative audience", "POST", "/admin/v1/apis", `{"audience":"api.example.io"}`, 400, "absolute URI"},
		{"API with a bad format", "POST", "/admin/v1/apis", `{"audience":"https://x.example","token_format":"xml"}`, 400, "token_format"},
		{"API with a bad alg", "POST", "/admin/v1/apis", `{"audience":"https://x.example","signing_alg":"HS256"}`, 400, "signing_alg"},
		{"API with a reserved service", "POST", "/admin/v1/apis", `{"audience":"https://x.example","service":"oauth"}`, 400, "service"},
		{"API with a service on a template", "POST", "/admin/v1/apis", `{"audience":"https://d.example/{tenant}","service":"per-tenant"}`, 400, "template"},
		{"API with a bad ttl", "POST", "/admin/v1/apis", `{"audience":"https://x.example","token_ttl":"soon"}`, 400, "duration"},
		{"reserved audience", "POST", "/admin/v1/apis", `{"audience":"urn:gatehouse:mine"}`, 400, "reserved"},
		{"duplicate API", "POST", "/admin/v1/apis", `{"audience":"` + platform + `"}`, 409, "already exists"},
		{"client without tenant", "POST", "/admin/v1/clients", `{"name":"x"}`, 400, "tenant"},
		{"client of a missing tenant", "POST", "/admin/v1/clients", `{"name":"x","tenant":"nobody"}`, 400, "nobody"},
		{"client in a missing environment", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","environment":"prod"}`, 400, "acme/prod"},
		{"grant on a missing API", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","grants":{"https://nowhere.example":[]}}`, 400, "nowhere"},
		{"grant of a missing scope", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","grants":{"` + platform + `":["root"]}}`, 400, "root"},
		{"import a weak secret", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","client_id":"legacy-1","client_secret":"short"}`, 400, "16 characters"},
		{"rotate with a bad keep_old", "POST", "/admin/v1/clients/" + ops.ID + "/rotate-secret", `{"keep_old":"forever"}`, 400, "duration"},
		{"rotate with keep_old too long", "POST", "/admin/v1/clients/" + ops.ID + "/rotate-secret", `{"keep_old":"31d"}`, 400, "keep_old"},
		{"missing client", "GET", "/admin/v1/clients/nobody", "", 404, "nobody"},
		{"disable a missing client", "POST", "/admin/v1/clients/nobody/disable", "", 404, "nobody"},
		{"delete the admin API", "DELETE", "/admin/v1/apis/" + url.PathEscape(store.AdminAudience), "", 400, "built-in"},
		{"change the admin API's scopes", "PATCH", "/admin/v1/apis/" + url.PathEscape(store.AdminAudience), `{"scopes":[{"name":"root"}]}`, 400, "built-in"},
		{"bad audit time", "GET", "/admin/v1/audit?since=yesterday", "", 400, "RFC 3339"},
		{"bad audit limit", "GET", "/admin/v1/audit?limit=0", "", 400, "limit"},
		{"unknown endpoint", "GET", "/admin/v1/nothing", "", 404, "nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.call(tt.method, tt.path, tok, tt.body)
			_, description := errorOf(t, rec)
			if rec.Code != tt.status || !strings.Contains(description, tt.mention) {
				t.Errorf("got %d %q, want %d mentioning %q", rec.Code, description, tt.status, tt.mention)
			}
			if strings.HasPrefix(description, "invalid:") {
				t.Errorf("description: got %q, want it without the error class", description)
			}
		})
	}
	if _, err := a.st.GetTenant(t.Context(), "x"); err == nil {
		t.Errorf("a refused request created tenant x")
	}
}

// TestWrite: the error of a handler decides the answer; what went wrong
// inside the server is logged and never shown.
func TestWrite(t *testing.T) {
	w := newWorld(t)
	h := NewHandler(w.svc, nil, nil, nil, w.log)
	tests := []struct {
		name     string
		err      error
		status   int
		code     string
		mention  string
		logged   bool
		internal string // what must not reach the answer
	}{
		{"a broken rule", invalid("tenant id %q is bad", "X"), 400, "invalid_request", `tenant id "X" is bad`, false, "invalid:"},
		{"missing", fmt.Errorf("client c1: %w", store.ErrNotFound), 404, "not_found", "client c1", false, ""},
		{"clash", fmt.Errorf("tenant acme: %w", store.ErrAlreadyExists), 409, "already_exists", "tenant acme", false, ""},
		{"body too large", fmt.Errorf("reading: %w", &http.MaxBytesError{Limit: maxBody}), 413, "invalid_request", "too large", false, ""},
		{"database unreachable", fmt.Errorf("%w: dial tcp 10.0.0.5:5432: connection refused", store.ErrUnavailable), 503, "temporarily_unavailable", "nothing was changed", true, "10.0.0.5"},
		{"database too slow", fmt.Errorf("listing: %w", context.DeadlineExceeded), 503, "temporarily_unavailable", "Try again", true, "listing"},
		{"anything else", fmt.Errorf("pq: relation %q does not exist", "secret_table"), 500, "server_error", "could not complete", true, "secret_table"},
		{"an answer of its own", apiError(http.StatusTeapot, "teapot", "short and stout"), 418, "teapot", "short and stout", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.logs.Reset()
			rec := httptest.NewRecorder()
			h.write(rec, httptest.NewRequest("GET", "/admin/v1/x", nil), tt.err)
			code, description := errorOf(t, rec)
			if rec.Code != tt.status || code != tt.code || !strings.Contains(description, tt.mention) {
				t.Errorf("got %d %q %q, want %d %q mentioning %q", rec.Code, code, description, tt.status, tt.code, tt.mention)
			}
			if tt.internal != "" && strings.Contains(rec.Body.String(), tt.internal) {
				t.Errorf("answer: got %s, want no %q", rec.Body, tt.internal)
			}
			if logged := strings.Contains(w.logs.String(), `"level":"ERROR"`); logged != tt.logged {
				t.Errorf("logged: got %v, want %v (%s)", logged, tt.logged, w.logs)
			}
		})
	}
	t.Run("no error writes nothing", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.write(rec, httptest.NewRequest("GET", "/", nil), nil)
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("got %d %q, want nothing written", rec.Code, rec.Body)
		}
	})
}

// TestClientSecretsOnTheWire: a secret is shown once, by create and
// rotate-secret, never for an imported key, and no view shows a hash.
func TestClientSecretsOnTheWire(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	view := func(rec *httptest.ResponseRecorder, status int) ClientView {
		t.Helper()
		if rec.Code != status {
			t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, status)
		}
		for _, bad := range []string{"sha256", "bcrypt", "hash"} {
			if strings.Contains(rec.Body.String(), bad) {
				t.Errorf("a client view holds %q: %s", bad, rec.Body)
			}
		}
		var v ClientView
		must(t, json.Unmarshal(rec.Body.Bytes(), &v))
		return v
	}
	created := a.call("POST", "/admin/v1/clients", tok, `{"name":"edge","tenant":"acme","grants":{"`+templateAud+`":["delivery:read"]}}`)
	c := view(created, 201)
	if !strings.HasPrefix(c.ClientSecret, secret.Prefix) || created.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("create: got secret %.12q... and Cache-Control %q, want the secret once, not stored by caches", c.ClientSecret, created.Header().Get("Cache-Control"))
	}
	if got := view(a.call("GET", "/admin/v1/clients/"+c.ClientID, tok, ""), 200); got.ClientSecret != "" || len(got.Secrets) != 1 {
		t.Errorf("GET: got secret %q and %d secrets, want none shown and one listed", got.ClientSecret, len(got.Secrets))
	}
	rotated := a.call("POST", "/admin/v1/clients/"+c.ClientID+"/rotate-secret", tok, "")
	if r := view(rotated, 200); !strings.HasPrefix(r.ClientSecret, secret.Prefix) || r.ClientSecret == c.ClientSecret || len(r.Secrets) != 1 ||
		rotated.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("rotate-secret without a body: got %d secrets, Cache-Control %q; want a new secret alone", len(r.Secrets), rotated.Header().Get("Cache-Control"))
	}
	if r := view(a.call("POST", "/admin/v1/clients/"+c.ClientID+"/rotate-secret", tok, `{"keep_old":"1h"}`), 200); len(r.Secrets) != 2 {
		t.Errorf("rotate-secret keeping the old one: got %d secrets, want 2", len(r.Secrets))
	}
	imported := view(a.call("POST", "/admin/v1/clients", tok, `{"name":"migrated","tenant":"acme","client_id":"5934de97c95e1ced","client_secret":"2l9dr0jkink11ad49hg93it52d"}`), 201)
	if imported.ClientSecret != "" || len(imported.Secrets) != 1 || !imported.Secrets[0].Imported {
		t.Errorf("import: got secret %q, secrets %+v; want it not echoed and marked imported", imported.ClientSecret, imported.Secrets)
	}
	if list := a.call("GET", "/admin/v1/clients?tenant=acme", tok, ""); strings.Contains(list.Body.String(), `"client_secret":`) { // the field; auth_method's value may say client_secret
		t.Errorf("list: got %s, want no secrets", list.Body)
	}
}

// TestAPIRoutes: APIs are named by their audience in the path, escaped;
// a PATCH changes only the fields it names.
func TestAPIRoutes(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	path := "/admin/v1/apis/" + url.PathEscape(templateAud)
	var got APIView
	rec := a.call("GET", path, tok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &got))
	if rec.Code != 200 || got.Audience != templateAud || got.SigningAlg != "ES256" || got.TokenTTL.Std() != 24*time.Hour {
		t.Errorf("GET: got %d %+v", rec.Code, got)
	}
	rec = a.call("PATCH", path, tok, `{"token_ttl":"1h","scopes":[{"name":"delivery:read"},{"name":"delivery:write"}]}`)
	must(t, json.Unmarshal(rec.Body.Bytes(), &got))
	if rec.Code != 200 || got.TokenTTL.Std() != time.Hour || len(got.Scopes) != 2 || got.Name != "delivery" {
		t.Errorf("PATCH: got %d %+v, want 1h, two scopes, the name kept", rec.Code, got)
	}
	if rec = a.call("PATCH", path, tok, `{"token_ttl":3600}`); rec.Code != 200 {
		t.Errorf("PATCH with a ttl in seconds: got %d %s", rec.Code, rec.Body)
	}
	if rec = a.call("DELETE", path, tok, ""); rec.Code != 204 {
		t.Errorf("DELETE: got %d %s", rec.Code, rec.Body)
	}
	if rec = a.call("GET", path, tok, ""); rec.Code != 404 {
		t.Errorf("GET after DELETE: got %d, want 404", rec.Code)
	}
}

// TestKeyRoutes: keys are listed without their private parts, and a
// rotation adds a next key per algorithm.
func TestKeyRoutes(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	var listed, rotated []KeyView
	rec := a.call("GET", "/admin/v1/keys", tok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &listed))
	if rec.Code != 200 || len(listed) != len(store.SigningAlgs) || strings.Contains(rec.Body.String(), "private") {
		t.Errorf("GET keys: got %d %s, want one key per algorithm and no private part", rec.Code, rec.Body)
	}
	rec = a.call("POST", "/admin/v1/keys/rotate", tok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &rotated))
	if rec.Code != 201 || len(rotated) != 2*len(store.SigningAlgs) {
		t.Errorf("POST keys/rotate: got %d and %d keys, want 201 and %d", rec.Code, len(rotated), 2*len(store.SigningAlgs))
	}
}
