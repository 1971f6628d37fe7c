package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/store"
)

const tenantColumns = `id, name, quota_hour, quota_day, created_at, limit_mode`

const tenantByID = `SELECT ` + tenantColumns + ` FROM tenants WHERE id = ?`

func scanTenant(r row) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := r.Scan(&t.ID, &t.Name, &t.Limits.QuotaHour, &t.Limits.QuotaDay, &created, &t.Limits.Mode)
	t.CreatedAt = fromMicros(created)
	return t, err
}

const environmentColumns = `tenant, id, api_key, created_at`

func scanEnvironment(r row) (store.Environment, error) {
	var e store.Environment
	var created int64
	err := r.Scan(&e.Tenant, &e.ID, &e.APIKey, &created)
	e.CreatedAt = fromMicros(created)
	return e, err
}

func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	return s.execChange(ctx, "tenant "+t.ID, store.ChangeTenant, t.ID, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Limits.QuotaHour, t.Limits.QuotaDay, micros(t.CreatedAt), t.Limits.Mode)
}

func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	return getRow(ctx, s, "tenant "+id, scanTenant, tenantByID, id)
}

func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	return listRows(ctx, s, scanTenant, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
}

func (s *Store) CreateEnvironment(ctx context.Context, e store.Environment) error {
	return s.execChange(ctx, "environment "+e.Tenant+"/"+e.ID, store.ChangeEnvironment, store.EnvironmentKey(e.Tenant, e.ID),
		`INSERT INTO environments (`+environmentColumns+`) VALUES (?, ?, ?, ?)`,
		e.Tenant, e.ID, e.APIKey, micros(e.CreatedAt))
}

func (s *Store) GetEnvironment(ctx context.Context, tenant, id string) (store.Environment, error) {
	return getRow(ctx, s, "environment "+tenant+"/"+id, scanEnvironment,
		`SELECT `+environmentColumns+` FROM environments WHERE tenant = ? AND id = ?`, tenant, id)
}

func (s *Store) ListEnvironments(ctx context.Context, tenant string) ([]store.Environment, error) {
	query := `SELECT ` + environmentColumns + ` FROM environments`
	var args []any
	if tenant != "" {
		query += ` WHERE tenant = ?`
		args = append(args, tenant)
	}
	return listRows(ctx, s, scanEnvironment, query+` ORDER BY tenant, id`, args...)
}

func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(store.Tenant) (store.Tenant, error)) (store.Tenant, error) {
	return updateRow(ctx, s, rowUpdate[store.Tenant]{
		what: "tenant " + id, kind: store.ChangeTenant, key: id,
		get: tenantByID, scan: scanTenant,
		set: `UPDATE tenants SET name = ?, quota_hour = ?, quota_day = ?, limit_mode = ? WHERE id = ?`,
		put: func(old, t store.Tenant) (store.Tenant, []any) {
			t.ID = old.ID
			return t, []any{t.Name, t.Limits.QuotaHour, t.Limits.QuotaDay, t.Limits.Mode}
		},
	}, fn)
}
