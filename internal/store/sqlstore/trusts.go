package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const trustColumns = `id, tenant, name, issuer, doc, created_at, updated_at`

const trustByID = `SELECT ` + trustColumns + ` FROM trusts WHERE id = ?`

// trustDoc is what the doc column holds: the trust without the fields
// that have columns of their own.
type trustDoc struct {
	JWKSURI   string            `json:"jwks_uri,omitempty"`
	JWKS      string            `json:"jwks,omitempty"`
	Audiences []string          `json:"audiences,omitempty"`
	MaxAge    int64             `json:"max_age_s,omitempty"`
	SingleUse bool              `json:"single_use,omitempty"`
	Rules     []store.TrustRule `json:"rules"`
}

func scanTrust(r row) (store.Trust, error) {
	var t store.Trust
	var id, doc string
	var created, updated int64
	if err := r.Scan(&id, &t.Tenant, &t.Name, &t.Issuer, &doc, &created, &updated); err != nil {
		return t, err
	}
	var d trustDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return t, fmt.Errorf("trust %s: decoding: %w", id, err)
	}
	t.JWKSURI, t.JWKS, t.Audiences, t.SingleUse, t.Rules = d.JWKSURI, d.JWKS, d.Audiences, d.SingleUse, d.Rules
	t.MaxAge = time.Duration(d.MaxAge) * time.Second
	if t.Rules == nil {
		t.Rules = []store.TrustRule{}
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, nil
}

// trustArgs are the values of trustColumns after id.
func trustArgs(t store.Trust) []any {
	d := trustDoc{JWKSURI: t.JWKSURI, JWKS: t.JWKS, Audiences: t.Audiences,
		MaxAge: int64(t.MaxAge.Seconds()), SingleUse: t.SingleUse, Rules: t.Rules}
	if d.Rules == nil {
		d.Rules = []store.TrustRule{}
	}
	doc, _ := json.Marshal(d)
	return []any{t.Tenant, t.Name, t.Issuer, string(doc), micros(t.CreatedAt), micros(t.UpdatedAt)}
}

func (s *Store) CreateTrust(ctx context.Context, t store.Trust) error {
	key := t.Key()
	return s.execChange(ctx, "trust "+key, store.ChangeTrust, key,
		`INSERT INTO trusts (`+trustColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, append([]any{key}, trustArgs(t)...)...)
}

func (s *Store) GetTrust(ctx context.Context, tenant, name string) (store.Trust, error) {
	key := store.TrustKey(tenant, name)
	return getRow(ctx, s, "trust "+key, scanTrust, trustByID, key)
}

func (s *Store) ListTrusts(ctx context.Context, tenant string) ([]store.Trust, error) {
	query := `SELECT ` + trustColumns + ` FROM trusts`
	var args []any
	if tenant != "" {
		query += ` WHERE tenant = ?`
		args = append(args, tenant)
	}
	return listRows(ctx, s, scanTrust, query+` ORDER BY tenant, name`, args...)
}

func (s *Store) UpdateTrust(ctx context.Context, tenant, name string, fn func(store.Trust) (store.Trust, error)) (store.Trust, error) {
	key := store.TrustKey(tenant, name)
	return updateRow(ctx, s, rowUpdate[store.Trust]{
		what: "trust " + key, kind: store.ChangeTrust, key: key,
		get: trustByID, scan: scanTrust,
		set: `UPDATE trusts SET tenant = ?, name = ?, issuer = ?, doc = ?, created_at = ?, updated_at = ? WHERE id = ?`,
		put: func(old, t store.Trust) (store.Trust, []any) {
			t.Tenant, t.Name = old.Tenant, old.Name
			return t, trustArgs(t)
		},
	}, fn)
}

func (s *Store) DeleteTrust(ctx context.Context, tenant, name string) error {
	key := store.TrustKey(tenant, name)
	return s.execChange(ctx, "trust "+key, store.ChangeTrust, key, `DELETE FROM trusts WHERE id = ?`, key)
}
