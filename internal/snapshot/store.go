package snapshot

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Store is a node's store while it started from a snapshot: until Live is
// called, the reads that issuing needs are answered from the snapshot,
// and everything else (every write, the change feed, the audit log) goes
// to the database, which answers with its unavailability. After Live,
// everything goes to the database.
type Store struct {
	store.Store
	data *Data
	live atomic.Bool
}

// NewStore serves data in front of db until Live.
func NewStore(db store.Store, data *Data) *Store { return &Store{Store: db, data: data} }

// Live sends every call to the database from now on.
func (s *Store) Live() { s.live.Store(true) }

// IsLive reports whether Live was called.
func (s *Store) IsLive() bool { return s.live.Load() }

// WrittenAt is when the snapshot being served was written.
func (s *Store) WrittenAt() time.Time { return s.data.WrittenAt }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }

func find[T any](xs []T, what string, match func(T) bool) (T, error) {
	if i := slices.IndexFunc(xs, match); i >= 0 {
		return xs[i], nil
	}
	var zero T
	return zero, notFound(what)
}

func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if s.IsLive() {
		return s.Store.GetTenant(ctx, id)
	}
	return find(s.data.Tenants, "tenant "+id, func(t store.Tenant) bool { return t.ID == id })
}

func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	if s.IsLive() {
		return s.Store.ListTenants(ctx)
	}
	return slices.Clone(s.data.Tenants), nil
}

func (s *Store) GetEnvironment(ctx context.Context, tenant, id string) (store.Environment, error) {
	if s.IsLive() {
		return s.Store.GetEnvironment(ctx, tenant, id)
	}
	return find(s.data.Environments, "environment "+tenant+"/"+id, func(e store.Environment) bool { return e.Tenant == tenant && e.ID == id })
}

func (s *Store) ListEnvironments(ctx context.Context, tenant string) ([]store.Environment, error) {
	if s.IsLive() {
		return s.Store.ListEnvironments(ctx, tenant)
	}
	return filter(s.data.Environments, func(e store.Environment) bool { return tenant == "" || e.Tenant == tenant }), nil
}

func (s *Store) GetAPI(ctx context.Context, audience string) (store.API, error) {
	if s.IsLive() {
		return s.Store.GetAPI(ctx, audience)
	}
	return find(s.data.APIs, "api "+audience, func(a store.API) bool { return a.Audience == audience })
}

func (s *Store) ListAPIs(ctx context.Context) ([]store.API, error) {
	if s.IsLive() {
		return s.Store.ListAPIs(ctx)
	}
	return slices.Clone(s.data.APIs), nil
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	if s.IsLive() {
		return s.Store.GetClient(ctx, id)
	}
	return find(s.data.Clients, "client "+id, func(c store.Client) bool { return c.ID == id })
}

func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	if s.IsLive() {
		return s.Store.ListClients(ctx)
	}
	return slices.Clone(s.data.Clients), nil
}

func (s *Store) GetTrust(ctx context.Context, tenant, name string) (store.Trust, error) {
	if s.IsLive() {
		return s.Store.GetTrust(ctx, tenant, name)
	}
	return find(s.data.Trusts, "trust "+store.TrustKey(tenant, name), func(t store.Trust) bool { return t.Tenant == tenant && t.Name == name })
}

func (s *Store) ListTrusts(ctx context.Context, tenant string) ([]store.Trust, error) {
	if s.IsLive() {
		return s.Store.ListTrusts(ctx, tenant)
	}
	return filter(s.data.Trusts, func(t store.Trust) bool { return tenant == "" || t.Tenant == tenant }), nil
}

func (s *Store) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	if s.IsLive() {
		return s.Store.ListKeys(ctx)
	}
	return slices.Clone(s.data.Keys), nil
}

func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	if s.IsLive() {
		return s.Store.ListRevocations(ctx, since)
	}
	return filter(s.data.Revocations, func(r store.Revocation) bool { return !r.RevokedAt.Before(since) }), nil
}

// The change feed is the database's alone: a node following it while the
// snapshot is served would take the snapshot for the database's state.

func (s *Store) LatestChange(ctx context.Context) (int64, error) {
	if s.IsLive() {
		return s.Store.LatestChange(ctx)
	}
	return 0, unavailable()
}

func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if s.IsLive() {
		return s.Store.ChangesSince(ctx, after, limit)
	}
	return nil, unavailable()
}

func unavailable() error {
	return fmt.Errorf("%w: serving from the snapshot until the database answers", store.ErrUnavailable)
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
