package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// TestBenchSeedIntoDataDir: bench seed --data-dir writes secret clients
// straight into the data dir's SQLite database, in batches.
func TestBenchSeedIntoDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, sqlstore.SQLitePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPI(ctx, store.API{Audience: "https://api.example.io", Name: "API", Scopes: []store.Scope{{Name: "read"}}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, err := run(t, "", "bench", "seed", "--clients", "25", "--batch", "10", "--tenant", "acme",
		"--grant", "https://api.example.io=read", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "created 25 clients") {
		t.Fatalf("bench seed --data-dir: got %v, %q; want created 25 clients", err, out)
	}
	st, err = sqlstore.Open(ctx, sqlstore.SQLitePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if cs, err := st.ListClients(ctx); err != nil || len(cs) != 25 {
		t.Errorf("clients in the store: got %d (%v), want 25", len(cs), err)
	}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	writeFile(t, jwks, `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`)
	_, err = run(t, "", "bench", "seed", "--clients", "1", "--tenant", "acme", "--data-dir", dir, "--auth", "private_key_jwt", "--jwks-file", jwks)
	if err == nil || !strings.Contains(err.Error(), "secret clients only") {
		t.Errorf("--data-dir with private_key_jwt: got %v, want a refusal", err)
	}
}
