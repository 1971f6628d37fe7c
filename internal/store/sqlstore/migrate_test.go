package sqlstore

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// checkMigrations reports whether db's migrations table records every
// embedded migration of f exactly once, and nothing else.
func checkMigrations(t *testing.T, db *sql.DB, f flavor) {
	t.Helper()
	ms, err := loadMigrations(f)
	if err != nil {
		t.Fatalf("loadMigrations(%s): got %v, want nil", f.name, err)
	}
	var want []string
	for _, m := range ms {
		want = append(want, fmt.Sprintf("%d %s", m.version, m.name))
	}
	rows, err := db.QueryContext(t.Context(), `SELECT version, name FROM migrations ORDER BY version, name`)
	if err != nil {
		t.Fatalf("reading the migrations table: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatalf("reading the migrations table: %v", err)
		}
		got = append(got, fmt.Sprintf("%d %s", v, name))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading the migrations table: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("migrations table: got %q, want %q", got, want)
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, f := range []flavor{sqliteFlavor, postgresFlavor} {
		ms, err := loadMigrations(f)
		if err != nil {
			t.Fatalf("loadMigrations(%s): got %v, want nil", f.name, err)
		}
		if len(ms) == 0 {
			t.Fatalf("loadMigrations(%s): got no migrations, want at least one", f.name)
		}
		for j, m := range ms {
			if j > 0 && m.version <= ms[j-1].version {
				t.Errorf("%s: migration %s: got version %d after %d, want increasing", f.name, m.name, m.version, ms[j-1].version)
			}
			if strings.Contains(m.sql, "{{") {
				t.Errorf("%s: migration %s keeps a placeholder", f.name, m.name)
			}
		}
		if !strings.Contains(ms[0].sql, "private_key  "+f.bytesType+" NOT NULL") {
			t.Errorf("%s: the key columns are not %s", f.name, f.bytesType)
		}
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		f    flavor
		in   string
		want string
	}{
		{sqliteFlavor, `SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = ? AND c = ?`},
		{postgresFlavor, `SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{postgresFlavor, `SELECT 1`, `SELECT 1`},
	}
	for _, tt := range tests {
		t.Run(tt.f.name, func(t *testing.T) {
			if got := tt.f.rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
