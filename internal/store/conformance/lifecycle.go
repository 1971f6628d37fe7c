package conformance

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testDeleteTenant: without cascade a tenant with environments or
// clients stays (ErrInUse, no change recorded); with cascade it goes with
// all of them in one transaction, one change per entity; other tenants
// keep theirs.
func testDeleteTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"acme", "other", "empty"} {
		must(t, s.CreateTenant(ctx, newTenant(id)))
	}
	must(t, s.CreateEnvironment(ctx, newEnvironment("acme", "qa")))
	must(t, s.CreateEnvironment(ctx, newEnvironment("acme", "prod")))
	must(t, s.CreateEnvironment(ctx, newEnvironment("other", "qa")))
	for _, c := range []struct{ id, tenant, env string }{{"c1", "acme", "qa"}, {"c2", "acme", ""}, {"c3", "other", "qa"}} {
		cl := newClient(c.id)
		cl.Tenant, cl.Environment = c.tenant, c.env
		must(t, s.CreateClient(ctx, cl))
	}
	must(t, s.CreateTrust(ctx, newTrust("acme", "gh")))
	before, _ := s.LatestChange(ctx)
	if _, err := s.DeleteTenant(ctx, "acme", false); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("DeleteTenant without cascade: got %v, want ErrInUse", err)
	}
	if after, _ := s.LatestChange(ctx); after != before {
		t.Errorf("a refused delete recorded %d changes, want none", after-before)
	}
	if _, err := s.DeleteTenant(ctx, "nobody", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTenant of a missing tenant: got %v, want ErrNotFound", err)
	}
	d, err := s.DeleteTenant(ctx, "empty", false)
	if err != nil || d.Tenant != "empty" || len(d.Clients)+len(d.Environments) != 0 {
		t.Errorf("DeleteTenant of an empty tenant: got %+v, %v", d, err)
	}
	before, _ = s.LatestChange(ctx)
	d, err = s.DeleteTenant(ctx, "acme", true)
	if err != nil {
		t.Fatalf("DeleteTenant with cascade: got %v, want nil", err)
	}
	want := store.Deleted{Clients: []string{"c1", "c2"}, Environments: []string{"acme/prod", "acme/qa"}, Trusts: []string{"acme/gh"}, Tenant: "acme"}
	if !slices.Equal(d.Clients, want.Clients) || !slices.Equal(d.Environments, want.Environments) || !slices.Equal(d.Trusts, want.Trusts) || d.Tenant != want.Tenant {
		t.Errorf("DeleteTenant with cascade: got %+v, want %+v", d, want)
	}
	changes, _ := s.ChangesSince(ctx, before, 100)
	var got []string
	for _, c := range changes {
		got = append(got, c.Kind+" "+c.Key)
	}
	wantChanges := []string{"client c1", "client c2", "environment acme/prod", "environment acme/qa", "trust acme/gh", "tenant acme"}
	if !slices.Equal(got, wantChanges) {
		t.Errorf("changes: got %q, want %q", got, wantChanges)
	}
	for _, id := range []string{"c1", "c2"} {
		if _, err := s.GetClient(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client %s after the cascade: got %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.GetEnvironment(ctx, "acme", "qa"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("environment acme/qa after the cascade: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetClient(ctx, "c3"); err != nil {
		t.Errorf("another tenant's client: got %v, want it kept", err)
	}
	if _, err := s.GetEnvironment(ctx, "other", "qa"); err != nil {
		t.Errorf("another tenant's environment: got %v, want it kept", err)
	}
	// The id is free again.
	must(t, s.CreateTenant(ctx, newTenant("acme")))
}

// testDeleteEnvironment: the same rule for an environment and its clients.
func testDeleteEnvironment(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTenant(ctx, newTenant("acme")))
	must(t, s.CreateEnvironment(ctx, newEnvironment("acme", "qa")))
	must(t, s.CreateEnvironment(ctx, newEnvironment("acme", "prod")))
	for _, c := range []struct{ id, env string }{{"c1", "qa"}, {"c2", "prod"}, {"c3", ""}} {
		cl := newClient(c.id)
		cl.Environment = c.env
		must(t, s.CreateClient(ctx, cl))
	}
	if _, err := s.DeleteEnvironment(ctx, "acme", "qa", false); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("DeleteEnvironment without cascade: got %v, want ErrInUse", err)
	}
	if _, err := s.DeleteEnvironment(ctx, "acme", "nope", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteEnvironment of a missing one: got %v, want ErrNotFound", err)
	}
	d, err := s.DeleteEnvironment(ctx, "acme", "qa", true)
	if err != nil || !slices.Equal(d.Clients, []string{"c1"}) || !slices.Equal(d.Environments, []string{"acme/qa"}) || d.Tenant != "" {
		t.Errorf("DeleteEnvironment with cascade: got %+v, %v; want client c1 and acme/qa", d, err)
	}
	for id, want := range map[string]bool{"c1": false, "c2": true, "c3": true} {
		if _, err := s.GetClient(ctx, id); (err == nil) != want {
			t.Errorf("client %s after deleting acme/qa: got %v, want kept=%v", id, err, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
