package conformance

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

func testTenantCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenants, err := s.ListTenants(ctx)
	if err != nil || len(tenants) != 0 {
		t.Fatalf("ListTenants on an empty store: got %d tenants, %v; want 0, nil", len(tenants), err)
	}
	for _, id := range []string{"globex", "acme", "initech"} {
		if err := s.CreateTenant(ctx, newTenant(id)); err != nil {
			t.Fatalf("CreateTenant(%s): got %v, want nil", id, err)
		}
	}
	got, err := s.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("GetTenant(acme): got %v, want nil", err)
	}
	check(t, "GetTenant(acme)", got, newTenant("acme"), normTenant)

	tenants, err = s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: got %v, want nil", err)
	}
	gotIDs := ids(tenants, func(x store.Tenant) string { return x.ID })
	if want := []string{"acme", "globex", "initech"}; !slices.Equal(gotIDs, want) {
		t.Errorf("ListTenants: got %v, want %v", gotIDs, want)
	}
	for _, x := range tenants {
		check(t, "ListTenants", x, newTenant(x.ID), normTenant)
	}
}

func testEnvironmentCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"acme", "globex"} {
		if err := s.CreateTenant(ctx, newTenant(id)); err != nil {
			t.Fatalf("CreateTenant(%s): got %v, want nil", id, err)
		}
	}
	envs := []store.Environment{
		newEnvironment("globex", "production"),
		newEnvironment("acme", "qa"),
		newEnvironment("acme", "production"),
		// The same environment id under another tenant is a different environment.
		newEnvironment("globex", "qa"),
	}
	for _, e := range envs {
		if err := s.CreateEnvironment(ctx, e); err != nil {
			t.Fatalf("CreateEnvironment(%s/%s): got %v, want nil", e.Tenant, e.ID, err)
		}
	}
	got, err := s.GetEnvironment(ctx, "acme", "qa")
	if err != nil {
		t.Fatalf("GetEnvironment(acme, qa): got %v, want nil", err)
	}
	check(t, "GetEnvironment(acme, qa)", got, newEnvironment("acme", "qa"), normEnvironment)

	key := func(e store.Environment) string { return e.Tenant + "/" + e.ID }
	tests := []struct {
		tenant string
		want   []string
	}{
		{"", []string{"acme/production", "acme/qa", "globex/production", "globex/qa"}},
		{"acme", []string{"acme/production", "acme/qa"}},
		{"globex", []string{"globex/production", "globex/qa"}},
		{"initech", []string{}},
	}
	for _, tt := range tests {
		t.Run("List "+tt.tenant, func(t *testing.T) {
			list, err := s.ListEnvironments(ctx, tt.tenant)
			if err != nil {
				t.Fatalf("ListEnvironments(%q): got %v, want nil", tt.tenant, err)
			}
			if got := ids(list, key); !slices.Equal(got, tt.want) {
				t.Errorf("ListEnvironments(%q): got %v, want %v", tt.tenant, got, tt.want)
			}
			for _, e := range list {
				check(t, "ListEnvironments", e, newEnvironment(e.Tenant, e.ID), normEnvironment)
			}
		})
	}
}

func testEnvironmentUniqueAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"acme", "globex"} {
		if err := s.CreateTenant(ctx, newTenant(id)); err != nil {
			t.Fatalf("CreateTenant(%s): got %v, want nil", id, err)
		}
	}
	first := newEnvironment("acme", "qa")
	if err := s.CreateEnvironment(ctx, first); err != nil {
		t.Fatalf("CreateEnvironment(acme/qa): got %v, want nil", err)
	}
	tests := []struct {
		name string
		env  store.Environment
	}{
		{"same tenant", store.Environment{Tenant: "acme", ID: "production", APIKey: first.APIKey, CreatedAt: t0}},
		{"other tenant", store.Environment{Tenant: "globex", ID: "qa", APIKey: first.APIKey, CreatedAt: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateEnvironment(ctx, tt.env)
			if !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("CreateEnvironment(%s/%s) reusing api_key %q: got %v, want ErrAlreadyExists", tt.env.Tenant, tt.env.ID, tt.env.APIKey, err)
			}
			if _, err := s.GetEnvironment(ctx, tt.env.Tenant, tt.env.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetEnvironment(%s/%s) after the failed create: got %v, want ErrNotFound", tt.env.Tenant, tt.env.ID, err)
			}
		})
	}
}

func testEnvironmentMissingTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	err := s.CreateEnvironment(ctx, newEnvironment("nobody", "qa"))
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateEnvironment under a missing tenant: got %v, want ErrNotFound", err)
	}
	list, err := s.ListEnvironments(ctx, "")
	if err != nil || len(list) != 0 {
		t.Errorf("ListEnvironments after the failed create: got %d, %v; want 0, nil", len(list), err)
	}
}
