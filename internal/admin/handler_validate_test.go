package admin

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestAdminAPIInput: the admin API refuses a key given twice (encoding/json
// would keep the last one silently) and bad text with 400 naming the
// field, and answers a NUL byte in an id with 404, not 500, on both
// backends.
func TestAdminAPIInput(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		mention                  string
	}{
		{"a top-level key twice", "POST", "/admin/v1/tenants", `{"id":"dup1","id":"dup2"}`, 400, "id appears twice"},
		{"a grant's audience twice", "POST", "/admin/v1/clients",
			`{"name":"x","tenant":"acme","grants":{"` + platform + `":["read"],"` + platform + `":["write"]}}`, 400, `grants["https://api.example.io"] appears twice`},
		{"a key twice inside a scope", "POST", "/admin/v1/apis",
			`{"audience":"https://d.example.io","scopes":[{"name":"a","name":"b"}]}`, 400, "scopes[0].name appears twice"},
		{"a limit twice", "PATCH", "/admin/v1/tenants/acme", `{"limits":{"quota_day":1,"quota_day":2}}`, 400, "limits.quota_day appears twice"},
		{"nesting 100 deep", "POST", "/admin/v1/tenants", strings.Repeat("[", 100) + strings.Repeat("]", 100), 400, "nests deeper"},
		{"NUL in a tenant name", "POST", "/admin/v1/tenants", `{"id":"nul","name":"a\u0000b"}`, 400, "name"},
		{"NUL in a client name", "POST", "/admin/v1/clients", `{"name":"a\u0000","tenant":"acme"}`, 400, "name"},
		{"negative token_ttl", "POST", "/admin/v1/apis", `{"audience":"https://d.example.io","token_ttl":-60}`, 400, "token_ttl"},
		{"negative client token_ttl", "POST", "/admin/v1/clients", `{"name":"x","tenant":"acme","token_ttl":"-5m"}`, 400, "token_ttl"},
		{"NUL in a client id read", "GET", "/admin/v1/clients/a%00b", "", 404, "client"},
		{"NUL in a tenant id read", "GET", "/admin/v1/tenants/a%00b", "", 404, "tenant"},
		{"NUL in an audience read", "GET", "/admin/v1/apis/" + url.PathEscape("https://a\x00"), "", 404, "API"},
		{"NUL in a client disable", "POST", "/admin/v1/clients/a%00b/disable", "", 404, "client"},
		{"NUL in an audit filter", "GET", "/admin/v1/audit?client=a%00b", "", 400, "client"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			a := newAdminAPIOn(t, newWorldAt(t, b.dsn(t)))
			ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
			tok := a.adminToken(ops.ID, "admin:read admin:write")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rec := a.call(tt.method, tt.path, tok, tt.body)
					_, description := errorOf(t, rec)
					if rec.Code != tt.status || !strings.Contains(description, tt.mention) {
						t.Errorf("got %d %q, want %d mentioning %q", rec.Code, description, tt.status, tt.mention)
					}
				})
			}
			for _, id := range []string{"dup1", "dup2", "nul"} {
				if _, err := a.st.GetTenant(t.Context(), id); err == nil {
					t.Errorf("a refused request created tenant %s", id)
				}
			}
		})
	}
}

// TestAdminTokenAfterDisableEnable: an admin token issued before a
// disable stays refused after the enable (it was usable again before);
// a token issued after the enable works. The cut-off is stored, so every
// node, and a restarted one, agrees.
func TestAdminTokenAfterDisableEnable(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	old := a.adminToken(ops.ID, "admin:read")
	a.clock.Add(time.Minute)
	if got := a.call("GET", "/admin/v1/tenants", old, "").Code; got != 200 {
		t.Fatalf("before disable: got %d, want 200", got)
	}
	yes, no := true, false
	must(t, first(a.svc.UpdateClient(t.Context(), ops.ID, ClientPatch{Disabled: &yes})))
	if got := a.call("GET", "/admin/v1/tenants", old, "").Code; got != 401 {
		t.Errorf("while disabled: got %d, want 401", got)
	}
	a.clock.Add(time.Minute)
	must(t, first(a.svc.UpdateClient(t.Context(), ops.ID, ClientPatch{Disabled: &no})))
	if got := a.call("GET", "/admin/v1/tenants", old, "").Code; got != 401 {
		t.Errorf("old token after enable: got %d, want 401", got)
	}
	if got := a.stored(ops.ID).TokensNotBefore; !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("stored TokensNotBefore: got %v, want the time of the disable %v", got, t0.Add(time.Minute))
	}
	fresh := a.adminToken(ops.ID, "admin:read")
	if got := a.call("GET", "/admin/v1/tenants", fresh, "").Code; got != 200 {
		t.Errorf("token issued after enable: got %d, want 200", got)
	}
	// An update that does not disable leaves the cut-off alone.
	name := "ops2"
	must(t, first(a.svc.UpdateClient(t.Context(), ops.ID, ClientPatch{Name: &name})))
	if got := a.call("GET", "/admin/v1/tenants", fresh, "").Code; got != 200 {
		t.Errorf("after a rename: got %d, want 200", got)
	}
}
