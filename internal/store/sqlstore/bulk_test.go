package sqlstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestBulkClients: CreateClients inserts a batch with a change each, or
// nothing when one fails; EachClient hands every client over, grants and
// auth decoded as ListClients decodes them. On SQLite and PostgreSQL.
func TestBulkClients(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.Store{"sqlite": newSQLite, "postgres": newPostgres} {
		t.Run(name, func(t *testing.T) {
			st := open(t).(*Store)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "acme", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			before, _ := st.LatestChange(ctx)
			var batch []store.Client
			for i := range 50 {
				c := store.Client{ID: fmt.Sprintf("c%02d", i), Name: "n", Tenant: "acme", CreatedAt: now, UpdatedAt: now,
					Grants:  map[string][]string{"https://api.example.io": {"read"}},
					Secrets: []store.Secret{{ID: "s", Hash: fmt.Sprintf("sha256:%d", i), CreatedAt: now}}}
				if i%10 == 0 {
					c.Auth = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: "https://keys.example.io"}
				}
				batch = append(batch, c)
			}
			if err := st.CreateClients(ctx, batch); err != nil {
				t.Fatalf("CreateClients: got %v, want nil", err)
			}
			if after, _ := st.LatestChange(ctx); after != before+50 {
				t.Errorf("changes recorded: got %d, want 50", after-before)
			}
			dup := []store.Client{{ID: "fresh", Tenant: "acme"}, {ID: "c01", Tenant: "acme"}}
			if err := st.CreateClients(ctx, dup); err == nil || !strings.Contains(err.Error(), "c01") {
				t.Errorf("CreateClients with an existing id: got %v, want an error naming c01", err)
			}
			if _, err := st.GetClient(ctx, "fresh"); err == nil {
				t.Errorf("after a failed batch: got client fresh stored, want none of the batch")
			}
			want, err := st.ListClients(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []store.Client
			if err := st.EachClient(ctx, func(c store.Client) error { got = append(got, c); return nil }); err != nil {
				t.Fatalf("EachClient: got %v, want nil", err)
			}
			slices.SortFunc(got, func(a, b store.Client) int { return strings.Compare(a.ID, b.ID) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("EachClient:\ngot  %v\nwant %v (as ListClients)", got, want)
			}
		})
	}
}
