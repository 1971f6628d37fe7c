package bench

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func TestSeedStore(t *testing.T) {
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	api := store.API{Audience: "https://api.example.io", Name: "API", Scopes: []store.Scope{{Name: "read"}}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateAPI(ctx, api); err != nil {
		t.Fatal(err)
	}
	grants := map[string][]string{api.Audience: {"read"}}

	var progress []int
	n, err := SeedStore(ctx, st, SeedStoreOptions{Clients: 2500, Batch: 1000, Tenant: "acme", Grants: grants,
		Progress: func(done int) { progress = append(progress, done) }})
	if err != nil || n != 2500 {
		t.Fatalf("SeedStore: got %d, %v; want 2500, nil", n, err)
	}
	if got, want := progress, []int{1000, 2000, 2500}; !slices.Equal(got, want) {
		t.Errorf("progress: got %v, want %v", got, want)
	}
	cat := catalog.New(st)
	if err := cat.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := cat.Counts(); got != 2500 {
		t.Errorf("catalog after seeding: got %d clients, want 2500", got)
	}
	last, err := st.LatestChange(ctx)
	if err != nil || last < 2500 {
		t.Errorf("change feed after seeding: got last id %d (%v), want >= 2500 (a change a client)", last, err)
	}
	cs, _ := st.ListClients(ctx)
	c := cs[0]
	if len(c.Secrets) != 1 || !strings.HasPrefix(c.Secrets[0].Hash, "sha256:") || c.Tenant != "acme" || len(c.Grants[api.Audience]) != 1 {
		t.Errorf("a seeded client: got %+v, want tenant acme, the grant and one fast-hashed secret", c)
	}

	refusals := []struct {
		name   string
		o      SeedStoreOptions
		reason string
	}{
		{"unknown tenant", SeedStoreOptions{Clients: 1, Batch: 1, Tenant: "nope"}, `tenant "nope"`},
		{"unknown audience", SeedStoreOptions{Clients: 1, Batch: 1, Tenant: "acme", Grants: map[string][]string{"https://x": nil}}, `"https://x"`},
		{"unknown scope", SeedStoreOptions{Clients: 1, Batch: 1, Tenant: "acme", Grants: map[string][]string{api.Audience: {"write"}}}, `no scope "write"`},
		{"zero batch", SeedStoreOptions{Clients: 1, Tenant: "acme"}, "batch"},
	}
	for _, tt := range refusals {
		n, err := SeedStore(ctx, st, tt.o)
		if err == nil || n != 0 || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: got %d, %v; want 0 and an error naming %s", tt.name, n, err, tt.reason)
		}
	}
}
