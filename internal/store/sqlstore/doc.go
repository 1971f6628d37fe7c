// Package sqlstore implements store.Store on SQL databases: SQLite (the
// embedded default, through the pure-Go modernc.org/sqlite driver) and
// PostgreSQL (through pgx). The queries are shared; a flavor holds what
// differs (placeholders, row locking, error codes, migrations, NOTIFY).
//
// Every write that nodes cache appends to the change feed in its own
// transaction (changes.go): ids come from a one-row counter the
// transaction holds until it commits, so they have no gaps and appear in
// order. On PostgreSQL the transaction also sends a NOTIFY, which
// ListenChanges (a dedicated pgx connection outside the pool) turns into
// a wake-up; the feed itself is always read by polling.
//
// The SQL stays portable to PostgreSQL-wire databases without LISTEN/NOTIFY
// (CockroachDB, YugabyteDB): nothing here depends on triggers, sequences'
// commit order or extensions, and only the notification is PostgreSQL's.
// Failures to reach the database are store.ErrUnavailable (isUnavailable).
package sqlstore
