package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestAdminAuth(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	customer := h.newClient(admin.ClientInput{Name: ptr("customer"), Tenant: "acme",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}}})
	reader := h.newClient(admin.ClientInput{Name: ptr("auditor"), Tenant: "acme",
		Grants: &map[string][]string{store.AdminAudience: {store.ScopeRead}}})
	customerTok := h.token(customer, "https://api.sitecorecloud.io")
	readerTok := h.token(reader, store.AdminAudience)

	call := func(method, token string) (int, http.Header, string) {
		req, _ := http.NewRequest(method, h.ts.URL+"/admin/v1/tenants", strings.NewReader(`{"id":"new"}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		code, _ := body["error"].(string)
		return resp.StatusCode, resp.Header, code
	}
	tests := []struct {
		name, method, token string
		status              int
		code, challenge     string
	}{
		{"no token", "GET", "", 401, "invalid_token", `Bearer realm="gatehouse-admin"`},
		{"garbage token", "GET", "not-a-jwt", 401, "invalid_token", `error="invalid_token"`},
		{"token for a product API", "GET", customerTok, 401, "invalid_token", `error="invalid_token"`},
		{"tampered token", "GET", readerTok[:len(readerTok)-4] + "AAAA", 401, "invalid_token", `error="invalid_token"`},
		{"read scope reads", "GET", readerTok, 200, "", ""},
		{"read scope cannot write", "POST", readerTok, 403, "insufficient_scope", `error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, code := call(tt.method, tt.token)
			if status != tt.status || code != tt.code {
				t.Errorf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if !strings.Contains(header.Get("WWW-Authenticate"), tt.challenge) {
				t.Errorf("WWW-Authenticate: got %q, want it to contain %q", header.Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
	t.Run("a disabled admin client's token stops working", func(t *testing.T) {
		h.do("POST", "/admin/v1/clients/"+reader.ClientID+"/disable", nil, nil)
		if status, _, _ := call("GET", readerTok); status != 401 {
			t.Errorf("got %d, want 401", status)
		}
	})
}

func TestAdminAPIErrors(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	apiErr := func(method, path string, in any) *adminclient.Error {
		t.Helper()
		err := h.admin.Do(t.Context(), method, path, in, nil)
		var e *adminclient.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s %s: got %v, want an admin API error", method, path, err)
		}
		return e
	}
	tests := []struct {
		name, method, path string
		in                 any
		status             int
		mention            string
	}{
		{"bad tenant id", "POST", "/admin/v1/tenants", map[string]string{"id": "Not A Slug"}, 400, "tenant id"},
		{"duplicate tenant", "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, 409, "already exists"},
		{"unknown field", "POST", "/admin/v1/tenants", map[string]string{"id": "x", "colour": "red"}, 400, "colour"},
		{"environment of a missing tenant", "POST", "/admin/v1/environments", map[string]string{"tenant": "nobody", "id": "qa"}, 404, "nobody"},
		{"API without audience", "POST", "/admin/v1/apis", map[string]string{"name": "x"}, 400, "audience"},
		{"API with a relative audience", "POST", "/admin/v1/apis", map[string]string{"audience": "api.example.io"}, 400, "absolute URI"},
		{"API with a bad format", "POST", "/admin/v1/apis", map[string]string{"audience": "https://x.example", "token_format": "xml"}, 400, "token_format"},
		{"API with a bad alg", "POST", "/admin/v1/apis", map[string]string{"audience": "https://x.example", "signing_alg": "HS256"}, 400, "signing_alg"},
		{"API with a reserved service", "POST", "/admin/v1/apis", map[string]string{"audience": "https://x.example", "service": "oauth"}, 400, "service"},
		{"API with a bad ttl", "POST", "/admin/v1/apis", map[string]string{"audience": "https://x.example", "token_ttl": "soon"}, 400, "duration"},
		{"reserved audience", "POST", "/admin/v1/apis", map[string]string{"audience": "urn:gatehouse:mine"}, 400, "reserved"},
		{"duplicate API", "POST", "/admin/v1/apis", map[string]string{"audience": "https://api.sitecorecloud.io"}, 409, "already exists"},
		{"client without tenant", "POST", "/admin/v1/clients", map[string]any{"name": "x"}, 400, "tenant"},
		{"client of a missing tenant", "POST", "/admin/v1/clients", map[string]any{"name": "x", "tenant": "nobody"}, 400, "nobody"},
		{"client in a missing environment", "POST", "/admin/v1/clients", map[string]any{"name": "x", "tenant": "acme", "environment": "prod"}, 400, "acme/prod"},
		{"grant on a missing API", "POST", "/admin/v1/clients", map[string]any{"name": "x", "tenant": "acme", "grants": map[string][]string{"https://nowhere.example": {}}}, 400, "nowhere"},
		{"grant of a missing scope", "POST", "/admin/v1/clients", map[string]any{"name": "x", "tenant": "acme", "grants": map[string][]string{"https://api.sitecorecloud.io": {"root"}}}, 400, "root"},
		{"import a weak secret", "POST", "/admin/v1/clients", map[string]any{"name": "x", "tenant": "acme", "client_id": "legacy-1", "client_secret": "short"}, 400, "16 characters"},
		{"missing client", "GET", "/admin/v1/clients/nobody", nil, 404, "nobody"},
		{"delete the admin API", "DELETE", adminclient.Path("admin", "v1", "apis", store.AdminAudience), nil, 400, "built-in"},
		{"unknown endpoint", "GET", "/admin/v1/nothing", nil, 404, "nothing"},
		{"oversized body", "POST", "/admin/v1/tenants", map[string]string{"id": strings.Repeat("x", 2<<20)}, 413, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apiErr(tt.method, tt.path, tt.in)
			if e.Status != tt.status || !strings.Contains(e.Description, tt.mention) {
				t.Errorf("got %d %q, want %d mentioning %q", e.Status, e.Description, tt.status, tt.mention)
			}
		})
	}
}

func TestAdminAPIRoundTrip(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	var a admin.APIView
	path := adminclient.Path("admin", "v1", "apis", "https://delivery.sitecore.cloud/{tenant}")
	h.do("GET", path, nil, &a)
	if a.Audience != "https://delivery.sitecore.cloud/{tenant}" || a.SigningAlg != "ES256" || a.TokenTTL.Std().Hours() != 24 {
		t.Errorf("got %+v", a)
	}
	h.do("PATCH", path, map[string]any{"token_ttl": "1h", "scopes": []map[string]string{{"name": "delivery:read"}, {"name": "delivery:write"}}}, &a)
	if a.TokenTTL.Std().Hours() != 1 || len(a.Scopes) != 2 || a.Name == "" {
		t.Errorf("after PATCH: got %+v", a)
	}
	c := h.newClient(admin.ClientInput{Name: ptr("edge"), Tenant: "acme",
		Grants: &map[string][]string{"https://delivery.sitecore.cloud/{tenant}": {"delivery:write"}}})
	if !strings.HasPrefix(c.ClientSecret, "gatehouse_") || len(c.ClientID) != 24 {
		t.Errorf("generated credentials: id %q, secret prefix %.10q", c.ClientID, c.ClientSecret)
	}
	tok := h.token(c, "https://delivery.sitecore.cloud/acme")
	if _, claims := h.verified(tok, "https://delivery.sitecore.cloud/acme"); claims["scope"] != "delivery:write" {
		t.Errorf("scope: got %v", claims["scope"])
	}
	var got admin.ClientView
	h.do("GET", "/admin/v1/clients/"+c.ClientID, nil, &got)
	if got.ClientSecret != "" || len(got.Secrets) != 1 {
		t.Errorf("GET shows the secret or lost it: %+v", got)
	}
	raw, _ := json.Marshal(got)
	if strings.Contains(string(raw), "sha256") || strings.Contains(string(raw), "hash") {
		t.Errorf("a client view carries its secret hash: %s", raw)
	}
	// Import a key from another vendor: it works with its old secret.
	imported := h.newClient(admin.ClientInput{Name: ptr("migrated"), Tenant: "acme", ClientID: "5934de97c95e1ced", ClientSecret: "2l9dr0jkink11ad49hg93it52d",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}}})
	if imported.ClientSecret != "" {
		t.Errorf("create echoed an imported secret")
	}
	imported.ClientSecret = "2l9dr0jkink11ad49hg93it52d"
	h.secrets = append(h.secrets, imported.ClientSecret)
	h.token(imported, "https://api.sitecorecloud.io")
	h.token(imported, "https://api.sitecorecloud.io") // the cached check
	// Delete the API: the grant stops working.
	h.do("DELETE", path, nil, nil)
	if status, _, _ := h.post("/oauth/token", "application/x-www-form-urlencoded", form("grant_type", "client_credentials",
		"client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://delivery.sitecore.cloud/acme"), nil); status != 403 {
		t.Errorf("token for a deleted API: got %d, want 403", status)
	}
}
