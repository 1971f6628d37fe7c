package admin

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestDeleteTenant: a tenant with environments or clients is refused
// (409 in_use on the wire) naming what depends on it; with cascade it
// goes with them, each audited, gone from the catalog, and the deleted
// clients' tokens listed as revoked for gateways.
func TestDeleteTenant(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	qa, _, err := w.svc.CreateClient(ctx, NewClient{Name: "qa", Tenant: "acme", Environment: "qa"})
	must(t, err)
	org, _ := w.client("org", map[string][]string{platform: {"read"}})
	otherC, _, err := w.svc.CreateClient(ctx, NewClient{Name: "theirs", Tenant: "other"})
	must(t, err)
	w.audit.take()

	_, err = w.svc.DeleteTenant(ctx, "acme", false)
	checkErr(t, err, ErrInUse, "1 environments, 2 clients and 0 trusts")
	if !strings.Contains(err.Error(), "cascade") {
		t.Errorf("refusal: got %q, want it to say how to go on (cascade)", err)
	}
	if ev := w.audit.take(); len(ev) != 0 {
		t.Errorf("audit after a refused delete: got %d events, want none", len(ev))
	}
	if _, err := w.svc.DeleteTenant(ctx, "nobody", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTenant(nobody): got %v, want ErrNotFound", err)
	}

	// Revocations are listed while unexpired by the wall clock.
	at := time.Now().UTC().Truncate(time.Second)
	w.clock.Set(at)
	d, err := w.svc.DeleteTenant(ctx, "acme", true)
	must(t, err)
	wantClients := []string{org.ID, qa.ID}
	slices.Sort(wantClients)
	if !slices.Equal(d.Clients, wantClients) || !slices.Equal(d.Environments, []string{"acme/qa"}) || d.Tenant != "acme" {
		t.Errorf("deleted: got %+v, want clients %v, acme/qa and acme", d, wantClients)
	}
	var kinds []string
	for _, e := range w.audit.take() {
		kinds = append(kinds, e.Kind+" "+e.Target)
	}
	wantKinds := []string{"client.delete " + wantClients[0], "client.delete " + wantClients[1], "environment.delete acme/qa", "tenant.delete acme"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("audit: got %q, want %q", kinds, wantKinds)
	}
	for _, id := range wantClients {
		if _, ok := w.cat.Client(id); ok {
			t.Errorf("catalog still holds deleted client %s", id)
		}
	}
	if _, ok := w.cat.Environment("acme", "qa"); ok {
		t.Errorf("catalog still holds the deleted environment acme/qa")
	}
	if _, ok := w.cat.Client(otherC.ID); !ok {
		t.Errorf("catalog lost another tenant's client")
	}
	revs, err := w.st.ListRevocations(ctx, time.Time{})
	must(t, err)
	var revoked []string
	for _, r := range revs {
		revoked = append(revoked, r.JTI)
		if !r.RevokedAt.Equal(at) || !r.ExpiresAt.Equal(at.Add(store.MaxTokenTTL)) {
			t.Errorf("revocation %s: got %v to %v, want from the delete for the longest token lifetime", r.JTI, r.RevokedAt, r.ExpiresAt)
		}
	}
	slices.Sort(revoked)
	if want := []string{"client:" + wantClients[0], "client:" + wantClients[1]}; !slices.Equal(revoked, want) {
		t.Errorf("revocations: got %q, want %q", revoked, want)
	}
	// The id may be used again, empty.
	must(t, first(w.svc.CreateTenant(ctx, "acme", "Acme again")))
	if d, err := w.svc.DeleteTenant(ctx, "acme", false); err != nil || d.Tenant != "acme" {
		t.Errorf("deleting an empty tenant: got %+v, %v; want it deleted without cascade", d, err)
	}
}

// TestDeleteEnvironment: the same rule for an environment and its clients.
func TestDeleteEnvironment(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	qa, _, err := w.svc.CreateClient(ctx, NewClient{Name: "qa", Tenant: "acme", Environment: "qa"})
	must(t, err)
	org, _ := w.client("org", nil)
	w.audit.take()
	_, err = w.svc.DeleteEnvironment(ctx, "acme", "qa", false)
	checkErr(t, err, ErrInUse, "1 clients")
	if _, err := w.svc.DeleteEnvironment(ctx, "acme", "prod", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing environment: got %v, want ErrNotFound", err)
	}
	if _, err := w.svc.DeleteEnvironment(ctx, "ac\x00me", "qa", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a NUL in the tenant: got %v, want ErrNotFound", err)
	}
	d, err := w.svc.DeleteEnvironment(ctx, "acme", "qa", true)
	must(t, err)
	if !slices.Equal(d.Clients, []string{qa.ID}) || !slices.Equal(d.Environments, []string{"acme/qa"}) {
		t.Errorf("deleted: got %+v, want %s and acme/qa", d, qa.ID)
	}
	if _, ok := w.cat.Client(qa.ID); ok {
		t.Errorf("catalog still holds the environment's client")
	}
	if _, ok := w.cat.Client(org.ID); !ok {
		t.Errorf("catalog lost the organization-wide client")
	}
	if ev := w.audit.take(); len(ev) != 2 || ev[0].Kind != "client.delete" || ev[1].Kind != "environment.delete" {
		t.Errorf("audit: got %+v, want client.delete then environment.delete", ev)
	}
}

// TestRenameTenant: the display name changes, the id does not.
func TestRenameTenant(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	tests := []struct {
		name, id, newName string
		want              error
		mention           string
	}{
		{"rename", "acme", "Acme Corporation", nil, ""},
		{"empty name", "acme", "", ErrInvalid, "name"},
		{"NUL in the name", "acme", "A\x00", ErrInvalid, "name"},
		{"name too long", "acme", strings.Repeat("n", MaxNameLen+1), ErrInvalid, "name"},
		{"missing tenant", "nobody", "x", store.ErrNotFound, "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.svc.RenameTenant(ctx, tt.id, tt.newName)
			checkErr(t, err, tt.want, tt.mention)
			ev := w.audit.take()
			if tt.want != nil {
				if len(ev) != 0 {
					t.Errorf("audit: got %d events for a refused rename, want none", len(ev))
				}
				return
			}
			stored, _ := w.st.GetTenant(ctx, tt.id)
			if got.ID != tt.id || got.Name != tt.newName || stored.Name != tt.newName || len(ev) != 1 || ev[0].Kind != "tenant.rename" {
				t.Errorf("got %+v, stored %+v, audit %+v; want %s named %q and one tenant.rename", got, stored, ev, tt.id, tt.newName)
			}
		})
	}
}

// TestUpdateTenantAllOrNothing: a rename sent with limits that are
// refused changes nothing, the name included.
func TestUpdateTenantAllOrNothing(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	before, _ := w.st.GetTenant(ctx, "acme")
	name := "Renamed"
	_, err := w.svc.UpdateTenant(ctx, "acme", &name, &store.Limits{RatePerSecond: 5})
	checkErr(t, err, ErrInvalid, "rate_per_second")
	if after, _ := w.st.GetTenant(ctx, "acme"); after.Name != before.Name {
		t.Errorf("name after a refused update: got %q, want %q", after.Name, before.Name)
	}
	if ev := w.audit.take(); len(ev) != 0 {
		t.Errorf("audit: got %d events for a refused update, want none", len(ev))
	}
	got, err := w.svc.UpdateTenant(ctx, "acme", &name, &store.Limits{QuotaHour: 60})
	if err != nil || got.Name != name || got.Limits.QuotaHour != 60 {
		t.Errorf("rename and limits together: got %+v, %v", got, err)
	}
	if ev := w.audit.take(); len(ev) != 1 || ev[0].Kind != "tenant.update" {
		t.Errorf("audit: got %+v, want one tenant.update", ev)
	}
}

// TestDeleteClientListsItsTokensRevoked: a deleted client's tokens are
// listed as revoked (for gateways that check JWTs offline).
func TestDeleteClientListsItsTokensRevoked(t *testing.T) {
	w := newWorld(t)
	c, _ := w.client("gone", nil)
	w.clock.Set(time.Now())
	must(t, w.svc.DeleteClient(t.Context(), c.ID))
	revs, err := w.st.ListRevocations(t.Context(), time.Time{})
	must(t, err)
	if len(revs) != 1 || revs[0].JTI != store.ClientRevocationPrefix+c.ID || revs[0].ClientID != c.ID {
		t.Errorf("revocations: got %+v, want one for client %s", revs, c.ID)
	}
}

// TestLifecycleRoutes: the admin API's answers for renames and deletes.
func TestLifecycleRoutes(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	tok := a.adminToken(ops.ID, "admin:read admin:write")
	must(t, first(a.svc.CreateTenant(t.Context(), "gone", "")))
	must(t, first(a.svc.CreateEnvironment(t.Context(), "gone", "qa")))
	tests := []struct {
		name, method, path, body string
		status                   int
		mention                  string
	}{
		{"rename", "PATCH", "/admin/v1/tenants/other", `{"name":"Other Inc."}`, 200, `"name":"Other Inc."`},
		{"rename and limits", "PATCH", "/admin/v1/tenants/other", `{"name":"O","limits":{"quota_day":5}}`, 200, `"quota_day":5`},
		{"patch nothing", "PATCH", "/admin/v1/tenants/other", `{}`, 400, "name or limits"},
		{"delete a tenant in use", "DELETE", "/admin/v1/tenants/acme", "", 409, "clients"},
		{"bad cascade", "DELETE", "/admin/v1/tenants/gone?cascade=maybe", "", 400, "cascade"},
		{"delete a missing environment", "DELETE", "/admin/v1/environments/gone/prod", "", 404, "gone/prod"},
		{"delete an environment", "DELETE", "/admin/v1/environments/gone/qa", "", 200, `"environments":["gone/qa"]`},
		{"delete an empty tenant", "DELETE", "/admin/v1/tenants/gone", "", 200, `"tenant":"gone"`},
		{"delete it again", "DELETE", "/admin/v1/tenants/gone", "", 404, "gone"},
		{"delete with cascade", "DELETE", "/admin/v1/tenants/other?cascade=true", "", 200, `"tenant":"other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.call(tt.method, tt.path, tok, tt.body)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.mention) {
				t.Errorf("got %d %s, want %d mentioning %q", rec.Code, rec.Body, tt.status, tt.mention)
			}
		})
	}
}

// TestDeleteEnvironmentKeepsRulesWhole: a cascade that would delete a
// client a trust's rule names is refused, as deleting that client is.
func TestDeleteEnvironmentKeepsRulesWhole(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	qa, _, err := w.svc.CreateClient(ctx, NewClient{Name: "qa", Tenant: "acme", Environment: "qa"})
	must(t, err)
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "github", Issuer: ghIssuer})))
	must(t, first(w.svc.AddRule(ctx, "acme", "github", store.TrustRule{Name: "one", Client: qa.ID, Match: "true"})))
	_, err = w.svc.DeleteEnvironment(ctx, "acme", "qa", true)
	checkErr(t, err, ErrInvalid, `rule "one" of trust acme/github`)
	if _, err := w.st.GetClient(ctx, qa.ID); err != nil {
		t.Errorf("the named client after a refused cascade: got %v, want it kept", err)
	}
	// A tenant cascade takes the trust with it, so nothing dangles.
	d, err := w.svc.DeleteTenant(ctx, "acme", true)
	must(t, err)
	if !slices.Equal(d.Trusts, []string{"acme/github"}) {
		t.Errorf("tenant cascade: got trusts %v, want acme/github", d.Trusts)
	}
}
