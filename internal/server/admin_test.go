package server

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
)

// TestAdminChangesReachTheTokenEndpoint: what the admin API changes, the
// token endpoint of the same node applies at once: a template API's new
// scope, an imported key's secret (checked with the slow hash, then from
// the cache), a deleted API. The admin rules themselves are tested in
// internal/admin.
func TestAdminChangesReachTheTokenEndpoint(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	path := adminclient.Path("admin", "v1", "apis", "https://delivery.sitecore.cloud/{tenant}")
	h.do("PATCH", path, map[string]any{"token_ttl": "1h", "scopes": []map[string]string{{"name": "delivery:read"}, {"name": "delivery:write"}}}, nil)
	c := h.newClient(admin.ClientInput{Name: ptr("edge"), Tenant: "acme",
		Grants: &map[string][]string{"https://delivery.sitecore.cloud/{tenant}": {"delivery:write"}}})
	tok := h.token(c, "https://delivery.sitecore.cloud/acme")
	if _, claims := h.verified(tok, "https://delivery.sitecore.cloud/acme"); claims["scope"] != "delivery:write" {
		t.Errorf("scope: got %v, want delivery:write", claims["scope"])
	}
	// Import a key from another vendor: it works with its old secret.
	imported := h.newClient(admin.ClientInput{Name: ptr("migrated"), Tenant: "acme", ClientID: "5934de97c95e1ced", ClientSecret: "2l9dr0jkink11ad49hg93it52d",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}}})
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
