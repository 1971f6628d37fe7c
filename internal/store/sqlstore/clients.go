package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const clientColumns = `id, name, tenant, environment, grants, secrets, disabled, token_ttl, created_at, updated_at, rate_limit, quota_hour, quota_day, auth, limit_mode, tokens_not_before`

const clientByID = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`

// clientInsert has one placeholder per column, so that a column added to
// clientColumns cannot leave a bulk or single insert a value short.
var clientInsert = `INSERT INTO clients (` + clientColumns + `) VALUES (` +
	strings.Repeat("?, ", strings.Count(clientColumns, ",")) + `?)`

func scanClient(r row) (store.Client, error) { return (&sharedDecoder{}).scan(r) }

// sharedDecoder decodes each distinct grants and auth text once, for a
// scan of many clients that mostly repeat a few (EachClient); the clients
// it returns share those maps. One with nil maps decodes every row afresh.
type sharedDecoder struct {
	grants map[string]map[string][]string
	auth   map[string]store.ClientAuth
}

func (d *sharedDecoder) scan(r row) (store.Client, error) {
	var c store.Client
	var grants, secrets, auth string
	var ttl, created, updated, notBefore int64
	if err := r.Scan(&c.ID, &c.Name, &c.Tenant, &c.Environment, &grants, &secrets, &c.Disabled, &ttl, &created, &updated, &c.Limits.RatePerSecond, &c.Limits.QuotaHour, &c.Limits.QuotaDay, &auth, &c.Limits.Mode, &notBefore); err != nil {
		return c, err
	}
	var ok bool
	if c.Auth, ok = d.auth[auth]; !ok {
		if err := json.Unmarshal([]byte(auth), &c.Auth); err != nil {
			return c, fmt.Errorf("client %s: decoding auth: %w", c.ID, err)
		}
		if d.auth != nil && len(d.auth) < 1000 {
			d.auth[auth] = c.Auth
		}
	}
	if c.Grants, ok = d.grants[grants]; !ok {
		if err := json.Unmarshal([]byte(grants), &c.Grants); err != nil {
			return c, fmt.Errorf("client %s: decoding grants: %w", c.ID, err)
		}
		if d.grants != nil && len(d.grants) < 1000 {
			d.grants[grants] = c.Grants
		}
	}
	if err := json.Unmarshal([]byte(secrets), &c.Secrets); err != nil {
		return c, fmt.Errorf("client %s: decoding secrets: %w", c.ID, err)
	}
	c.TokenTTL = time.Duration(ttl) * time.Second
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.TokensNotBefore = fromMicros(notBefore)
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
		int64(c.TokenTTL / time.Second), micros(c.CreatedAt), micros(c.UpdatedAt), c.Limits.RatePerSecond, c.Limits.QuotaHour, c.Limits.QuotaDay, string(auth), c.Limits.Mode, micros(c.TokensNotBefore)}
}

func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	return s.execChange(ctx, "client "+c.ID, store.ChangeClient, c.ID, clientInsert, clientArgs(c)...)
}

// CreateClients inserts clients in one transaction, each with its
// change, as CreateClient does one (bulk loads: gatehouse bench seed).
// None is inserted if one fails.
func (s *Store) CreateClients(ctx context.Context, cs []store.Client) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, s.f.rebind(clientInsert))
		if err != nil {
			return s.wrap(err)
		}
		defer ins.Close()
		for _, c := range cs {
			if _, err := ins.ExecContext(ctx, clientArgs(c)...); err != nil {
				return s.writeErr("client "+c.ID, err)
			}
			if err := s.recordChange(ctx, tx, store.ChangeClient, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return getRow(ctx, s, "client "+id, scanClient, clientByID, id)
}

func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listRows(ctx, s, scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
}

// EachClient calls fn with every client, in no set order (the table is read
// in storage order, not by a walk of the id index), one at a time (the
// catalog's full reload of a big store; catalog.ClientStreamer).
// Clients with equal grants share one map: fn must not modify it.
func (s *Store) EachClient(ctx context.Context, fn func(store.Client) error) error {
	d := &sharedDecoder{grants: map[string]map[string][]string{}, auth: map[string]store.ClientAuth{}}
	return eachRow(ctx, s, d.scan, fn, `SELECT `+clientColumns+` FROM clients`)
}

func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	return updateRow(ctx, s, rowUpdate[store.Client]{
		what: "client " + id, kind: store.ChangeClient, key: id,
		get: clientByID, scan: scanClient,
		set: `UPDATE clients SET name = ?, tenant = ?, environment = ?, grants = ?, secrets = ?, disabled = ?, token_ttl = ?, created_at = ?, updated_at = ?, rate_limit = ?, quota_hour = ?, quota_day = ?, auth = ?, limit_mode = ?, tokens_not_before = ? WHERE id = ?`,
		put: func(old, c store.Client) (store.Client, []any) {
			c.ID = old.ID
			return c, clientArgs(c)[1:]
		},
	}, fn)
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execChange(ctx, "client "+id, store.ChangeClient, id, `DELETE FROM clients WHERE id = ?`, id)
}
