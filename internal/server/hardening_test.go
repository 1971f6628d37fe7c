package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestAdminTokenMustStillStand: a revoked admin token, or one whose client
// lost its admin grant, stops working before it expires.
func TestAdminTokenMustStillStand(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	ops := h.newClient(admin.ClientInput{Name: ptr("ops"), Tenant: "acme",
		Grants: &map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}}})
	n := 0
	call := func(method, tok string) int {
		n++
		req, _ := http.NewRequest(method, h.ts.URL+"/admin/v1/tenants", strings.NewReader(`{"id":"t`+strconv.Itoa(n)+`"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := h.token(ops, store.AdminAudience)
	if s := call("POST", tok); s != 201 {
		t.Fatalf("a fresh admin token: got %d, want 201", s)
	}
	h.do("PATCH", "/admin/v1/clients/"+ops.ClientID, map[string]any{"grants": map[string][]string{store.AdminAudience: {store.ScopeRead}}}, nil)
	if s := call("POST", tok); s != 403 {
		t.Errorf("write with admin:write taken away: got %d, want 403", s)
	}
	if s := call("GET", tok); s != 200 {
		t.Errorf("read with admin:read kept: got %d, want 200", s)
	}
	if s, _ := h.revoke(ops, tok); s != 200 {
		t.Fatalf("revoke: got %d", s)
	}
	if s := call("GET", tok); s != 401 {
		t.Errorf("a revoked admin token: got %d, want 401", s)
	}
}

// TestHostilePathsAndTemplates: metric labels stay bounded and valid for
// any path, and a template audience cannot take a service.
func TestHostilePathsAndTemplates(t *testing.T) {
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
	err := h.admin.Do(t.Context(), "POST", "/admin/v1/apis", map[string]any{"audience": "https://d.example/{tenant}", "service": "per-tenant"}, nil)
	var e *adminclient.Error
	if !errorsAs(err, &e) || e.Status != 400 || !strings.Contains(e.Description, "template") {
		t.Errorf("a service on a template audience: got %v, want 400", err)
	}
}

func errorsAs(err error, target **adminclient.Error) bool {
	e, ok := err.(*adminclient.Error)
	if ok {
		*target = e
	}
	return ok
}
