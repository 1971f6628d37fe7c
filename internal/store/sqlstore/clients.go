package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const clientColumns = `id, name, tenant, environment, grants, secrets, disabled, token_ttl, created_at, updated_at, rate_limit, quota_hour, quota_day, auth, limit_mode`

const clientByID = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`

func scanClient(r row) (store.Client, error) {
	var c store.Client
	var grants, secrets, auth string
	var ttl, created, updated int64
	if err := r.Scan(&c.ID, &c.Name, &c.Tenant, &c.Environment, &grants, &secrets, &c.Disabled, &ttl, &created, &updated, &c.Limits.RatePerSecond, &c.Limits.QuotaHour, &c.Limits.QuotaDay, &auth, &c.Limits.Mode); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(auth), &c.Auth); err != nil {
		return c, fmt.Errorf("client %s: decoding auth: %w", c.ID, err)
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
	auth, _ := json.Marshal(c.Auth)
	return []any{c.ID, c.Name, c.Tenant, c.Environment, string(grants), string(secrets), c.Disabled,
		int64(c.TokenTTL / time.Second), micros(c.CreatedAt), micros(c.UpdatedAt), c.Limits.RatePerSecond, c.Limits.QuotaHour, c.Limits.QuotaDay, string(auth), c.Limits.Mode}
}

func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	return s.execChange(ctx, "client "+c.ID, store.ChangeClient, c.ID, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, clientArgs(c)...)
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return getRow(ctx, s, "client "+id, scanClient, clientByID, id)
}

func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listRows(ctx, s, scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
}

func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	return updateRow(ctx, s, rowUpdate[store.Client]{
		what: "client " + id, kind: store.ChangeClient, key: id,
		get: clientByID, scan: scanClient,
		set: `UPDATE clients SET name = ?, tenant = ?, environment = ?, grants = ?, secrets = ?, disabled = ?, token_ttl = ?, created_at = ?, updated_at = ?, rate_limit = ?, quota_hour = ?, quota_day = ?, auth = ?, limit_mode = ? WHERE id = ?`,
		put: func(old, c store.Client) (store.Client, []any) {
			c.ID = old.ID
			return c, clientArgs(c)[1:]
		},
	}, fn)
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execChange(ctx, "client "+id, store.ChangeClient, id, `DELETE FROM clients WHERE id = ?`, id)
}
