package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered .sql file, applied in one transaction.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations, one set for every database: the
// SQL is portable but for the binary column type, written {{bytes}}.
func loadMigrations(f flavor) ([]migration, error) {
	const dir = "migrations"
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		sql := strings.ReplaceAll(string(body), "{{bytes}}", f.bytesType)
		ms = append(ms, migration{version: v, name: e.Name(), sql: sql})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies every migration the database has not seen, each in its own
// transaction, recording it in the migrations table. It returns how many ran.
func migrate(ctx context.Context, db *sql.DB, f flavor) (int, error) {
	ms, err := loadMigrations(f)
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	unlock, err := f.lockMigrations(ctx, conn)
	if err != nil {
		return 0, fmt.Errorf("taking the migration lock: %w", err)
	}
	defer unlock()

	if err := createMigrationsTable(ctx, conn); err != nil {
		return 0, fmt.Errorf("creating the migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM migrations`)
	if err != nil {
		return 0, fmt.Errorf("reading the migrations table: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}

	n := 0
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		ran, err := applyMigration(ctx, conn, f, m)
		if err != nil {
			return n, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if ran {
			n++
		}
	}
	return n, nil
}

// createMigrationsTable creates the migrations table if it is missing. It
// runs in a transaction so that on SQLite it waits for the write lock
// (BEGIN IMMEDIATE) instead of failing when another process holds it.
func createMigrationsTable(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	return tx.Commit()
}

// applyMigration runs m in one transaction unless the migrations table,
// read again inside that transaction, says another process already has.
// On PostgreSQL the advisory lock makes the second look redundant; on
// SQLite it is what serialises processes, since the transaction begins
// IMMEDIATE and so holds the database's single write lock.
func applyMigration(ctx context.Context, conn *sql.Conn, f flavor, m migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var seen int
	if err := tx.QueryRowContext(ctx, f.rebind(`SELECT COUNT(*) FROM migrations WHERE version = ?`), m.version).Scan(&seen); err != nil {
		return false, fmt.Errorf("reading the migrations table: %w", err)
	}
	if seen > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, f.rebind(`INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("recording it: %w", err)
	}
	return true, tx.Commit()
}
