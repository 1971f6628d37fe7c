package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// liveNode is an in-process gatehouse run as `gatehouse serve` runs it (Run:
// listeners, background work, change follower).
type liveNode struct {
	srv  *Server
	url  string
	http *http.Client
}

// runNode starts a node on db with kek; opts may give it a store. It stops
// when t ends.
func runNode(t *testing.T, db, kek string, opts Options) *liveNode {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.DB, cfg.KEK = t.TempDir(), freeAddr(t), db, kek
	cfg.Issuer = clusterIssuer
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatalf("starting gatehouse: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("stopping gatehouse: %v", err)
		}
	})
	n := &liveNode{srv: srv, url: "http://" + cfg.Addr, http: &http.Client{Timeout: 5 * time.Second}}
	waitReady(t, n.url)
	return n
}

func (n *liveNode) proc() *proc { return &proc{name: "node", url: n.url, http: n.http} }

// ready returns /readyz's status and body.
func (n *liveNode) ready() (int, map[string]string) {
	resp, err := n.http.Get(n.url + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// jtiOf reads the jti from a JWT's payload.
func jtiOf(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		JTI string `json:"jti"`
	}
	json.Unmarshal(raw, &c)
	return c.JTI
}

// TestDegradedWithoutDatabase puts a TCP proxy between a node and
// PostgreSQL and cuts it while tokens are issued and admin writes made.
// (Cutting the proxy stands in for PostgreSQL going down: the real server
// is shared with other tests and must stay up.) The node must go on
// issuing JWTs from memory, say "degraded" at /readyz, refuse admin writes
// with 503 and apply none of them in part, and write the audit events of
// the outage once the database is back.
func TestDegradedWithoutDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	proxy := pgtest.NewProxy(t, dsn)
	n := runNode(t, proxy.DSN(dsn), newKEK(), Options{})
	direct, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	creds, err := admin.ReadCredentials(n.srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	ac := adminclient.New(ctx, n.url, creds)
	do := func(method, path string, in, out any) error { return ac.Do(ctx, method, path, in, out) }
	for _, step := range []error{
		do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil),
		do("POST", "/admin/v1/apis", map[string]any{"audience": clusterAPI, "token_ttl": "1h"}, nil),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	clients := map[string]admin.ClientView{}
	for _, name := range []string{"issuer", "patched", "followed"} {
		var c admin.ClientView
		if err := do("POST", "/admin/v1/clients", admin.ClientInput{Name: ptr(name), Tenant: "acme", Grants: &map[string][]string{clusterAPI: {}}}, &c); err != nil {
			t.Fatal(err)
		}
		clients[name] = c
	}
	c, patched, followed := clients["issuer"], clients["patched"], clients["followed"]

	// Tokens and admin writes run from before the cut to after the return.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var tokenFailures, adminAnswers []string
	var outageJTIs []string
	down := false
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, resp := n.proc().token(c.ClientID, c.ClientSecret, clusterAPI)
			mu.Lock()
			if s != 200 {
				tokenFailures = append(tokenFailures, fmt.Sprintf("%d (database down: %v)", s, down))
			} else if down {
				outageJTIs = append(outageJTIs, jtiOf(resp.AccessToken))
			}
			mu.Unlock()
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// name and lifetime go together: v<i> with i+1 minutes.
			err := do("PATCH", "/admin/v1/clients/"+patched.ClientID, map[string]any{"name": fmt.Sprintf("v%d", i), "token_ttl": fmt.Sprintf("%dm", i+1)}, nil)
			answer := "200"
			var e *adminclient.Error
			if errors.As(err, &e) {
				answer = fmt.Sprintf("%d %s", e.Status, e.Code)
			} else if err != nil {
				answer = err.Error()
			}
			mu.Lock()
			adminAnswers = append(adminAnswers, answer)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	})

	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	down = true
	mu.Unlock()
	proxy.Cut()
	cutAt := time.Now()
	if s, body := n.ready(); s != 200 || body["status"] != "degraded" || body["store"] != "unavailable" || body["keys"] != "ok" {
		t.Errorf("/readyz with the database cut off: got %d %v, want 200 status=degraded store=unavailable keys=ok", s, body)
	}
	err = do("POST", "/admin/v1/tenants", map[string]string{"id": "during"}, nil)
	if e := (*adminclient.Error)(nil); !errors.As(err, &e) || e.Status != 503 || e.Code != "temporarily_unavailable" {
		t.Errorf("admin write with the database cut off: got %v, want 503 temporarily_unavailable", err)
	}
	time.Sleep(1500*time.Millisecond - time.Since(cutAt))
	mu.Lock()
	down = false
	mu.Unlock()
	proxy.Restore()
	t.Logf("database cut off for %s", time.Since(cutAt).Round(time.Millisecond))

	deadline := time.Now().Add(10 * time.Second)
	for s, body := n.ready(); body["status"] != "ok"; s, body = n.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz 10s after the database returned: got %d %v, want status ok", s, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(tokenFailures) > 0 {
		t.Errorf("token requests: got %d failures (%v), want none", len(tokenFailures), tokenFailures[:min(5, len(tokenFailures))])
	}
	if len(outageJTIs) < 10 {
		t.Errorf("tokens issued while the database was cut off: got %d, want at least 10", len(outageJTIs))
	}
	unavailable := 0
	for _, a := range adminAnswers {
		switch a {
		case "200":
		case "503 temporarily_unavailable":
			unavailable++
		default:
			t.Errorf("admin write around the outage: got %q, want 200 or 503 temporarily_unavailable", a)
		}
	}
	if unavailable == 0 {
		t.Errorf("admin writes during the outage: got no 503 among %d answers, want some", len(adminAnswers))
	}
	t.Logf("%d tokens issued during the outage; %d admin writes, %d answered 503", len(outageJTIs), len(adminAnswers), unavailable)

	// Nothing half-applied: the patched client holds one write's name and
	// lifetime together; the tenant refused during the outage is absent.
	got, err := direct.GetClient(ctx, patched.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := strconv.Atoi(strings.TrimPrefix(got.Name, "v")); err != nil || got.TokenTTL != time.Duration(i+1)*time.Minute {
		t.Errorf("patched client after the outage: got name %q with token_ttl %s, want v<i> with i+1 minutes", got.Name, got.TokenTTL)
	}
	if _, err := direct.GetTenant(ctx, "during"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant refused with 503: got %v, want ErrNotFound", err)
	}

	// The outage's audit events reach the store once it is back.
	start := time.Now()
	for {
		events, err := direct.ListAudit(ctx, store.AuditFilter{ClientID: c.ClientID, Kind: store.AuditTokenIssued, Since: cutAt.Add(-time.Second)})
		seen := map[string]bool{}
		for _, e := range events {
			var d struct {
				JTI string `json:"jti"`
			}
			json.Unmarshal([]byte(e.Detail), &d)
			seen[d.JTI] = true
		}
		missing := 0
		for _, jti := range outageJTIs {
			if !seen[jti] {
				missing++
			}
		}
		if err == nil && missing == 0 {
			t.Logf("the outage's %d issuance events were in the store %s after it returned", len(outageJTIs), time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("20s after the database returned: %d of %d issuance events of the outage missing (%v)", missing, len(outageJTIs), err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The node follows changes again: one made elsewhere (straight in the
	// store, as another node would) reaches it.
	if _, err := direct.UpdateClient(ctx, followed.ClientID, func(c store.Client) (store.Client, error) { c.Disabled = true; return c, nil }); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for s, _ := n.proc().token(followed.ClientID, followed.ClientSecret, clusterAPI); s != 401; s, _ = n.proc().token(followed.ClientID, followed.ClientSecret, clusterAPI) {
		if time.Since(start) > propagation {
			t.Fatalf("a client disabled elsewhere after the outage: still %d after %s, want 401", s, propagation)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a change made elsewhere after the outage reached the node in %s", time.Since(start).Round(time.Millisecond))
}
