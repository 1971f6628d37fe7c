package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Catalog is the in-memory view of clients, APIs and environments. Values it
// returns are shared and must not be modified.
type Catalog struct {
	st store.Store

	// writeMu serialises Reload and the Refresh methods, each from its
	// read of the store to its write here, so that one that read older
	// data never overwrites one that read newer (a full reload that began
	// before a client was disabled must not bring it back). Lookups take
	// only mu.
	writeMu sync.Mutex

	mu        sync.RWMutex
	clients   map[string]*store.Client
	apis      map[string]*store.API // by audience as stored (templates included)
	templates []*store.API          // APIs whose audience has {tenant}
	services  map[string]*store.API // by service name
	envs      map[envKey]store.Environment
	tenants   map[string]store.Tenant
	trusts    trusts
}

type envKey struct{ tenant, id string }

// New returns an empty catalog over st; call Reload to fill it.
func New(st store.Store) *Catalog {
	return &Catalog{
		st:       st,
		clients:  map[string]*store.Client{},
		apis:     map[string]*store.API{},
		services: map[string]*store.API{},
		envs:     map[envKey]store.Environment{},
		tenants:  map[string]store.Tenant{},
		trusts:   trusts{byKey: map[string]*federation.Trust{}, byIssuer: map[string][]*federation.Trust{}},
	}
}

// Reload replaces the whole catalog with the store's contents.
func (c *Catalog) Reload(ctx context.Context) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	clients, err := c.st.ListClients(ctx)
	if err != nil {
		return err
	}
	apis, err := c.st.ListAPIs(ctx)
	if err != nil {
		return err
	}
	envs, err := c.st.ListEnvironments(ctx, "")
	if err != nil {
		return err
	}
	tenants, err := c.st.ListTenants(ctx)
	if err != nil {
		return err
	}
	trustList, err := c.st.ListTrusts(ctx, "")
	if err != nil {
		return err
	}
	tm := make(map[string]store.Tenant, len(tenants))
	for _, t := range tenants {
		tm[t.ID] = t
	}
	cm := make(map[string]*store.Client, len(clients))
	for i := range clients {
		cm[clients[i].ID] = &clients[i]
	}
	em := make(map[envKey]store.Environment, len(envs))
	for _, e := range envs {
		em[envKey{e.Tenant, e.ID}] = e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients, c.envs, c.tenants = cm, em, tm
	c.setTrusts(trustList)
	c.apis = map[string]*store.API{}
	for i := range apis {
		c.apis[apis[i].Audience] = &apis[i]
	}
	c.reindexAPIs()
	return nil
}

// reindexAPIs rebuilds the template and service indexes; c.mu is held.
func (c *Catalog) reindexAPIs() {
	c.templates = c.templates[:0]
	c.services = map[string]*store.API{}
	for _, a := range c.apis {
		if a.IsTemplate() {
			c.templates = append(c.templates, a)
		}
		if a.Service != "" {
			c.services[a.Service] = a
		}
	}
}

// RefreshClient reloads one client from the store (removing it if gone).
func (c *Catalog) RefreshClient(ctx context.Context, id string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	cl, err := c.st.GetClient(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.clients, id)
	} else {
		c.clients[id] = &cl
	}
	return nil
}

// RefreshAPI reloads one API from the store (removing it if gone).
func (c *Catalog) RefreshAPI(ctx context.Context, audience string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	a, err := c.st.GetAPI(ctx, audience)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.apis, audience)
	} else {
		c.apis[audience] = &a
	}
	c.reindexAPIs()
	return nil
}

// RefreshEnvironment reloads one environment from the store.
func (c *Catalog) RefreshEnvironment(ctx context.Context, tenant, id string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	e, err := c.st.GetEnvironment(ctx, tenant, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.envs, envKey{tenant, id})
	} else {
		c.envs[envKey{tenant, id}] = e
	}
	return nil
}

// RefreshTenant reloads one tenant from the store.
func (c *Catalog) RefreshTenant(ctx context.Context, id string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	t, err := c.st.GetTenant(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.tenants, id)
	} else {
		c.tenants[id] = t
	}
	return nil
}

// Apply brings the catalog up to date with one change from the store's
// feed by reading the changed entry again. Kinds the catalog does not hold
// (signing keys, revocations) are ignored.
func (c *Catalog) Apply(ctx context.Context, ch store.Change) error {
	switch ch.Kind {
	case store.ChangeClient:
		return c.RefreshClient(ctx, ch.Key)
	case store.ChangeAPI:
		return c.RefreshAPI(ctx, ch.Key)
	case store.ChangeTenant:
		return c.RefreshTenant(ctx, ch.Key)
	case store.ChangeEnvironment:
		tenant, id, ok := strings.Cut(ch.Key, "/")
		if !ok {
			return fmt.Errorf("change %d: environment key %q is not tenant/id", ch.ID, ch.Key)
		}
		return c.RefreshEnvironment(ctx, tenant, id)
	case store.ChangeTrust:
		tenant, name, ok := strings.Cut(ch.Key, "/")
		if !ok {
			return fmt.Errorf("change %d: trust key %q is not tenant/name", ch.ID, ch.Key)
		}
		return c.RefreshTrust(ctx, tenant, name)
	}
	return nil
}

// TenantLimits returns a tenant's quotas (zero when it has none).
func (c *Catalog) TenantLimits(id string) store.Limits {
	c.mu.RLock()
	t := c.tenants[id]
	c.mu.RUnlock()
	return t.Limits
}

// Client returns a client by id.
func (c *Catalog) Client(id string) (*store.Client, bool) {
	c.mu.RLock()
	cl, ok := c.clients[id]
	c.mu.RUnlock()
	return cl, ok
}

// Resolve finds the API for a requested audience as seen by a client of
// tenant: an exact audience, or a template whose {tenant} is that tenant.
// It returns the API and the key under which grants name it (the audience
// as stored, template included).
func (c *Catalog) Resolve(audience, tenant string) (*store.API, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a, ok := c.apis[audience]; ok && !a.IsTemplate() {
		return a, true
	}
	if tenant == "" {
		return nil, false
	}
	for _, a := range c.templates {
		if strings.Replace(a.Audience, store.TenantPlaceholder, tenant, 1) == audience {
			return a, true
		}
	}
	return nil, false
}

// Service returns the API reached at /{service}/v1/oauth2/token.
func (c *Catalog) Service(name string) (*store.API, bool) {
	c.mu.RLock()
	a, ok := c.services[name]
	c.mu.RUnlock()
	return a, ok
}

// Environment returns one environment.
func (c *Catalog) Environment(tenant, id string) (store.Environment, bool) {
	c.mu.RLock()
	e, ok := c.envs[envKey{tenant, id}]
	c.mu.RUnlock()
	return e, ok
}

// Counts reports how many clients and APIs are loaded.
func (c *Catalog) Counts() (clients, apis int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.clients), len(c.apis)
}
