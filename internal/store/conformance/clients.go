package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

func testClientCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"c2", "c1", "c3"} {
		if err := s.CreateClient(ctx, newClient(id)); err != nil {
			t.Fatalf("CreateClient(%s): got %v, want nil", id, err)
		}
	}
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient: got %v, want nil", err)
	}
	check(t, "GetClient", got, newClient("c1"), normClient)

	// A rotation: the old secret gets an expiry, a new one is added, and
	// the client is disabled with a shorter token lifetime.
	want := newClient("c1")
	want.Secrets = []store.Secret{
		{ID: "s2", Hash: "sha256:bbbb", CreatedAt: at(5 * time.Second), ExpiresAt: ptr(at(48 * time.Hour))},
		{ID: "s3", Hash: "sha256:cccc", CreatedAt: at(time.Hour)},
	}
	want.Disabled = true
	want.TokenTTL = 15 * time.Minute
	want.Grants["https://api.example.io"] = []string{"read:things"}
	want.UpdatedAt = at(time.Hour)
	want.TokensNotBefore = at(time.Hour)
	updated, err := s.UpdateClient(ctx, "c1", func(old store.Client) (store.Client, error) {
		check(t, "UpdateClient: fn's old value", old, newClient("c1"), normClient)
		want.CreatedAt = old.CreatedAt
		return want, nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: got %v, want nil", err)
	}
	check(t, "UpdateClient's result", updated, want, normClient)
	got, err = s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient after UpdateClient: got %v, want nil", err)
	}
	check(t, "GetClient after UpdateClient", got, want, normClient)

	if err := s.DeleteClient(ctx, "c2"); err != nil {
		t.Fatalf("DeleteClient: got %v, want nil", err)
	}
	if _, err := s.GetClient(ctx, "c2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient after DeleteClient: got %v, want ErrNotFound", err)
	}
	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: got %v, want nil", err)
	}
	gotIDs := ids(list, func(c store.Client) string { return c.ID })
	if want := []string{"c1", "c3"}; !slices.Equal(gotIDs, want) {
		t.Errorf("ListClients: got %v, want %v", gotIDs, want)
	}
	for _, c := range list {
		if c.ID == "c3" {
			check(t, "ListClients", c, newClient("c3"), normClient)
		}
	}
}

func testClientRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		edit func(c *store.Client)
	}{
		{"full", func(c *store.Client) {}},
		{"organization-wide", func(c *store.Client) { c.Environment = "" }},
		{"no tenant", func(c *store.Client) { c.Tenant, c.Environment = "", "" }},
		{"no grants", func(c *store.Client) { c.Grants = map[string][]string{} }},
		{"nil grants", func(c *store.Client) { c.Grants = nil }},
		{"grant without scopes", func(c *store.Client) { c.Grants = map[string][]string{"https://api.example.io": {}} }},
		{"many grants", func(c *store.Client) {
			c.Grants = map[string][]string{}
			for _, aud := range []string{"https://a.example.io", "https://b.example.io/{tenant}", "urn:gatehouse:admin"} {
				c.Grants[aud] = []string{"z", "a", "admin:read", "admin:write"}
			}
		}},
		{"no secrets", func(c *store.Client) { c.Secrets = nil }},
		{"secret never expires", func(c *store.Client) { c.Secrets = c.Secrets[1:] }},
		{"secret expires", func(c *store.Client) { c.Secrets = c.Secrets[:1] }},
		{"disabled", func(c *store.Client) { c.Disabled = true }},
		{"no token ttl", func(c *store.Client) { c.TokenTTL = 0 }},
		{"token ttl 15m", func(c *store.Client) { c.TokenTTL = 15 * time.Minute }},
		{"token ttl 90s", func(c *store.Client) { c.TokenTTL = 90 * time.Second }},
		{"imported id", func(c *store.Client) { c.ID = "Imported_Key-01.v2" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient("rt" + string(rune('a'+i)))
			tt.edit(&c)
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatalf("CreateClient: got %v, want nil", err)
			}
			got, err := s.GetClient(ctx, c.ID)
			if err != nil {
				t.Fatalf("GetClient: got %v, want nil", err)
			}
			check(t, "GetClient", got, c, normClient)
		})
	}
}
