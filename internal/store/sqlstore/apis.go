package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const apiColumns = `audience, name, scopes, token_ttl, token_format, signing_alg, service, built_in, created_at, updated_at, reuse_window`

func scanAPI(row interface{ Scan(...any) error }) (store.API, error) {
	var a store.API
	var scopes string
	var ttl, created, updated, reuse int64
	var service sql.NullString
	if err := row.Scan(&a.Audience, &a.Name, &scopes, &ttl, &a.TokenFormat, &a.SigningAlg, &service, &a.BuiltIn, &created, &updated, &reuse); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return a, fmt.Errorf("api %s: decoding scopes: %w", a.Audience, err)
	}
	a.TokenTTL = time.Duration(ttl) * time.Second
	a.ReuseWindow = time.Duration(reuse) * time.Second
	a.Service = service.String
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

func apiArgs(a store.API) []any {
	if a.Scopes == nil {
		a.Scopes = []store.Scope{}
	}
	scopes, _ := json.Marshal(a.Scopes)
	return []any{a.Audience, a.Name, string(scopes), int64(a.TokenTTL / time.Second), a.TokenFormat, a.SigningAlg,
		nullString(a.Service), a.BuiltIn, micros(a.CreatedAt), micros(a.UpdatedAt), int64(a.ReuseWindow / time.Second)}
}

func (s *Store) CreateAPI(ctx context.Context, a store.API) error {
	return s.execChange(ctx, "api "+a.Audience, store.ChangeAPI, a.Audience, `INSERT INTO apis (`+apiColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, apiArgs(a)...)
}

func (s *Store) GetAPI(ctx context.Context, audience string) (store.API, error) {
	a, err := scanAPI(s.db.QueryRowContext(ctx, s.f.rebind(`SELECT `+apiColumns+` FROM apis WHERE audience = ?`), audience))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("api %s: %w", audience, store.ErrNotFound)
	}
	return a, s.wrap(err)
}

func (s *Store) ListAPIs(ctx context.Context) ([]store.API, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiColumns+` FROM apis ORDER BY audience`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.API{}
	for rows.Next() {
		a, err := scanAPI(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, a)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) UpdateAPI(ctx context.Context, audience string, fn func(store.API) (store.API, error)) (store.API, error) {
	var updated store.API
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanAPI(tx.QueryRowContext(ctx, s.f.rebind(`SELECT `+apiColumns+` FROM apis WHERE audience = ?`+s.f.forUpdate), audience))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("api %s: %w", audience, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		updated, err = fn(old)
		if err != nil {
			return err
		}
		updated.Audience = old.Audience
		args := apiArgs(updated)
		_, err = tx.ExecContext(ctx, s.f.rebind(`UPDATE apis SET name = ?, scopes = ?, token_ttl = ?, token_format = ?, signing_alg = ?, service = ?, built_in = ?, created_at = ?, updated_at = ?, reuse_window = ? WHERE audience = ?`),
			append(args[1:], audience)...)
		if isUniqueViolation(err) {
			return fmt.Errorf("api %s: service %q: %w", audience, updated.Service, store.ErrAlreadyExists)
		}
		if err != nil {
			return s.wrap(err)
		}
		return s.recordChange(ctx, tx, store.ChangeAPI, audience)
	})
	return updated, err
}

func (s *Store) DeleteAPI(ctx context.Context, audience string) error {
	return s.execChange(ctx, "api "+audience, store.ChangeAPI, audience, `DELETE FROM apis WHERE audience = ?`, audience)
}
