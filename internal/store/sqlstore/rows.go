package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The reads and updates every entity shares. An entity's file keeps its
// SQL and its row mapping (a scan function); these run them, so that a
// missing row, a failure to reach the database and an update's steps are
// handled one way for all.

// row is one result row: *sql.Row or *sql.Rows.
type row interface{ Scan(dest ...any) error }

// getRow reads the one row that query selects. No row is
// store.ErrNotFound, named by what.
func getRow[T any](ctx context.Context, s *Store, what string, scan func(row) (T, error), query string, args ...any) (T, error) {
	v, err := scan(s.db.QueryRowContext(ctx, s.f.rebind(query), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return v, s.wrap(err)
}

// listRows reads every row that query selects, in its order; none is an
// empty slice, not nil.
func listRows[T any](ctx context.Context, s *Store, scan func(row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, s.f.rebind(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, v)
	}
	return out, s.wrap(rows.Err())
}

// eachRow is listRows one row at a time: fn sees each as it is scanned,
// so a big table is never held whole.
func eachRow[T any](ctx context.Context, s *Store, scan func(row) (T, error), fn func(T) error, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, s.f.rebind(query), args...)
	if err != nil {
		return s.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return s.wrap(err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return s.wrap(rows.Err())
}

// rowUpdate is what an entity's Update says about its table.
type rowUpdate[T any] struct {
	what string // names the row in errors: "api https://api.example.io"
	kind string // the change to record
	key  string // the row's key: the argument of get, the last of set
	get  string // SELECT of the row by key
	scan func(row) (T, error)
	set  string // UPDATE of the row by key
	// put returns t as it is stored, its key kept from old (an update
	// cannot rename), and set's arguments before the key.
	put func(old, t T) (T, []any)
	// clash, if not nil, is the error for a unique-index clash on writing
	// t; without it the database's error is returned.
	clash func(t T) error
}

// updateRow reads u's row and locks it, passes it to fn, writes what fn
// returns and records the change, all in one transaction (so concurrent
// updates of a row apply one after the other). It returns the row as
// written; fn's error is returned as it is.
func updateRow[T any](ctx context.Context, s *Store, u rowUpdate[T], fn func(T) (T, error)) (T, error) {
	var updated T
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := u.scan(tx.QueryRowContext(ctx, s.f.rebind(u.get+s.f.forUpdate), u.key))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", u.what, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		if updated, err = fn(old); err != nil {
			return err
		}
		var args []any
		updated, args = u.put(old, updated)
		_, err = tx.ExecContext(ctx, s.f.rebind(u.set), append(args, u.key)...)
		if u.clash != nil && isUniqueViolation(err) {
			return u.clash(updated)
		}
		if err != nil {
			return s.wrap(err)
		}
		return s.recordChange(ctx, tx, u.kind, u.key)
	})
	return updated, err
}
