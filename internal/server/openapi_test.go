package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestOpenAPICoversEveryAdminRoute walks the routes the node registers
// under /admin/ and fails, naming the route, when one has no operation in
// internal/admin/openapi.json, or when the document has an operation no
// route serves: the document cannot drift from the mux.
func TestOpenAPICoversEveryAdminRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	h := start(t, nil)
	var registered []string
	for _, pattern := range h.srv.adminRoutes.patterns {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			continue // the catch-all that answers not_found
		}
		registered = append(registered, pattern)
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %q is registered but missing from internal/admin/openapi.json: add a %q operation under paths[%q]",
				pattern, strings.ToLower(method), path)
		}
	}
	if len(registered) < 20 {
		t.Fatalf("walked %d admin routes, want them all: %v", len(registered), registered)
	}
	for _, op := range operations(doc) {
		if !slices.Contains(registered, op) {
			t.Errorf("internal/admin/openapi.json documents %q, but no such route is registered", op)
		}
	}
}

// adminCase is one request of TestOpenAPIValidatesAdminTraffic: what the
// server answers, and whether the document accepts the request.
type adminCase struct {
	method, path, tok, body string
	status                  int
	docAccepts              bool
}

// TestOpenAPIValidatesAdminTraffic sends every admin operation real
// requests, successes and errors, on a node over SQLite, and validates each
// request and answer against the document (kin-openapi's openapi3filter,
// OpenAPI 3.1 with JSON Schema 2020-12). Requests the server refuses as
// malformed must be refused by the document too.
func TestOpenAPIValidatesAdminTraffic(t *testing.T) {
	doc := loadOpenAPI(t)
	h := start(t, nil)
	check := newOpenAPICheck(t, doc, h.ts.URL)
	adminGrant := func(scopes ...string) *map[string][]string {
		return &map[string][]string{store.AdminAudience: scopes}
	}
	h.do("POST", "/admin/v1/tenants", map[string]string{"id": "ops"}, nil)
	w := h.token(h.newClient(admin.ClientInput{Name: ptr("w"), Tenant: "ops", Grants: adminGrant(store.ScopeRead, store.ScopeWrite)}), store.AdminAudience)
	r := h.token(h.newClient(admin.ClientInput{Name: ptr("r"), Tenant: "ops", Grants: adminGrant(store.ScopeRead)}), store.AdminAudience)
	run := func(cases []adminCase) {
		t.Helper()
		for _, c := range cases {
			status, answer, reqErr := check.call(c.method, c.path, c.tok, c.body)
			if status != c.status {
				t.Errorf("%s %s %s: got %d %s, want %d", c.method, c.path, c.body, status, answer, c.status)
			}
			if (reqErr == nil) != c.docAccepts {
				t.Errorf("%s %s %s: the document accepts the request: got %v (%v), want %v", c.method, c.path, c.body, reqErr == nil, reqErr, c.docAccepts)
			}
		}
	}
	api := "/admin/v1/apis/" + url.PathEscape("https://api.example.io")
	run([]adminCase{
		{"GET", "/admin/v1/openapi.json", "", "", 200, true},
		{"POST", "/admin/v1/tenants", w, `{"id":"acme","name":"Acme"}`, 201, true},
		{"POST", "/admin/v1/tenants", w, `{"id":"acme"}`, 409, true},
		{"POST", "/admin/v1/tenants", w, `{"id":"Not A Slug"}`, 400, false},
		{"POST", "/admin/v1/tenants", w, `{"id":"x","colour":"red"}`, 400, false},
		{"POST", "/admin/v1/tenants", w, `{"id":"big","name":"Big"` + strings.Repeat(" ", 1<<20) + `}`, 413, true},
		{"POST", "/admin/v1/tenants", r, `{"id":"zz"}`, 403, false},
		{"GET", "/admin/v1/tenants", "", "", 401, false},
		{"GET", "/admin/v1/tenants", r, "", 200, true},
		{"GET", "/admin/v1/tenants/acme", r, "", 200, true},
		{"GET", "/admin/v1/tenants/nope", r, "", 404, true},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"limits":{"quota_hour":100}}`, 200, true},
		{"PATCH", "/admin/v1/tenants/acme", w, `{"limits":{"quota_hour":-1}}`, 400, false},
		{"POST", "/admin/v1/environments", w, `{"tenant":"acme","id":"qa"}`, 201, true},
		{"POST", "/admin/v1/environments", w, `{"tenant":"nope","id":"qa"}`, 404, true},
		{"GET", "/admin/v1/environments?tenant=acme", r, "", 200, true},
		{"POST", "/admin/v1/apis", w, `{"audience":"https://api.example.io","name":"platform","scopes":[{"name":"read","description":"Read"}],"token_ttl":"1h"}`, 201, true},
		{"POST", "/admin/v1/apis", w, `{"audience":"https://api.example.io"}`, 409, true},
		{"POST", "/admin/v1/apis", w, `{"audience":"https://x.example.io","token_format":"xml"}`, 400, false},
		{"POST", "/admin/v1/apis", w, `{"audience":"https://op.example.io","token_format":"opaque","token_ttl":600}`, 201, true},
		{"GET", "/admin/v1/apis", r, "", 200, true},
		{"GET", api, r, "", 200, true},
		{"GET", "/admin/v1/apis/" + url.PathEscape("https://nope.example.io"), r, "", 404, true},
		{"PATCH", api, w, `{"reuse_window":60}`, 200, true},
		{"PATCH", api, w, `{"token_ttl":"soon"}`, 400, false},
		{"PATCH", api, w, `{"accept_exchange_from":["https://op.example.io"]}`, 200, true},
		{"GET", "/admin/v1/keys", r, "", 200, true},
		{"POST", "/admin/v1/keys/rotate", w, "", 201, true},
		{"POST", "/admin/v1/keys/rotate", r, "", 403, false},
		{"POST", "/admin/v1/console/links", w, "", 201, true},
		{"GET", "/admin/v1/audit?kind=tenant.create&limit=5", r, "", 200, true},
		{"GET", "/admin/v1/audit?limit=0", r, "", 400, false},
	})
	run(tenantRenameCases(r, w))
	// A client, and a token of its to revoke by jti.
	status, answer, _ := check.call("POST", "/admin/v1/clients", w,
		`{"tenant":"acme","environment":"qa","name":"svc","grants":{"https://api.example.io":["read"],"https://op.example.io":[]},"token_ttl":"30m"}`)
	var svc admin.ClientView
	if err := json.Unmarshal(answer, &svc); status != 201 || err != nil {
		t.Fatalf("creating a client: got %d %s", status, answer)
	}
	h.secrets = append(h.secrets, svc.ClientSecret)
	jti := jtiOf(h.token(svc, "https://api.example.io"))
	if err := h.srv.audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl := "/admin/v1/clients/" + svc.ClientID
	trusts, ci := "/admin/v1/tenants/acme/trusts", "/admin/v1/tenants/acme/trusts/ci"
	rule := fmt.Sprintf(`{"name":"main","client":%q,"match":"claims.sub == 'repo:acme/app'","scopes":["read"],"token_ttl":"10m"}`, svc.ClientID)
	run([]adminCase{
		{"POST", trusts, w, `{"name":"ci","issuer":"https://ci.example.com","jwks_uri":"https://ci.example.com/jwks","audiences":["gatehouse"],"max_age":"1h"}`, 201, true},
		{"POST", trusts, w, `{"name":"ci","issuer":"https://ci.example.com"}`, 409, true},
		{"POST", trusts, w, `{"name":"plain","issuer":"http://ci.example.com"}`, 400, true},
		{"POST", trusts, w, `{"name":"ci2"}`, 400, false},
		{"POST", "/admin/v1/tenants/nope/trusts", w, `{"name":"x","issuer":"https://ci.example.com"}`, 404, true},
		{"GET", "/admin/v1/trusts?tenant=acme", r, "", 200, true},
		{"GET", trusts, r, "", 200, true},
		{"GET", ci, r, "", 200, true},
		{"GET", trusts + "/nope", r, "", 404, true},
		{"PATCH", ci, w, `{"single_use":true,"audiences":["gatehouse","ci"]}`, 200, true},
		{"PATCH", ci, w, `{"name":"renamed"}`, 400, false},
		{"POST", ci + "/rules", w, rule, 201, true},
		{"POST", ci + "/rules", w, rule, 409, true},
		{"POST", ci + "/rules", w, fmt.Sprintf(`{"name":"bad","client":%q,"match":"claims.sub =="}`, svc.ClientID), 400, true},
		{"GET", ci + "/rules", r, "", 200, true},
		{"GET", ci, r, "", 200, true},
	})
	run(trustTestCases(ci, r))
	run([]adminCase{
		{"DELETE", ci + "/rules/main", w, "", 204, true},
		{"DELETE", ci + "/rules/main", w, "", 404, true},
		{"DELETE", ci, w, "", 204, true},
	})
	run(refusedDeleteCases(r, w))
	run(inputBoundCases(api, w))
	run([]adminCase{
		{"POST", "/admin/v1/clients", w, `{"tenant":"acme","name":"x","auth_method":"carrier_pigeon"}`, 400, false},
		{"POST", "/admin/v1/clients", w, `{"tenant":"nope","name":"x"}`, 400, true},
		{"GET", "/admin/v1/clients?tenant=acme", r, "", 200, true},
		{"GET", cl, r, "", 200, true},
		{"GET", "/admin/v1/clients/nope", r, "", 404, true},
		{"PATCH", cl, w, `{"name":"svc2","limits":{"rate_per_second":5,"quota_day":1000}}`, 200, true},
		{"PATCH", cl, w, `{"token_ttl":"soon"}`, 400, false},
		{"PATCH", cl, w, `{"limits":{"quota_hour":50,"mode":"log-only"}}`, 200, true},
		{"PATCH", cl, w, `{"limits":{"quota_hour":50,"mode":"maybe"}}`, 400, false},
		{"POST", cl + "/disable", w, "", 200, true},
		{"POST", cl + "/enable", w, "", 200, true},
		{"POST", "/admin/v1/clients/nope/enable", w, "", 404, true},
		{"POST", cl + "/rotate-secret", w, "", 200, true},
		{"POST", cl + "/rotate-secret", w, `{"keep_old":"1h","expires_in":"90d"}`, 200, true},
		{"POST", cl + "/rotate-secret", w, `{"keep_old":"1h"}`, 400, true},
		{"POST", "/admin/v1/tokens/revoke", w, fmt.Sprintf(`{"jti":%q}`, jti), 200, true},
		{"POST", "/admin/v1/tokens/revoke", w, fmt.Sprintf(`{"jti":%q}`, jti), 200, true},
		{"POST", "/admin/v1/tokens/revoke", w, `{"jti":"nosuchjti"}`, 404, true},
		{"POST", "/admin/v1/tokens/revoke", w, `{"jti":"not a jti"}`, 400, false},
		{"DELETE", cl, w, "", 204, true},
		{"DELETE", cl, w, "", 404, true},
		{"DELETE", api, w, "", 204, true},
		{"DELETE", api, w, "", 404, true},
	})
	run(cascadeDeleteCases(w))
	for _, op := range operations(doc) {
		if !slices.ContainsFunc(check.answered[op], func(s int) bool { return s < 300 }) {
			t.Errorf("operation %s was not exercised with a success (answers: %v): add a request for it", op, check.answered[op])
		}
	}
}
