package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const apiColumns = `audience, name, scopes, token_ttl, token_format, signing_alg, service, built_in, created_at, updated_at, reuse_window, accept_exchange_from`

const apiByAudience = `SELECT ` + apiColumns + ` FROM apis WHERE audience = ?`

func scanAPI(r row) (store.API, error) {
	var a store.API
	var scopes, exchange string
	var ttl, created, updated, reuse int64
	var service sql.NullString
	if err := r.Scan(&a.Audience, &a.Name, &scopes, &ttl, &a.TokenFormat, &a.SigningAlg, &service, &a.BuiltIn, &created, &updated, &reuse, &exchange); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return a, fmt.Errorf("api %s: decoding scopes: %w", a.Audience, err)
	}
	if err := json.Unmarshal([]byte(exchange), &a.AcceptExchangeFrom); err != nil {
		return a, fmt.Errorf("api %s: decoding accept_exchange_from: %w", a.Audience, err)
	}
	if len(a.AcceptExchangeFrom) == 0 {
		a.AcceptExchangeFrom = nil
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
	exchange := []byte("[]")
	if len(a.AcceptExchangeFrom) > 0 {
		exchange, _ = json.Marshal(a.AcceptExchangeFrom)
	}
	return []any{a.Audience, a.Name, string(scopes), int64(a.TokenTTL / time.Second), a.TokenFormat, a.SigningAlg,
		nullString(a.Service), a.BuiltIn, micros(a.CreatedAt), micros(a.UpdatedAt), int64(a.ReuseWindow / time.Second), string(exchange)}
}

func (s *Store) CreateAPI(ctx context.Context, a store.API) error {
	return s.execChange(ctx, "api "+a.Audience, store.ChangeAPI, a.Audience, `INSERT INTO apis (`+apiColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, apiArgs(a)...)
}

func (s *Store) GetAPI(ctx context.Context, audience string) (store.API, error) {
	return getRow(ctx, s, "api "+audience, scanAPI, apiByAudience, audience)
}

func (s *Store) ListAPIs(ctx context.Context) ([]store.API, error) {
	return listRows(ctx, s, scanAPI, `SELECT `+apiColumns+` FROM apis ORDER BY audience`)
}

func (s *Store) UpdateAPI(ctx context.Context, audience string, fn func(store.API) (store.API, error)) (store.API, error) {
	return updateRow(ctx, s, rowUpdate[store.API]{
		what: "api " + audience, kind: store.ChangeAPI, key: audience,
		get: apiByAudience, scan: scanAPI,
		set: `UPDATE apis SET name = ?, scopes = ?, token_ttl = ?, token_format = ?, signing_alg = ?, service = ?, built_in = ?, created_at = ?, updated_at = ?, reuse_window = ?, accept_exchange_from = ? WHERE audience = ?`,
		put: func(old, a store.API) (store.API, []any) {
			a.Audience = old.Audience
			return a, apiArgs(a)[1:]
		},
		clash: func(a store.API) error {
			return fmt.Errorf("api %s: service %q: %w", audience, a.Service, store.ErrAlreadyExists)
		},
	}, fn)
}

func (s *Store) DeleteAPI(ctx context.Context, audience string) error {
	return s.execChange(ctx, "api "+audience, store.ChangeAPI, audience, `DELETE FROM apis WHERE audience = ?`, audience)
}
