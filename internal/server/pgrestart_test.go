package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// TestPostgresStopAndStart stops a real PostgreSQL server (one of the
// test's own, so the shared one stays up) while a node issues tokens, then
// starts it again. The node goes on issuing JWTs, says "degraded" at
// /readyz, refuses admin writes with 503, and once PostgreSQL is back it
// is ready again, takes admin writes, and every token it issued meanwhile
// is in the audit log.
func TestPostgresStopAndStart(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.NewServer(t)
	n := runNode(t, pg.DSN(), newKEK(), Options{})
	creds, err := admin.ReadCredentials(n.srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	ac := adminclient.New(ctx, n.url, creds)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ac.Do(ctx, "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil))
	must(ac.Do(ctx, "POST", "/admin/v1/apis", map[string]any{"audience": clusterAPI, "token_ttl": "1h"}, nil))
	var c admin.ClientView
	must(ac.Do(ctx, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("steady"), Tenant: "acme", Grants: &map[string][]string{clusterAPI: {}}}, &c))

	stop := make(chan struct{})
	var mu sync.Mutex
	issued, failures := 0, []string{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, _ := n.proc().token(c.ClientID, c.ClientSecret, clusterAPI)
			mu.Lock()
			if s == 200 {
				issued++
			} else {
				failures = append(failures, fmt.Sprint(s))
			}
			mu.Unlock()
		}
	})
	time.Sleep(300 * time.Millisecond)
	pg.Stop()
	stoppedAt := time.Now()
	if s, body := n.ready(); s != 200 || body["status"] != "degraded" {
		t.Errorf("/readyz with PostgreSQL stopped: got %d %v, want 200 degraded", s, body)
	}
	err = ac.Do(ctx, "POST", "/admin/v1/tenants", map[string]string{"id": "during"}, nil)
	if e := (*adminclient.Error)(nil); !errors.As(err, &e) || e.Status != 503 {
		t.Errorf("admin write with PostgreSQL stopped: got %v, want 503", err)
	}
	time.Sleep(time.Second)
	pg.Start()
	t.Logf("PostgreSQL was down for %s", time.Since(stoppedAt).Round(time.Millisecond))

	deadline := time.Now().Add(15 * time.Second)
	for _, body := n.ready(); body["status"] != "ok"; _, body = n.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the node never became ready again: %v", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d token requests failed across the restart: %v", len(failures), issued+len(failures), failures[:min(len(failures), 5)])
	}
	if err := ac.Do(ctx, "POST", "/admin/v1/tenants", map[string]string{"id": "after"}, nil); err != nil {
		t.Errorf("admin write after the restart: %v", err)
	}

	direct, err := sqlstore.Open(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if _, err := direct.GetTenant(ctx, "during"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the tenant refused with 503 exists after all: %v", err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		events, err := direct.ListAudit(ctx, store.AuditFilter{ClientID: c.ClientID, Kind: store.AuditTokenIssued})
		if err == nil && len(events) == issued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log: %d issuance events (%v), want %d", len(events), err, issued)
		}
	}
}
