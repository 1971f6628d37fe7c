package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/conformance"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// These tests need a real PostgreSQL and fail, rather than skip, without
// one (pgtest says how to point them at one).

func postgresAdmin(t *testing.T) *sql.DB { return pgtest.Admin(t) }

func newPostgresSchema(t *testing.T) string { return pgtest.Schema(t) }

func newPostgres(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.Context(), newPostgresSchema(t))
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	if got := s.Flavor(); got != "postgres" {
		t.Fatalf("Flavor: got %q, want postgres", got)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	postgresAdmin(t) // one clear failure, not one per subtest
	conformance.RunTests(t, newPostgres)
}

func TestPostgresConcurrency(t *testing.T) {
	postgresAdmin(t)
	conformance.RunConcurrencyTests(t, newPostgres)
}

func TestPostgresMigrate(t *testing.T) {
	ctx := t.Context()
	dsn := newPostgresSchema(t)
	ms, err := loadMigrations(postgresFlavor)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if n, err := Migrate(ctx, dsn); n != len(ms) || err != nil {
		t.Fatalf("Migrate on an empty schema: got %d, %v; want %d, nil", n, err, len(ms))
	}
	if n, err := Migrate(ctx, dsn); n != 0 || err != nil {
		t.Errorf("Migrate again: got %d, %v; want 0, nil", n, err)
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open on a migrated schema: got %v, want nil", err)
	}
	defer s.Close()
	checkMigrations(t, s.DB(), postgresFlavor)

	// Every table is in the test's schema, none in public.
	schema := pgtest.SchemaOf(dsn)
	for _, table := range []string{"migrations", "tenants", "environments", "apis", "clients", "signing_keys", "changes", "change_counter"} {
		var where string
		err := s.DB().QueryRowContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = $1 AND table_schema = $2`, table, schema).Scan(&where)
		if err != nil {
			t.Errorf("table %s in schema %s: got %v, want it there", table, schema, err)
		}
	}
}

// TestPostgresConcurrentOpen is several nodes starting at once on a new
// database: the advisory lock lets one migrate while the others wait.
func TestPostgresConcurrentOpen(t *testing.T) {
	ctx := t.Context()
	dsn := newPostgresSchema(t)
	const n = 8
	stores := openAtOnce(t, dsn, n)
	if t.Failed() {
		return
	}
	checkMigrations(t, stores[0].DB(), postgresFlavor)
	// Each node's store works on the shared schema.
	for i, s := range stores {
		if err := s.CreateTenant(ctx, store.Tenant{ID: fmt.Sprintf("t%d", i), Name: "node"}); err != nil {
			t.Errorf("CreateTenant through node %d: got %v, want nil", i, err)
		}
	}
	tenants, err := stores[0].ListTenants(ctx)
	if err != nil || len(tenants) != n {
		t.Errorf("ListTenants: got %d, %v; want %d, nil", len(tenants), err, n)
	}
}

func TestPostgresUnreachable(t *testing.T) {
	// A port nothing listens on: Open fails, and Ping says
	// store.ErrUnavailable, which is what /readyz reports on.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dsn := "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"
	if s, err := Open(ctx, dsn); err == nil {
		s.Close()
		t.Errorf("Open on a closed port: got nil, want an error")
	}
	s, err := open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: got %v, want nil (it does not connect)", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping on a closed port: got %v, want ErrUnavailable", err)
	}
}

// TestPostgresCreatesMissingSchema: a search_path naming a schema that
// does not exist yet is created, instead of PostgreSQL's "no schema has
// been selected to create in".
func TestPostgresCreatesMissingSchema(t *testing.T) {
	admin := postgresAdmin(t)
	schema := fmt.Sprintf("gh_missing_%d", time.Now().UnixNano())
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`) })
	s, err := Open(t.Context(), pgtest.WithSearchPath(pgtest.DSN(), schema))
	if err != nil {
		t.Fatalf("Open with a missing search_path schema: got %v, want it created", err)
	}
	defer s.Close()
	var n int
	if err := admin.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'clients'`, schema).Scan(&n); err != nil || n != 1 {
		t.Errorf("tables in the new schema: got %d, %v; want the clients table", n, err)
	}
}
