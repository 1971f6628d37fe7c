package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/gatehouse/gatehouse/internal/store"
)

// Store is a store.Store on one SQL database.
type Store struct {
	db *sql.DB
	f  flavor
	// dsn opens connections outside the pool (PostgreSQL's LISTEN).
	dsn   string
	audit *auditInsert
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn: a postgres:// or postgresql:// URL, or a path (or
// file: URL) of an SQLite database file. It applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := s.prepare(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// OpenUnprepared opens dsn without connecting or migrating: for a node that
// starts while its database is down (internal/snapshot), which calls
// Prepare once the database answers.
func OpenUnprepared(ctx context.Context, dsn string) (*Store, error) { return open(ctx, dsn) }

// Prepare makes an OpenUnprepared store's database ready, as Open does.
func (s *Store) Prepare(ctx context.Context) error {
	_, err := s.prepare(ctx)
	return err
}

// prepare makes the database ready for gatehouse, for Open and Migrate
// alike: the search_path schema, then the pending migrations.
func (s *Store) prepare(ctx context.Context) (int, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return 0, err
	}
	n, err := migrate(ctx, s.db, s.f)
	if err != nil {
		return n, fmt.Errorf("migrating the %s database: %w", s.f.name, err)
	}
	return n, nil
}

// ensureSchema creates the first schema of a PostgreSQL DSN's search_path
// when it does not exist yet: without it PostgreSQL has nowhere to create
// the tables ("no schema has been selected to create in"), an error that
// does not say what to do.
func (s *Store) ensureSchema(ctx context.Context) error {
	if s.f.name != postgresFlavor.name {
		return nil
	}
	u, err := url.Parse(s.dsn)
	if err != nil {
		return nil // pgx reports a malformed DSN itself
	}
	schema, _, _ := strings.Cut(u.Query().Get("search_path"), ",")
	schema = strings.Trim(strings.TrimSpace(schema), `"`)
	if schema == "" || schema == "$user" {
		return nil
	}
	var current sql.NullString
	if err := s.db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", s.wrap(err))
	}
	if current.Valid {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgIdent(schema)); err != nil {
		return fmt.Errorf("the search_path schema %q does not exist and could not be created (%v): create it with CREATE SCHEMA %s, or grant CREATE on the database", schema, err, pgIdent(schema))
	}
	return nil
}

// pgIdent quotes a PostgreSQL identifier.
func pgIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Migrate applies pending migrations to dsn and reports how many ran.
func Migrate(ctx context.Context, dsn string) (int, error) {
	s, err := open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer s.db.Close()
	return s.prepare(ctx)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLitePath is the database file gatehouse uses in a data directory.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "gatehouse.db") }

func open(ctx context.Context, dsn string) (*Store, error) {
	if IsPostgres(dsn) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return &Store{db: db, f: postgresFlavor, dsn: dsn, audit: newAuditInsert(postgresFlavor)}, nil
	}
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	// The database holds secret hashes and sealed keys: owner-only.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening SQLite at %s: %w", path, err)
	}
	if err := useWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening SQLite at %s: setting WAL mode: %w", path, err)
	}
	return &Store{db: db, f: sqliteFlavor, dsn: dsn, audit: newAuditInsert(sqliteFlavor)}, nil
}

// useWAL switches an SQLite file to write-ahead logging, so that readers
// run beside the one writer. The mode is kept in the file, so it is set
// here once rather than by a pragma on every new connection: the switch
// needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without
// waiting out busy_timeout, when another connection is writing (as when
// two processes start together on a new data dir). So it retries.
func useWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && (strings.EqualFold(mode, "wal") || strings.EqualFold(mode, "memory")):
			return nil
		case err == nil:
			// SQLite keeps the old mode, rather than failing, when it cannot switch.
			err = fmt.Errorf("journal mode stayed %q", mode)
		case !isBusy(err):
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// DB exposes the pool for backend-specific tests and tools.
func (s *Store) DB() *sql.DB { return s.db }

// Flavor names the database kind: "sqlite" or "postgres".
func (s *Store) Flavor() string { return s.f.name }

// Shared reports whether other nodes may share the database: PostgreSQL
// yes, the embedded SQLite file no.
func (s *Store) Shared() bool { return s.f.name != sqliteFlavor.name }

func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

func (s *Store) Close() error { return s.db.Close() }

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.f.rebind(query), args...)
}

// insert runs an INSERT that records no change (opaque tokens),
// translating clashes into store.ErrAlreadyExists.
func (s *Store) insert(ctx context.Context, what, query string, args ...any) error {
	_, err := s.exec(ctx, query, args...)
	if err != nil {
		return s.writeErr(what, err)
	}
	return nil
}

// writeErr translates a failed write: a clash is store.ErrAlreadyExists, a
// reference to a missing row store.ErrNotFound.
func (s *Store) writeErr(what string, err error) error {
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w", what, store.ErrAlreadyExists)
	case isForeignKeyViolation(err):
		return fmt.Errorf("%s: refers to something that does not exist: %w", what, store.ErrNotFound)
	default:
		return s.wrap(err)
	}
}

// deleted turns a DELETE's result into store.ErrNotFound when nothing went.
func (s *Store) deleted(what string, res sql.Result, err error) error {
	if err != nil {
		return s.wrap(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// wrap marks failures to reach the database as store.ErrUnavailable, so
// that callers answer "try again" (the admin API's 503) rather than
// "broken" (500).
func (s *Store) wrap(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if isUnavailable(err) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

// inTx runs fn in one transaction and commits when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return s.wrap(tx.Commit())
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
