package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// countingStore counts every read that reaches the database.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) read() { c.reads.Add(1) }

func (c *countingStore) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	c.read()
	return c.Store.GetTenant(ctx, id)
}
func (c *countingStore) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	c.read()
	return c.Store.ListTenants(ctx)
}
func (c *countingStore) GetEnvironment(ctx context.Context, t, id string) (store.Environment, error) {
	c.read()
	return c.Store.GetEnvironment(ctx, t, id)
}
func (c *countingStore) ListEnvironments(ctx context.Context, t string) ([]store.Environment, error) {
	c.read()
	return c.Store.ListEnvironments(ctx, t)
}
func (c *countingStore) GetAPI(ctx context.Context, aud string) (store.API, error) {
	c.read()
	return c.Store.GetAPI(ctx, aud)
}
func (c *countingStore) ListAPIs(ctx context.Context) ([]store.API, error) {
	c.read()
	return c.Store.ListAPIs(ctx)
}
func (c *countingStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	c.read()
	return c.Store.GetClient(ctx, id)
}
func (c *countingStore) ListClients(ctx context.Context) ([]store.Client, error) {
	c.read()
	return c.Store.ListClients(ctx)
}
func (c *countingStore) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	c.read()
	return c.Store.ListKeys(ctx)
}
func (c *countingStore) GetOpaqueToken(ctx context.Context, h string) (store.OpaqueToken, error) {
	c.read()
	return c.Store.GetOpaqueToken(ctx, h)
}
func (c *countingStore) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	c.read()
	return c.Store.ListRevocations(ctx, since)
}
func (c *countingStore) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	c.read()
	return c.Store.ListAudit(ctx, f)
}

// TestNoStoreReadsOnTheHotPath issues tokens of every algorithm, by every
// request shape, and finds that none of them read the database.
func TestNoStoreReadsOnTheHotPath(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	st, err := sqlstore.Open(context.Background(), sqlstore.SQLitePath(cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingStore{Store: st}
	h := startOpts(t, cfg, nil, Options{Store: counting})
	h.seedCatalog()
	for _, alg := range store.SigningAlgs {
		h.do("POST", "/admin/v1/apis", map[string]any{"audience": "https://" + strings.ToLower(alg) + ".example.io", "signing_alg": alg}, nil)
	}
	grants := map[string][]string{platform: {"cdp.audience_exports:r"}, "https://delivery.sitecore.cloud/{tenant}": {"delivery:read"}}
	for _, alg := range store.SigningAlgs {
		grants["https://"+strings.ToLower(alg)+".example.io"] = []string{}
	}
	c := h.newClient(admin.ClientInput{Name: ptr("hot"), Tenant: "acme", Grants: &grants})
	h.do("POST", "/admin/v1/clients/"+c.ClientID+"/rotate-secret", map[string]string{"keep_old": "1h"}, &admin.ClientView{})

	before := counting.reads.Load()
	handler := h.srv.Handler()
	n := 0
	for aud := range grants {
		aud = strings.Replace(aud, "{tenant}", "acme", 1)
		for _, shape := range []struct{ ctype, body string }{
			{"application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", aud)},
			{"application/json", fmt.Sprintf(`{"grant_type":"client_credentials","client_id":%q,"client_secret":%q,"resource":%q}`, c.ClientID, c.ClientSecret, aud)},
		} {
			for i := 0; i < 20; i++ {
				req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(shape.body))
				req.Header.Set("Content-Type", shape.ctype)
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: got %d %s", aud, w.Code, w.Body)
				}
				h.secrets = append(h.secrets, w.Body.String())
				n++
			}
		}
	}
	if reads := counting.reads.Load() - before; reads != 0 {
		t.Errorf("%d token requests read the store %d times, want 0", n, reads)
	}
	// The counter does count: an admin read goes through it.
	h.do("GET", "/admin/v1/clients/"+c.ClientID, nil, nil)
	if counting.reads.Load() == before {
		t.Errorf("the counting store saw no read from the admin API: the test proves nothing")
	}
}
