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

const clientColumns = `id, name, tenant, environment, grants, secrets, disabled, token_ttl, created_at, updated_at, rate_limit, quota_hour, quota_day`

func scanClient(row interface{ Scan(...any) error }) (store.Client, error) {
	var c store.Client
	var grants, secrets string
	var ttl, created, updated int64
	if err := row.Scan(&c.ID, &c.Name, &c.Tenant, &c.Environment, &grants, &secrets, &c.Disabled, &ttl, &created, &updated, &c.Limits.RatePerSecond, &c.Limits.QuotaHour, &c.Limits.QuotaDay); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(grants), &c.Grants); err != nil {
		return c, fmt.Errorf("client %s: decoding grants: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(secrets), &c.Secrets); err != nil {
		return c, fmt.Errorf("client %s: decoding secrets: %w", c.ID, err)
	}
	c.TokenTTL = time.Duration(ttl) * time.Second
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

func clientArgs(c store.Client) []any {
	if c.Grants == nil {
		c.Grants = map[string][]string{}
	}
	if c.Secrets == nil {
		c.Secrets = []store.Secret{}
	}
	grants, _ := json.Marshal(c.Grants)
	secrets, _ := json.Marshal(c.Secrets)
	return []any{c.ID, c.Name, c.Tenant, c.Environment, string(grants), string(secrets), c.Disabled,
		int64(c.TokenTTL / time.Second), micros(c.CreatedAt), micros(c.UpdatedAt), c.Limits.RatePerSecond, c.Limits.QuotaHour, c.Limits.QuotaDay}
}

func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	return s.execChange(ctx, "client "+c.ID, store.ChangeClient, c.ID, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, clientArgs(c)...)
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, s.f.rebind(`SELECT `+clientColumns+` FROM clients WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("client %s: %w", id, store.ErrNotFound)
	}
	return c, s.wrap(err)
}

func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.Client{}
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	var updated store.Client
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanClient(tx.QueryRowContext(ctx, s.f.rebind(`SELECT `+clientColumns+` FROM clients WHERE id = ?`+s.f.forUpdate), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("client %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		updated, err = fn(old)
		if err != nil {
			return err
		}
		updated.ID = old.ID
		args := clientArgs(updated)
		_, err = tx.ExecContext(ctx, s.f.rebind(`UPDATE clients SET name = ?, tenant = ?, environment = ?, grants = ?, secrets = ?, disabled = ?, token_ttl = ?, created_at = ?, updated_at = ?, rate_limit = ?, quota_hour = ?, quota_day = ? WHERE id = ?`),
			append(args[1:], id)...)
		if err != nil {
			return s.wrap(err)
		}
		return s.recordChange(ctx, tx, store.ChangeClient, id)
	})
	return updated, err
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execChange(ctx, "client "+id, store.ChangeClient, id, `DELETE FROM clients WHERE id = ?`, id)
}
