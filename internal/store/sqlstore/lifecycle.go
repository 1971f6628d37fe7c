package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/store"
)

// DeleteTenant deletes a tenant, and with cascade its environments,
// clients and trusts, in one transaction. The tenant row is locked first, so no
// environment can be added under it meanwhile (its foreign key waits).
func (s *Store) DeleteTenant(ctx context.Context, id string, cascade bool) (store.Deleted, error) {
	var d store.Deleted
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		d = store.Deleted{}
		var got string
		err := tx.QueryRowContext(ctx, s.f.rebind(`SELECT id FROM tenants WHERE id = ?`+s.f.forUpdate), id).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tenant %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		if d.Clients, err = s.column(ctx, tx, `SELECT id FROM clients WHERE tenant = ? ORDER BY id`, id); err != nil {
			return err
		}
		envs, err := s.column(ctx, tx, `SELECT id FROM environments WHERE tenant = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		for _, e := range envs {
			d.Environments = append(d.Environments, store.EnvironmentKey(id, e))
		}
		if d.Trusts, err = s.column(ctx, tx, `SELECT id FROM trusts WHERE tenant = ? ORDER BY id`, id); err != nil {
			return err
		}
		if !cascade && (len(d.Clients) > 0 || len(envs) > 0 || len(d.Trusts) > 0) {
			return fmt.Errorf("tenant %s has %d environments, %d clients and %d trusts: %w", id, len(envs), len(d.Clients), len(d.Trusts), store.ErrInUse)
		}
		if err := s.deleteAll(ctx, tx, store.ChangeClient, d.Clients, `DELETE FROM clients WHERE tenant = ?`, id); err != nil {
			return err
		}
		if err := s.deleteAll(ctx, tx, store.ChangeEnvironment, d.Environments, `DELETE FROM environments WHERE tenant = ?`, id); err != nil {
			return err
		}
		if err := s.deleteAll(ctx, tx, store.ChangeTrust, d.Trusts, `DELETE FROM trusts WHERE tenant = ?`, id); err != nil {
			return err
		}
		d.Tenant = id
		return s.deleteAll(ctx, tx, store.ChangeTenant, []string{id}, `DELETE FROM tenants WHERE id = ?`, id)
	})
	return d, err
}

// DeleteEnvironment deletes an environment, and with cascade its clients,
// in one transaction.
func (s *Store) DeleteEnvironment(ctx context.Context, tenant, id string, cascade bool) (store.Deleted, error) {
	var d store.Deleted
	key := store.EnvironmentKey(tenant, id)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		d = store.Deleted{}
		var got string
		err := tx.QueryRowContext(ctx, s.f.rebind(`SELECT id FROM environments WHERE tenant = ? AND id = ?`+s.f.forUpdate), tenant, id).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("environment %s: %w", key, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		if d.Clients, err = s.column(ctx, tx, `SELECT id FROM clients WHERE tenant = ? AND environment = ? ORDER BY id`, tenant, id); err != nil {
			return err
		}
		if !cascade && len(d.Clients) > 0 {
			return fmt.Errorf("environment %s has %d clients: %w", key, len(d.Clients), store.ErrInUse)
		}
		if err := s.deleteAll(ctx, tx, store.ChangeClient, d.Clients, `DELETE FROM clients WHERE tenant = ? AND environment = ?`, tenant, id); err != nil {
			return err
		}
		d.Environments = []string{key}
		return s.deleteAll(ctx, tx, store.ChangeEnvironment, d.Environments, `DELETE FROM environments WHERE tenant = ? AND id = ?`, tenant, id)
	})
	return d, err
}

// column reads one text column of every row query returns.
func (s *Store) column(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.f.rebind(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, v)
	}
	return out, s.wrap(rows.Err())
}

// deleteAll runs a delete and records one change of kind per key.
func (s *Store) deleteAll(ctx context.Context, tx *sql.Tx, kind string, keys []string, query string, args ...any) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.f.rebind(query), args...); err != nil {
		return s.wrap(err)
	}
	for _, k := range keys {
		if err := s.recordChange(ctx, tx, kind, k); err != nil {
			return err
		}
	}
	return nil
}
