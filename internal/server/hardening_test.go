package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestThrottleCoversEveryAuthenticatedEndpoint: secrets guessed at
// introspection count like those at the token endpoint, and a client id
// blocked at one is blocked at the others.
func TestThrottleCoversEveryAuthenticatedEndpoint(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("probe"), Tenant: "acme", Grants: &map[string][]string{platform: {}}})
	post := func(path, secret string) int {
		status, _, _ := h.post(path, "application/x-www-form-urlencoded", form("client_id", c.ClientID, "client_secret", secret, "token", "x"), nil)
		return status
	}
	for i := 0; i < 10; i++ {
		if s := post("/oauth/introspect", "gatehouse_guess"); s != 401 {
			t.Fatalf("guess %d at introspection: got %d, want 401", i, s)
		}
	}
	for _, path := range []string{"/oauth/introspect", "/oauth/revoke", "/oauth/revocations"} {
		if s := post(path, c.ClientSecret); s != 429 {
			t.Errorf("%s with the right secret during the backoff: got %d, want 429", path, s)
		}
	}
	if s, _, _ := h.tokenStatus(c, c.ClientSecret); s != 429 {
		t.Errorf("the token endpoint during the backoff: got %d, want 429", s)
	}
}

// TestAdminSeesRevocations: an admin token revoked at /oauth/revoke is
// refused by the admin API at once, since both read the node's one
// revocation list. (What else ends an admin token early is tested in
// internal/admin.)
func TestAdminSeesRevocations(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	ops := h.newClient(admin.ClientInput{Name: ptr("ops"), Tenant: "acme",
		Grants: &map[string][]string{store.AdminAudience: {store.ScopeRead}}})
	tok := h.token(ops, store.AdminAudience)
	call := func() int {
		req, _ := http.NewRequest("GET", h.ts.URL+"/admin/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := call(); s != 200 {
		t.Fatalf("a fresh admin token: got %d, want 200", s)
	}
	if s, _ := h.revoke(ops, tok); s != 200 {
		t.Fatalf("revoke: got %d", s)
	}
	if s := call(); s != 401 {
		t.Errorf("a revoked admin token: got %d, want 401", s)
	}
}

// TestReuseWindowSkipsRevokedTokens: the reuse window never hands back a
// token that was revoked.
func TestReuseWindowSkipsRevokedTokens(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	h.do("PATCH", adminclient.Path("admin", "v1", "apis", platform), map[string]any{"reuse_window": "10m"}, nil)
	c := h.newClient(admin.ClientInput{Name: ptr("r"), Tenant: "acme", Grants: &map[string][]string{platform: {}}})
	first := h.token(c, platform)
	if again := h.token(c, platform); again != first {
		t.Fatalf("within the window: got a new token, want the held one")
	}
	if s, _ := h.revoke(c, first); s != 200 {
		t.Fatalf("revoke: got %d", s)
	}
	if after := h.token(c, platform); after == first {
		t.Errorf("after revocation the reuse window handed back the revoked token")
	}
}

// TestHostilePaths: metric labels stay bounded and valid for any path.
func TestHostilePaths(t *testing.T) {
	h := start(t, nil)
	for _, p := range []string{"/oauth/%ff", "/oauth/x1", "/oauth/x2", "/%ff/v1/oauth2/token"} {
		resp, err := http.Get(h.ts.URL + p)
		if err != nil {
			t.Fatalf("GET %s: %v (the connection died)", p, err)
		}
		resp.Body.Close()
	}
	resp, _ := http.Get(h.ts.URL + "/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `route="x1"`) || strings.Contains(string(body), `\xff`) {
		t.Errorf("made-up paths became metric labels")
	}
}
