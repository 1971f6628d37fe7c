package server

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// The multi-node tests run three `gatehouse serve` processes on one
// PostgreSQL (a schema of their own), as a deployment behind a load
// balancer does: one issuer, one KEK.
const (
	clusterIssuer = "https://gatehouse.cluster.test"
	clusterAPI    = "https://orders.cluster.test"
	clusterTTLAPI = "https://ttl.cluster.test"
	// propagation is what DESIGN.md promises: a change made through one
	// node reaches the others within it.
	propagation  = 2 * time.Second
	publishDelay = 3 * time.Second
)

type cluster struct {
	t      *testing.T
	nodes  []*proc
	admins []*adminclient.Client
	creds  admin.CredentialsFile
}

// startCluster starts node 1 on an empty schema (it creates the keys and
// the bootstrap admin client, whose credentials only it writes), then
// nodes 2 and 3, which use node 1's credentials.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := buildGatehouse(t)
	dsn := pgtest.Schema(t)
	env := procEnv(newKEK())
	args := []string{"--db", dsn, "--issuer", clusterIssuer, "--key-publish-delay", publishDelay.String()}
	c := &cluster{t: t}
	start := time.Now()
	c.nodes = append(c.nodes, startProc(t, bin, "node1", env, args...))
	creds, err := admin.ReadCredentials(filepath.Join(c.nodes[0].dir, "admin-client.json"))
	if err != nil {
		t.Fatalf("node1's admin credentials: %v", err)
	}
	c.creds = creds
	c.nodes = append(c.nodes, startProc(t, bin, "node2", env, args...), startProc(t, bin, "node3", env, args...))
	for _, n := range c.nodes {
		c.admins = append(c.admins, n.admin(creds))
	}
	t.Logf("three nodes ready in %s", time.Since(start).Round(time.Millisecond))
	return c
}

// do calls node i's admin API and fails the test on error.
func (c *cluster) do(i int, method, path string, in, out any) {
	c.t.Helper()
	if err := c.admins[i].Do(context.Background(), method, path, in, out); err != nil {
		c.t.Fatalf("node%d: %s %s: %v", i+1, method, path, err)
	}
}

// newClient creates a client (through node 1) granted both test APIs.
func (c *cluster) newClient(name string) admin.ClientView {
	c.t.Helper()
	var out admin.ClientView
	c.do(0, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr(name), Tenant: "acme",
		Grants: &map[string][]string{clusterAPI: {}, clusterTTLAPI: {}}}, &out)
	return out
}

// await polls cond on each of nodes until it holds, every interval, and
// returns how long each took; it fails the test for a node still not
// there after limit.
func (c *cluster) await(what string, nodes []int, interval, limit time.Duration, cond func(p *proc) bool) {
	c.t.Helper()
	start := time.Now()
	took := make([]time.Duration, len(nodes))
	var wg sync.WaitGroup
	for j, i := range nodes {
		wg.Go(func() {
			for !cond(c.nodes[i]) {
				if time.Since(start) > limit {
					took[j] = -1
					return
				}
				time.Sleep(interval)
			}
			took[j] = time.Since(start)
		})
	}
	wg.Wait()
	var report []string
	for j, i := range nodes {
		if took[j] < 0 {
			c.t.Errorf("%s: node%d not within %s", what, i+1, limit)
			report = append(report, fmt.Sprintf("node%d: over %s", i+1, limit))
			continue
		}
		report = append(report, fmt.Sprintf("node%d: %s", i+1, took[j].Round(time.Millisecond)))
	}
	c.t.Logf("%s: %s", what, strings.Join(report, ", "))
}

func TestMultiNode(t *testing.T) {
	c := startCluster(t)
	c.do(0, "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	c.do(0, "POST", "/admin/v1/apis", map[string]any{"audience": clusterAPI, "token_ttl": "1h"}, nil)
	c.do(0, "POST", "/admin/v1/apis", map[string]any{"audience": clusterTTLAPI, "token_ttl": "1h", "signing_alg": "ES256"}, nil)
	main := c.newClient("main")
	c.await("a client created through node1 issues everywhere", []int{0, 1, 2}, 150*time.Millisecond, propagation, func(p *proc) bool {
		s, _ := p.token(main.ClientID, main.ClientSecret, clusterAPI)
		return s == 200
	})

	t.Run("changes reach every node", func(t *testing.T) { testChangesReachEveryNode(t, c, main) })
	t.Run("a deleted tenant leaves every node", func(t *testing.T) { testTenantDeletedEverywhere(t, c) })
	t.Run("a rotated key is published everywhere before it signs", func(t *testing.T) { testClusterKeyRotation(t, c, main) })
	t.Run("a killed node costs the others nothing", func(t *testing.T) { testKilledNode(t, c, main) })

	for _, n := range c.nodes {
		for _, secret := range []string{main.ClientSecret, c.creds.ClientSecret} {
			if strings.Contains(n.logs.String(), secret) {
				t.Errorf("%s: a client secret appeared in the log", n.name)
			}
		}
	}
}

// testChangesReachEveryNode makes each kind of change through one node and
// measures how long the other two take to act on it. Refused requests
// count towards the failed-authentication throttle (10 a minute per
// client), so each change has its own client, and checks that wait for a
// refusal to end poll gently.
func testChangesReachEveryNode(t *testing.T, c *cluster, main admin.ClientView) {
	const fast, gentle = 20 * time.Millisecond, 150 * time.Millisecond
	status := func(cl admin.ClientView, secret string) func(p *proc) int {
		return func(p *proc) int { s, _ := p.token(cl.ClientID, secret, clusterAPI); return s }
	}
	disabled, enabled, rotated, deleted, revoker := c.newClient("disable"), c.newClient("enable"), c.newClient("rotate"), c.newClient("delete"), c.newClient("revoke")
	c.do(0, "POST", "/admin/v1/clients/"+enabled.ClientID+"/disable", nil, nil)
	// Nodes apply changes in order: once a client created last issues
	// everywhere, the changes before it are everywhere too.
	marker := c.newClient("marker")
	c.await("setup: the clients reach every node", []int{0, 1, 2}, gentle, propagation, func(p *proc) bool {
		return status(marker, marker.ClientSecret)(p) == 200
	})
	for _, n := range c.nodes {
		if s := status(enabled, enabled.ClientSecret)(n); s != 401 {
			t.Fatalf("%s: the client disabled in setup: got %d, want 401", n.name, s)
		}
	}

	t.Run("client disabled", func(t *testing.T) {
		c.do(0, "POST", "/admin/v1/clients/"+disabled.ClientID+"/disable", nil, nil)
		c.await("client disabled through node1", []int{1, 2}, fast, propagation, func(p *proc) bool {
			return status(disabled, disabled.ClientSecret)(p) == 401
		})
	})
	t.Run("client enabled", func(t *testing.T) {
		c.do(1, "POST", "/admin/v1/clients/"+enabled.ClientID+"/enable", nil, nil)
		c.await("client enabled through node2", []int{0, 2}, gentle, propagation, func(p *proc) bool {
			return status(enabled, enabled.ClientSecret)(p) == 200
		})
	})
	t.Run("secret rotated", func(t *testing.T) {
		var out admin.ClientView
		c.do(2, "POST", "/admin/v1/clients/"+rotated.ClientID+"/rotate-secret", nil, &out)
		c.await("secret rotated through node3", []int{0, 1}, gentle, propagation, func(p *proc) bool {
			return status(rotated, out.ClientSecret)(p) == 200 && status(rotated, rotated.ClientSecret)(p) == 401
		})
	})
	t.Run("API changed", func(t *testing.T) {
		c.do(0, "PATCH", "/admin/v1/apis/"+url.PathEscape(clusterTTLAPI), map[string]any{"token_ttl": "10m"}, nil)
		c.await("API lifetime changed through node1", []int{1, 2}, fast, propagation, func(p *proc) bool {
			s, resp := p.token(main.ClientID, main.ClientSecret, clusterTTLAPI)
			return s == 200 && resp.ExpiresIn == 600
		})
	})
	t.Run("JWT revoked", func(t *testing.T) {
		s, resp := c.nodes[1].token(revoker.ClientID, revoker.ClientSecret, clusterAPI)
		if s != 200 {
			t.Fatalf("token: got %d, want 200", s)
		}
		for _, i := range []int{0, 2} {
			if ok, err := c.nodes[i].active(revoker.ClientID, revoker.ClientSecret, resp.AccessToken); !ok || err != nil {
				t.Fatalf("node%d: introspection before revoking: got active=%v, %v; want true", i+1, ok, err)
			}
		}
		if s, body := c.nodes[1].post("/oauth/revoke", url.Values{"client_id": {revoker.ClientID},
			"client_secret": {revoker.ClientSecret}, "token": {resp.AccessToken}}); s != 200 {
			t.Fatalf("revoke through node2: got %d %s, want 200", s, body)
		}
		c.await("JWT revoked through node2", []int{0, 2}, fast, propagation, func(p *proc) bool {
			ok, err := p.active(revoker.ClientID, revoker.ClientSecret, resp.AccessToken)
			return err == nil && !ok
		})
	})
	t.Run("tenant quota", func(t *testing.T) {
		// A tenant quota puts RateLimit-* headers on its clients' tokens.
		limit := func(p *proc) string {
			resp, err := p.http.PostForm(p.url+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {main.ClientID}, "client_secret": {main.ClientSecret}, "audience": {clusterAPI}})
			if err != nil {
				return err.Error()
			}
			resp.Body.Close()
			return resp.Header.Get("RateLimit-Limit")
		}
		c.do(1, "PATCH", "/admin/v1/tenants/acme", map[string]any{"limits": map[string]int{"quota_hour": 100000}}, nil)
		c.await("tenant quota set through node2", []int{0, 2}, fast, propagation, func(p *proc) bool { return limit(p) == "100000" })
		c.do(1, "PATCH", "/admin/v1/tenants/acme", map[string]any{"limits": map[string]int{}}, nil)
		c.await("tenant quota removed through node2", []int{0, 2}, fast, propagation, func(p *proc) bool { return limit(p) == "" })
	})
	t.Run("client deleted", func(t *testing.T) {
		c.do(2, "DELETE", "/admin/v1/clients/"+deleted.ClientID, nil, nil)
		c.await("client deleted through node3", []int{0, 1}, fast, propagation, func(p *proc) bool {
			return status(deleted, deleted.ClientSecret)(p) == 401
		})
	})
}

// testClusterKeyRotation rotates through node 2 and watches, round by
// round, every node's JWKS and the key every node signs with. Within a
// round the JWKS are read before the tokens are asked for, so a token
// signed with a key no node had published yet is caught.
func testClusterKeyRotation(t *testing.T, c *cluster, main admin.ClientView) {
	var keys []admin.KeyView
	rotated := time.Now()
	c.do(1, "POST", "/admin/v1/keys/rotate", nil, &keys)
	var next []string // the new keys, one per algorithm
	var newRS256 string
	for _, k := range keys {
		if k.State == "next" {
			next = append(next, k.KID)
			if k.Alg == "RS256" {
				newRS256 = k.KID
			}
		}
	}
	if len(next) != 3 || newRS256 == "" {
		t.Fatalf("keys after rotating: got %+v, want a next key for each of the three algorithms", keys)
	}
	published := make([]time.Duration, len(c.nodes)) // when all of next appeared in a node's JWKS
	signing := make([]time.Duration, len(c.nodes))   // when a node first signed with newRS256
	deadline := rotated.Add(publishDelay + 8*time.Second)
	for round := 0; ; round++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: published %v, signing %v; want every node signing with %s", time.Since(rotated), published, signing, newRS256)
		}
		for i, n := range c.nodes {
			kids, err := n.jwks()
			if err != nil {
				t.Fatalf("%s: JWKS: %v", n.name, err)
			}
			all := true
			for _, kid := range next {
				all = all && kids[kid]
			}
			if all && published[i] == 0 {
				published[i] = time.Since(rotated)
			}
		}
		done := true
		for i, n := range c.nodes {
			s, resp := n.token(main.ClientID, main.ClientSecret, clusterAPI)
			if s != 200 {
				t.Fatalf("%s: token during rotation: got %d, want 200", n.name, s)
			}
			if kidOf(resp.AccessToken) != newRS256 {
				done = false
				continue
			}
			if signing[i] == 0 {
				signing[i] = time.Since(rotated)
			}
			for j, m := range c.nodes {
				if published[j] == 0 {
					t.Errorf("round %d: %s signed with %s before %s published it", round, n.name, newRS256, m.name)
				}
			}
		}
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	first, last := signing[0], signing[0]
	for i := range c.nodes {
		if published[i] > propagation {
			t.Errorf("node%d published the new keys %s after the rotation, want within %s", i+1, published[i], propagation)
		}
		if signing[i] < publishDelay {
			t.Errorf("node%d signed with the new key %s after the rotation, before the publish delay (%s)", i+1, signing[i], publishDelay)
		}
		first, last = min(first, signing[i]), max(last, signing[i])
	}
	if last-first > propagation {
		t.Errorf("the nodes switched to the new key %s apart, want within %s", last-first, propagation)
	}
	t.Logf("key rotation through node2: published after %v, signing after %v", published, signing)
}

// testKilledNode kills node 1 (SIGKILL: no graceful shutdown, its database
// connections just drop) while nodes 2 and 3 are under load.
func testKilledNode(t *testing.T, c *cluster, main admin.ClientView) {
	const length, killAt = 2 * time.Second, 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), length)
	defer cancel()
	var requests, failures atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for _, n := range c.nodes[1:] {
		for range 4 {
			wg.Go(func() {
				for ctx.Err() == nil {
					s, resp := n.token(main.ClientID, main.ClientSecret, clusterAPI)
					requests.Add(1)
					if s != 200 || resp.AccessToken == "" {
						failures.Add(1)
						first.CompareAndSwap(nil, fmt.Sprintf("%s: status %d", n.name, s))
					}
				}
			})
		}
	}
	time.Sleep(killAt)
	c.nodes[0].kill()
	wg.Wait()
	if failures.Load() > 0 {
		t.Errorf("load on node2 and node3 while node1 was killed: got %d failures of %d requests (first: %v), want none", failures.Load(), requests.Load(), first.Load())
	}
	if requests.Load() < 100 {
		t.Errorf("load: got %d requests in %s, want at least 100", requests.Load(), length)
	}
	t.Logf("node1 killed under load: %d requests to node2 and node3, %d failed", requests.Load(), failures.Load())
	// The survivors still follow each other.
	var other admin.ClientView
	c.do(1, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("after"), Tenant: "acme",
		Grants: &map[string][]string{clusterAPI: {}}}, &other)
	c.await("a client created through node2 after node1 died", []int{2}, 150*time.Millisecond, propagation, func(p *proc) bool {
		s, _ := p.token(other.ClientID, other.ClientSecret, clusterAPI)
		return s == 200
	})
}
