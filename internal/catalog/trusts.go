package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/store"
)

// trusts holds the compiled trusts of workload identity federation, by
// key and by issuer (several tenants may trust one issuer). It is guarded
// by the catalog's locks.
type trusts struct {
	byKey    map[string]*federation.Trust
	byIssuer map[string][]*federation.Trust
}

// setTrusts replaces every trust, keeping the compiled form of those that
// did not change; c.mu is held.
func (c *Catalog) setTrusts(list []store.Trust) {
	old := c.trusts.byKey
	c.trusts.byKey = make(map[string]*federation.Trust, len(list))
	for _, t := range list {
		if prev := old[t.Key()]; prev.Same(t) {
			c.trusts.byKey[t.Key()] = prev
		} else {
			c.trusts.byKey[t.Key()] = federation.CompileTrust(t)
		}
	}
	c.indexTrusts()
}

// indexTrusts rebuilds the issuer index, each issuer's trusts in key
// order so that evaluation is deterministic; c.mu is held.
func (c *Catalog) indexTrusts() {
	c.trusts.byIssuer = map[string][]*federation.Trust{}
	for _, t := range c.trusts.byKey {
		c.trusts.byIssuer[t.Issuer] = append(c.trusts.byIssuer[t.Issuer], t)
	}
	for _, ts := range c.trusts.byIssuer {
		slices.SortFunc(ts, func(a, b *federation.Trust) int { return strings.Compare(a.Key(), b.Key()) })
	}
}

// RefreshTrust reloads one trust from the store (removing it if gone) and
// compiles its rules.
func (c *Catalog) RefreshTrust(ctx context.Context, tenant, name string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	t, err := c.st.GetTrust(ctx, tenant, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var compiled *federation.Trust
	if err == nil {
		compiled = federation.CompileTrust(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if compiled == nil {
		delete(c.trusts.byKey, store.TrustKey(tenant, name))
	} else {
		c.trusts.byKey[compiled.Key()] = compiled
	}
	c.indexTrusts()
	return nil
}

// TrustsFor returns the trusts whose issuer is iss, in key order.
func (c *Catalog) TrustsFor(iss string) []*federation.Trust {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.trusts.byIssuer[iss]
}

// Trust returns one trust.
func (c *Catalog) Trust(tenant, name string) (*federation.Trust, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.trusts.byKey[store.TrustKey(tenant, name)]
	return t, ok
}

// HasTrusts reports whether any trust is held, so that the token endpoint
// reads a client assertion's issuer only where one could be trusted.
func (c *Catalog) HasTrusts() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.trusts.byIssuer) > 0
}

// HasIssuer reports whether any trust accepts tokens from iss.
func (c *Catalog) HasIssuer(iss string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.trusts.byIssuer[iss]) > 0
}

// Trusts returns every trust, in no particular order.
func (c *Catalog) Trusts() []*federation.Trust {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*federation.Trust, 0, len(c.trusts.byKey))
	for _, t := range c.trusts.byKey {
		out = append(out, t)
	}
	return out
}
