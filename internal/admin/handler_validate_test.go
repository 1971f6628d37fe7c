package admin

import (
	"net/url"
	"strings"
	"testing"

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
			a := newAdminAPIOn(t, newWorldOn(t, b.dsn(t)))
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
