package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTrustRoutes walks the trust routes as a client of the admin API
// would: every answer's status, and the admin API's JSON error naming the
// field for each refusal.
func TestTrustRoutes(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	readTok := a.adminToken(ops.ID, "admin:read")
	deploy, _ := a.client("deploy", map[string][]string{platform: {"read", "write"}})
	base := "/admin/v1/tenants/acme/trusts"
	steps := []struct {
		name, method, path, body string
		token                    string
		status                   int
		code, mention            string // the error's code and a word of its description
	}{
		{"create", "POST", base, `{"name":"k8s","issuer":"https://k8s.example","jwks":` + publicJWKS(t) + `,"audiences":["gatehouse"],"max_age":"1h","single_use":true}`, tok, 201, "", ""},
		{"create with discovery and a rule", "POST", base, `{"name":"github","issuer":"` + ghIssuer + `","rules":[{"name":"main","client":"` + deploy.ID + `","match":"claims.ref == \"refs/heads/main\"","scopes":["read"],"token_ttl":"10m"}]}`, tok, 201, "", ""},
		{"create twice", "POST", base, `{"name":"k8s","issuer":"https://k8s.example"}`, tok, 409, "already_exists", "k8s"},
		{"create with a bad issuer", "POST", base, `{"name":"x","issuer":"http://k8s.example"}`, tok, 400, "invalid_request", "issuer"},
		{"create with both key sources", "POST", base, `{"name":"x","issuer":"https://k8s.example","jwks":` + publicJWKS(t) + `,"jwks_uri":"https://k8s.example/k"}`, tok, 400, "invalid_request", "not both"},
		{"create with a bad max_age", "POST", base, `{"name":"x","issuer":"https://k8s.example","max_age":"soon"}`, tok, 400, "invalid_request", "duration"},
		{"create with an unknown field", "POST", base, `{"name":"x","issuer":"https://k8s.example","keys":"x"}`, tok, 400, "invalid_request", "keys"},
		{"create in a missing tenant", "POST", "/admin/v1/tenants/nobody/trusts", `{"name":"x","issuer":"https://k8s.example"}`, tok, 404, "not_found", "nobody"},
		{"create with admin:read", "POST", base, `{"name":"x","issuer":"https://k8s.example"}`, readTok, 403, "insufficient_scope", ""},
		{"patch", "PATCH", base + "/k8s", `{"jwks_uri":"https://k8s.example/keys","max_age":0}`, tok, 200, "", ""},
		{"patch the name", "PATCH", base + "/k8s", `{"name":"other"}`, tok, 400, "invalid_request", "name"},
		{"patch the rules", "PATCH", base + "/k8s", `{"rules":[]}`, tok, 400, "invalid_request", "rules"},
		{"patch a missing trust", "PATCH", base + "/nope", `{"single_use":true}`, tok, 404, "not_found", "acme/nope"},
		{"add a rule", "POST", base + "/k8s/rules", `{"name":"export","client":"` + deploy.ID + `","match":"claims.sub == \"system:serviceaccount:billing:export\"","token_ttl":600}`, tok, 201, "", ""},
		{"add it again", "POST", base + "/k8s/rules", `{"name":"export","client":"` + deploy.ID + `","match":"true"}`, tok, 409, "already_exists", "export"},
		{"add a rule that does not compile", "POST", base + "/k8s/rules", `{"name":"bad","client":"` + deploy.ID + `","match":"claims.sub =="}`, tok, 400, "invalid_request", "match"},
		{"add a rule for a missing client", "POST", base + "/k8s/rules", `{"name":"bad","client":"ghost","match":"true"}`, tok, 400, "invalid_request", "client"},
		{"add a rule to a missing trust", "POST", base + "/nope/rules", `{"name":"x","client":"` + deploy.ID + `","match":"true"}`, tok, 404, "not_found", "acme/nope"},
		{"delete a missing rule", "DELETE", base + "/k8s/rules/nope", "", tok, 404, "not_found", "nope"},
		{"delete a rule", "DELETE", base + "/k8s/rules/export", "", tok, 204, "", ""},
		{"list another tenant's trusts", "GET", "/admin/v1/tenants/nobody/trusts", "", tok, 404, "not_found", "nobody"},
		{"read without a token", "GET", base, "", "", 401, "invalid_token", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			rec := a.call(s.method, s.path, s.token, s.body)
			if rec.Code != s.status {
				t.Fatalf("%s %s: got %d %s, want %d", s.method, s.path, rec.Code, rec.Body, s.status)
			}
			code, desc := errorOf(t, rec)
			if code != s.code || !strings.Contains(desc, s.mention) {
				t.Errorf("error: got %q %q, want %q mentioning %q", code, desc, s.code, s.mention)
			}
		})
	}

	var trusts []TrustView
	rec := a.call("GET", "/admin/v1/trusts", readTok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &trusts))
	if rec.Code != 200 || len(trusts) != 2 || trusts[0].Name != "github" || trusts[1].Name != "k8s" {
		t.Fatalf("GET /admin/v1/trusts: got %d %s, want github and k8s", rec.Code, rec.Body)
	}
	gh, k8s := trusts[0], trusts[1]
	if gh.KeySource != KeySourceDiscovery || len(gh.Rules) != 1 || gh.Rules[0].TokenTTL == nil || gh.Rules[0].TokenTTL.Std().String() != "10m0s" {
		t.Errorf("github: got %+v, want discovery and one rule capped at 10m", gh)
	}
	if k8s.KeySource != KeySourceJWKSURI || k8s.JWKS != nil || k8s.MaxAge != nil || !k8s.SingleUse || len(k8s.Rules) != 0 {
		t.Errorf("k8s after the patch: got %+v, want its jwks_uri alone, no max_age, single use, no rules", k8s)
	}
	var got TrustView
	rec = a.call("GET", "/admin/v1/tenants/acme/trusts/github", readTok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &got))
	if rec.Code != 200 || got.Issuer != ghIssuer || !strings.Contains(rec.Body.String(), `"token_ttl":"10m0s"`) {
		t.Errorf("GET github: got %d %s, want its issuer and durations as text", rec.Code, rec.Body)
	}
	var rules []RuleView
	rec = a.call("GET", "/admin/v1/tenants/acme/trusts/github/rules", readTok, "")
	must(t, json.Unmarshal(rec.Body.Bytes(), &rules))
	if rec.Code != 200 || len(rules) != 1 || rules[0].Name != "main" || rules[0].Client != deploy.ID {
		t.Errorf("GET rules: got %d %s", rec.Code, rec.Body)
	}
	if rec = a.call("DELETE", "/admin/v1/tenants/acme/trusts/github", tok, ""); rec.Code != 204 {
		t.Errorf("DELETE github: got %d %s, want 204", rec.Code, rec.Body)
	}
	if rec = a.call("GET", "/admin/v1/tenants/acme/trusts/github", readTok, ""); rec.Code != 404 {
		t.Errorf("GET after DELETE: got %d, want 404", rec.Code)
	}
}

// TestAcceptExchangeFromRoute: PATCH on an API sets and clears the list;
// GET shows it.
func TestAcceptExchangeFromRoute(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	path := "/admin/v1/apis/https:%2F%2Forders.example.io"
	if rec := a.call("POST", "/admin/v1/apis", tok, `{"audience":"https://orders.example.io","accept_exchange_from":["`+platform+`"]}`); rec.Code != 201 ||
		!strings.Contains(rec.Body.String(), `"accept_exchange_from":["`+platform+`"]`) {
		t.Fatalf("POST: got %d %s, want 201 with the list", rec.Code, rec.Body)
	}
	if rec := a.call("PATCH", path, tok, `{"accept_exchange_from":["https://nope.example"]}`); rec.Code != 400 {
		t.Errorf("PATCH with an unknown audience: got %d %s, want 400", rec.Code, rec.Body)
	}
	rec := a.call("PATCH", path, tok, `{"accept_exchange_from":[]}`)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "accept_exchange_from") {
		t.Errorf("PATCH clearing: got %d %s, want 200 without the list", rec.Code, rec.Body)
	}
}
