package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// flavor is what differs between the SQL databases gatehouse runs on.
type flavor struct {
	name string
	// forUpdate is appended to a SELECT that reads a row about to be updated.
	forUpdate string
	// lockMigrations serialises migrations between processes starting
	// together; it returns the function that releases the lock.
	lockMigrations func(ctx context.Context, conn *sql.Conn) (func(), error)
	// numbered placeholders ($1) instead of '?'.
	numbered bool
	// notify, when set, wakes the other nodes at commit: it takes the
	// channel, and sends the schema so that deployments sharing a database
	// in separate schemas do not wake each other. Empty where the database
	// has no notifications (CockroachDB or YugabyteDB would leave it so).
	notify string
	// bytesType is the column type of binary values in the migrations.
	bytesType string
}

var sqliteFlavor = flavor{
	name:      "sqlite",
	bytesType: "BLOB",
	lockMigrations: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		// SQLite has one writer at a time; the migration transaction itself
		// takes the write lock (BEGIN IMMEDIATE through _txlock).
		return func() {}, nil
	},
}

// migrationLockID is an arbitrary constant naming gatehouse's advisory lock.
const migrationLockID = 7254_0001

var postgresFlavor = flavor{
	name:      "postgres",
	forUpdate: " FOR UPDATE",
	numbered:  true,
	bytesType: "BYTEA",
	notify:    "SELECT pg_notify($1, current_schema())",
	lockMigrations: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
			return nil, err
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockID)
		}, nil
	},
}

// rebind turns '?' placeholders into the flavor's own.
func (f flavor) rebind(query string) string {
	if !f.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// isUniqueViolation reports whether err is a primary-key or unique-index clash.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// isForeignKeyViolation reports whether err is a reference to a missing row.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isBusy reports whether err is SQLite's answer that another connection
// holds a lock it needs.
func isBusy(err error) bool {
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// isUnavailable reports whether err means the database could not be
// reached or the connection was lost: refused or failed connects, resets,
// a connection closed mid-statement (EOF), and the server's own
// connection-class errors (08xxx; shutting down or starting up, 57P01-03;
// too many connections, 53300). A statement cut off this way never leaves
// part of a transaction behind: the server rolls back what did not commit.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			return true
		}
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}
