package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testTenantDeletedEverywhere deletes a tenant with its environment and
// client through node 2 and measures how long nodes 1 and 3 take to
// refuse the client's token requests and to answer its token inactive at
// introspection (asked by a client holding the introspection grant).
func testTenantDeletedEverywhere(t *testing.T, c *cluster) {
	const fast = 20 * time.Millisecond
	c.do(0, "POST", "/admin/v1/tenants", map[string]string{"id": "doomed"}, nil)
	c.do(0, "POST", "/admin/v1/environments", map[string]string{"tenant": "doomed", "id": "qa"}, nil)
	var victim, inspector admin.ClientView
	c.do(0, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("victim"), Tenant: "doomed", Environment: "qa",
		Grants: &map[string][]string{clusterAPI: {}}}, &victim)
	c.do(0, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("inspector"), Tenant: "acme",
		Grants: &map[string][]string{store.IntrospectAudience: {store.ScopeIntrospect}}}, &inspector)
	active := func(p *proc, tok string) (bool, bool) {
		status, body := p.post("/oauth/introspect", url.Values{"client_id": {inspector.ClientID},
			"client_secret": {inspector.ClientSecret}, "token": {tok}})
		var out struct {
			Active bool `json:"active"`
		}
		err := json.Unmarshal(body, &out)
		return out.Active, status == 200 && err == nil
	}
	// tok is one of the tokens the nodes issued (await polls the nodes at
	// once; it is read only after await returns).
	var (
		mu  sync.Mutex
		tok string
	)
	c.await("setup: the doomed tenant's client issues everywhere", []int{0, 1, 2}, 150*time.Millisecond, propagation, func(p *proc) bool {
		s, resp := p.token(victim.ClientID, victim.ClientSecret, clusterAPI)
		if s != 200 {
			return false
		}
		mu.Lock()
		tok = resp.AccessToken
		mu.Unlock()
		a, ok := active(p, resp.AccessToken)
		return ok && a
	})

	if err := c.admins[1].Do(t.Context(), "DELETE", "/admin/v1/tenants/doomed", nil, nil); err == nil || !strings.Contains(err.Error(), "cascade") {
		t.Fatalf("delete without cascade: got %v, want a refusal naming --cascade", err)
	}
	var d store.Deleted
	c.do(1, "DELETE", "/admin/v1/tenants/doomed?cascade=true", nil, &d)
	if d.Tenant != "doomed" || len(d.Clients) != 1 || d.Clients[0] != victim.ClientID || len(d.Environments) != 1 {
		t.Errorf("deleted: got %+v, want the tenant, doomed/qa and %s", d, victim.ClientID)
	}
	c.await("tenant deleted through node2: its client's token requests refused", []int{0, 2}, fast, propagation, func(p *proc) bool {
		s, _ := p.token(victim.ClientID, victim.ClientSecret, clusterAPI)
		return s == 401
	})
	c.await("tenant deleted through node2: its client's token inactive", []int{0, 1, 2}, fast, propagation, func(p *proc) bool {
		a, ok := active(p, tok)
		return ok && !a
	})
	for i := range c.nodes {
		var envs []store.Environment
		c.do(i, "GET", "/admin/v1/environments?tenant=doomed", nil, &envs)
		if len(envs) != 0 {
			t.Errorf("node%d: environments of the deleted tenant: got %v, want none", i+1, envs)
		}
	}
}
