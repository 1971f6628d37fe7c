package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// TestRenameAndDeleteTenants: the tenants page renames a tenant, and
// deletes an environment and a tenant after a confirmation that says
// what goes with them; a read-only user sees no such controls.
func TestRenameAndDeleteTenants(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	ctx := admin.WithActor(t.Context(), "seed")
	if _, _, err := e.h.service.CreateClient(ctx, admin.NewClient{Name: "qa-bot", Tenant: "acme", Environment: "qa"}); err != nil {
		t.Fatal(err)
	}
	if a := e.signedIn(e.reader).get("/console/tenants"); strings.Contains(a.body, "Delete…") || strings.Contains(a.body, "/console/tenants/rename") {
		t.Errorf("a read-only user is offered rename or delete")
	}
	b := e.signedIn(e.admin)

	a := b.post("/console/tenants", "/console/tenants/rename", url.Values{"id": {"acme"}, "name": {"Acme Corporation"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("rename: got %d, want 303\n%s", a.status, a.body)
	}
	if got, _ := e.store.GetTenant(t.Context(), "acme"); got.Name != "Acme Corporation" {
		t.Errorf("rename: got name %q, want Acme Corporation", got.Name)
	}
	if a := b.post("/console/tenants", "/console/tenants/rename", url.Values{"id": {"acme"}, "name": {"A\x01"}}); a.status != http.StatusBadRequest {
		t.Errorf("rename to a control character: got %d, want 400", a.status)
	}

	a = b.get("/console/environments/delete?tenant=acme&id=qa")
	if !strings.Contains(a.body, "Its 1 clients are deleted with it") || !strings.Contains(a.body, `name="cascade" value="true"`) {
		t.Errorf("environment delete confirmation: got %d, want it to name the client going with it\n%s", a.status, a.body)
	}
	// Without cascade (as if a client was added after the confirmation).
	if a := b.post("/console/tenants", "/console/environments/delete", url.Values{"tenant": {"acme"}, "id": {"qa"}}); a.status != http.StatusConflict {
		t.Errorf("environment delete without cascade: got %d, want 409", a.status)
	}
	a = b.post("/console/tenants", "/console/environments/delete", url.Values{"tenant": {"acme"}, "id": {"qa"}, "cascade": {"true"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("environment delete: got %d, want 303\n%s", a.status, a.body)
	}
	if _, err := e.store.GetEnvironment(t.Context(), "acme", "qa"); err == nil {
		t.Errorf("the environment is still stored")
	}

	if a := b.get("/console/tenants/delete?id=acme"); !strings.Contains(a.body, "Delete the tenant Acme Corporation (acme)?") {
		t.Errorf("tenant delete confirmation: got %d\n%s", a.status, a.body)
	}
	if a := b.post("/console/tenants", "/console/tenants/delete", url.Values{"id": {"acme"}}); a.status != http.StatusSeeOther {
		t.Fatalf("tenant delete: got %d, want 303\n%s", a.status, a.body)
	}
	if a := b.get("/console/tenants?deleted=acme"); !strings.Contains(a.body, "acme deleted.") || strings.Contains(a.body, "<code>acme</code>") {
		t.Errorf("tenants page after the delete: want a notice and no acme row")
	}
	var kinds []string
	for _, c := range e.changes() {
		kinds = append(kinds, c.kind)
	}
	if got := strings.Join(kinds, " "); !strings.Contains(got, "tenant.rename client.delete environment.delete tenant.delete") {
		t.Errorf("audit: got %s, want the rename and the deletes", got)
	}
}

// TestSessionAfterDisableEnable: a console session started before its
// client was disabled does not come back when the client is enabled.
func TestSessionAfterDisableEnable(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	if a := b.get("/console/tenants"); a.status != http.StatusOK {
		t.Fatalf("before: got %d, want 200", a.status)
	}
	yes, no := true, false
	ctx := admin.WithActor(t.Context(), "ops")
	e.clock.Add(2 * time.Second)
	if _, err := e.h.service.UpdateClient(ctx, e.admin.ClientID, admin.ClientPatch{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Second)
	if _, err := e.h.service.UpdateClient(ctx, e.admin.ClientID, admin.ClientPatch{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if a := b.get("/console/tenants"); a.status == http.StatusOK {
		t.Errorf("the old session after disable and enable: got 200, want it signed out")
	}
	if a := e.signedIn(e.admin).get("/console/tenants"); a.status != http.StatusOK {
		t.Errorf("a new sign-in after enable: got %d, want 200", a.status)
	}
}
