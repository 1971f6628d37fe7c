// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server, and a TCP proxy to put between a node and that server, so a test
// can cut the database off without stopping it (other tests share it).
//
// The server is GATEHOUSE_TEST_POSTGRES, by default
// postgres://postgres@127.0.0.1:5432/test. Tests that need it fail, rather
// than skip, when it is unreachable: CI must not pass with the PostgreSQL
// backend untested. It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultDSN is the test server when GATEHOUSE_TEST_POSTGRES is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN is the test server's URL.
func DSN() string {
	if dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Redact hides a password in dsn, for messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable DSN)"
}

// Admin connects to the test server for the length of t and fails t,
// saying why, when it cannot be reached.
func Admin(t testing.TB) *sql.DB {
	t.Helper()
	dsn := DSN()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("opening PostgreSQL at %s: %v", Redact(dsn), err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL at %s is unreachable: %v\n"+
			"These tests need a running PostgreSQL; set GATEHOUSE_TEST_POSTGRES to its URL.", Redact(dsn), err)
	}
	return db
}

// Schema creates an empty schema that is dropped when t ends and returns a
// DSN whose search_path points into it.
func Schema(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b [8]byte
	rand.Read(b[:])
	schema := fmt.Sprintf("gh_test_%x", b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(DSN(), schema)
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic("pgtest: GATEHOUSE_TEST_POSTGRES is not a URL: " + err.Error())
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SchemaOf returns the search_path of a DSN made by Schema.
func SchemaOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Query().Get("search_path")
}
