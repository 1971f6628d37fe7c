package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The data lifecycle: renaming a tenant, and deleting a tenant or an
// environment, refused while clients (or environments) depend on it
// unless cascading, which deletes them too. A tenant's id never changes:
// it is in every token its clients hold (the tenant claim), in per-tenant
// audiences, in audit events and in quotas, so a rename changes the
// display name only.

// ErrInUse marks a delete refused because others depend on the target.
var ErrInUse = store.ErrInUse

// RenameTenant changes a tenant's display name.
func (s *Service) RenameTenant(ctx context.Context, id, name string) (store.Tenant, error) {
	return s.UpdateTenant(ctx, id, &name, nil)
}

// DeleteTenant deletes a tenant; with cascade, its environments and
// clients go too, and the clients' tokens are refused from then on.
func (s *Service) DeleteTenant(ctx context.Context, id string, cascade bool) (store.Deleted, error) {
	if err := checkLookup("tenant", id); err != nil {
		return store.Deleted{}, err
	}
	before, err := s.store.GetTenant(ctx, id)
	if err != nil {
		return store.Deleted{}, err
	}
	views, err := s.clientViews(ctx, func(c store.Client) bool { return c.Tenant == id })
	if err != nil {
		return store.Deleted{}, err
	}
	d, err := s.store.DeleteTenant(ctx, id, cascade)
	if errors.Is(err, store.ErrInUse) {
		return d, inUse(err)
	}
	if err != nil {
		return d, err
	}
	s.deleted(ctx, d, views)
	s.audit(ctx, "tenant.delete", id, before, nil)
	s.refresh(ctx, "tenant "+id, s.catalog.RefreshTenant(ctx, id))
	return d, nil
}

// DeleteEnvironment deletes an environment; with cascade, its clients go
// too, and their tokens are refused from then on.
func (s *Service) DeleteEnvironment(ctx context.Context, tenant, id string, cascade bool) (store.Deleted, error) {
	if err := errors.Join(checkLookup("environment", tenant), checkLookup("environment", id)); err != nil {
		return store.Deleted{}, fmt.Errorf("%w: no such environment", store.ErrNotFound)
	}
	views, err := s.clientViews(ctx, func(c store.Client) bool { return c.Tenant == tenant && c.Environment == id })
	if err != nil {
		return store.Deleted{}, err
	}
	if cascade {
		// The tenant's trusts stay: a rule naming one of these clients
		// would dangle (see DeleteClient).
		for cid := range views {
			if err := s.checkNoRuleNames(ctx, store.Client{ID: cid, Tenant: tenant}); err != nil {
				return store.Deleted{}, err
			}
		}
	}
	d, err := s.store.DeleteEnvironment(ctx, tenant, id, cascade)
	if errors.Is(err, store.ErrInUse) {
		return d, inUse(err)
	}
	if err != nil {
		return d, err
	}
	s.deleted(ctx, d, views)
	return d, nil
}

// inUse words a refused delete for the admin: what depends on it, and how
// to go on.
func inUse(err error) error {
	what := strings.TrimSuffix(err.Error(), ": "+store.ErrInUse.Error())
	return fmt.Errorf("%w: %s; delete those first, or delete with cascade (--cascade) to delete them too", ErrInUse, what)
}

// clientViews returns the wire views of the clients keep selects, by id,
// for the audit events of a cascade.
func (s *Service) clientViews(ctx context.Context, keep func(store.Client) bool) (map[string]ClientView, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]ClientView{}
	for _, c := range cs {
		if keep(c) {
			out[c.ID] = clientView(c, "")
		}
	}
	return out, nil
}

// deleted records, audits and applies to this node what a cascade removed
// (the tenant itself is the caller's).
func (s *Service) deleted(ctx context.Context, d store.Deleted, views map[string]ClientView) {
	for _, id := range d.Clients {
		s.revokeClient(ctx, id)
		s.audit(ctx, "client.delete", id, views[id], nil)
		s.refresh(ctx, "client "+id, s.catalog.RefreshClient(ctx, id))
	}
	for _, key := range d.Trusts {
		s.audit(ctx, "trust.delete", key, nil, nil)
	}
	for _, key := range d.Environments {
		tenant, env, _ := strings.Cut(key, "/")
		s.audit(ctx, "environment.delete", key, store.Environment{Tenant: tenant, ID: env}, nil)
		s.refresh(ctx, "environment "+key, s.catalog.RefreshEnvironment(ctx, tenant, env))
	}
}

// revokeClient lists a deleted client's tokens as revoked (one entry for
// all of them, store.ClientRevocationPrefix), so that a gateway checking
// JWTs offline refuses them at its next poll; introspection refuses them
// already, the client being gone. Failing that is logged: the client is
// deleted either way.
func (s *Service) revokeClient(ctx context.Context, id string) {
	now := s.now()
	err := s.store.Revoke(ctx, store.Revocation{JTI: store.ClientRevocationPrefix + id, ClientID: id,
		RevokedAt: now, ExpiresAt: now.Add(store.MaxTokenTTL)})
	if err != nil {
		s.log.WarnContext(ctx, "listing a deleted client's tokens as revoked failed; gateways accept its JWTs until they expire",
			"client_id", id, "err", err)
	}
}
