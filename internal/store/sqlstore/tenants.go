package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/store"
)

func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	return s.execChange(ctx, "tenant "+t.ID, store.ChangeTenant, t.ID, `INSERT INTO tenants (id, name, quota_hour, quota_day, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Limits.QuotaHour, t.Limits.QuotaDay, micros(t.CreatedAt))
}

func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := s.db.QueryRowContext(ctx, s.f.rebind(`SELECT id, name, quota_hour, quota_day, created_at FROM tenants WHERE id = ?`), id).
		Scan(&t.ID, &t.Name, &t.Limits.QuotaHour, &t.Limits.QuotaDay, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tenant %s: %w", id, store.ErrNotFound)
	}
	t.CreatedAt = fromMicros(created)
	return t, s.wrap(err)
}

func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, quota_hour, quota_day, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.Tenant{}
	for rows.Next() {
		var t store.Tenant
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Limits.QuotaHour, &t.Limits.QuotaDay, &created); err != nil {
			return nil, s.wrap(err)
		}
		t.CreatedAt = fromMicros(created)
		out = append(out, t)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) CreateEnvironment(ctx context.Context, e store.Environment) error {
	return s.execChange(ctx, "environment "+e.Tenant+"/"+e.ID, store.ChangeEnvironment, store.EnvironmentKey(e.Tenant, e.ID),
		`INSERT INTO environments (tenant, id, api_key, created_at) VALUES (?, ?, ?, ?)`,
		e.Tenant, e.ID, e.APIKey, micros(e.CreatedAt))
}

func (s *Store) GetEnvironment(ctx context.Context, tenant, id string) (store.Environment, error) {
	var e store.Environment
	var created int64
	err := s.db.QueryRowContext(ctx, s.f.rebind(`SELECT tenant, id, api_key, created_at FROM environments WHERE tenant = ? AND id = ?`), tenant, id).
		Scan(&e.Tenant, &e.ID, &e.APIKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("environment %s/%s: %w", tenant, id, store.ErrNotFound)
	}
	e.CreatedAt = fromMicros(created)
	return e, s.wrap(err)
}

func (s *Store) ListEnvironments(ctx context.Context, tenant string) ([]store.Environment, error) {
	query := `SELECT tenant, id, api_key, created_at FROM environments`
	var args []any
	if tenant != "" {
		query += ` WHERE tenant = ?`
		args = append(args, tenant)
	}
	rows, err := s.db.QueryContext(ctx, s.f.rebind(query+` ORDER BY tenant, id`), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.Environment{}
	for rows.Next() {
		var e store.Environment
		var created int64
		if err := rows.Scan(&e.Tenant, &e.ID, &e.APIKey, &created); err != nil {
			return nil, s.wrap(err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(store.Tenant) (store.Tenant, error)) (store.Tenant, error) {
	var updated store.Tenant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var old store.Tenant
		var created int64
		err := tx.QueryRowContext(ctx, s.f.rebind(`SELECT id, name, quota_hour, quota_day, created_at FROM tenants WHERE id = ?`+s.f.forUpdate), id).
			Scan(&old.ID, &old.Name, &old.Limits.QuotaHour, &old.Limits.QuotaDay, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tenant %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		old.CreatedAt = fromMicros(created)
		if updated, err = fn(old); err != nil {
			return err
		}
		updated.ID = old.ID
		_, err = tx.ExecContext(ctx, s.f.rebind(`UPDATE tenants SET name = ?, quota_hour = ?, quota_day = ? WHERE id = ?`),
			updated.Name, updated.Limits.QuotaHour, updated.Limits.QuotaDay, id)
		if err != nil {
			return s.wrap(err)
		}
		return s.recordChange(ctx, tx, store.ChangeTenant, id)
	})
	return updated, err
}
