// Package sqlstore implements store.Store on SQL databases: SQLite (the
// embedded default, through the pure-Go modernc.org/sqlite driver) and
// PostgreSQL (through pgx). The queries are shared; a flavor holds what
// differs (placeholders, row locking, error codes, migrations).
//
// The SQL stays portable to PostgreSQL-wire databases without LISTEN/NOTIFY
// (CockroachDB, YugabyteDB): nothing here depends on triggers or extensions.
package sqlstore
