package sqlstore

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/conformance"
)

// newSQLite opens a store on a fresh database file that lives as long as t.
func newSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	conformance.RunTests(t, newSQLite)
}

func TestSQLiteConcurrency(t *testing.T) {
	conformance.RunConcurrencyTests(t, newSQLite)
}

func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "gatehouse.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: got %v, want nil", err)
	}
	if err := s.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatalf("CreateTenant: got %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: got %v, want nil", err)
	}
	defer s.Close()
	got, err := s.GetTenant(ctx, "acme")
	if err != nil || got.Name != "Acme" {
		t.Errorf("GetTenant after reopening: got %+v, %v; want Acme, nil", got, err)
	}
	checkMigrations(t, s.DB(), sqliteFlavor)
	if n, err := Migrate(ctx, "file:"+path); n != 0 || err != nil {
		t.Errorf("Migrate on a migrated file: got %d, %v; want 0, nil", n, err)
	}
	checkMigrations(t, s.DB(), sqliteFlavor)
}

func TestSQLiteMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	ms, err := loadMigrations(sqliteFlavor)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if n, err := Migrate(ctx, path); n != len(ms) || err != nil {
		t.Errorf("Migrate on a new file: got %d, %v; want %d, nil", n, err, len(ms))
	}
	if n, err := Migrate(ctx, path); n != 0 || err != nil {
		t.Errorf("Migrate again: got %d, %v; want 0, nil", n, err)
	}
}

// TestSQLiteConcurrentOpen is two processes starting on one new data dir.
func TestSQLiteConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	stores := openAtOnce(t, path, 8)
	if t.Failed() {
		return
	}
	checkMigrations(t, stores[0].DB(), sqliteFlavor)
}

// openAtOnce opens n stores on dsn at the same moment, as n nodes starting
// together do, and closes them when the test ends.
func openAtOnce(t *testing.T, dsn string, n int) []*Store {
	t.Helper()
	stores := make([]*Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), dsn)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: got %v, want nil", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	return stores
}
