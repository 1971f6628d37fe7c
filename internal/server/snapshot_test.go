package server

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/snapshot"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestStartWithoutDatabase starts real gatehouse processes against a
// PostgreSQL server of the test's own. A node that has run keeps an
// encrypted snapshot; stopped, and started again while PostgreSQL is
// down, it starts from that snapshot: degraded at /readyz, issuing tokens
// its keys sign, refusing admin writes with 503. When PostgreSQL returns
// it serves from the database again, changes included. A node that never
// reached the database has no snapshot and says so.
func TestStartWithoutDatabase(t *testing.T) {
	ctx := context.Background()
	bin := buildGatehouse(t)
	pg := pgtest.NewServer(t)
	kek := newKEK()
	env := procEnv(kek)
	dir := filepath.Join(t.TempDir(), "node")
	args := []string{"--db", pg.DSN(), "--snapshot-every", "200ms"}
	first := startProcIn(t, bin, "first", dir, env, args...)
	creds, err := admin.ReadCredentials(filepath.Join(dir, "admin-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	ac := first.admin(creds)
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

	kekValue, err := keys.LoadKEK(kek, dir)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "a snapshot holding the new client", func() bool {
		d, err := snapshot.Read(dir, kekValue.DeriveKey(snapshotPurpose))
		return err == nil && slices.ContainsFunc(d.Clients, func(x store.Client) bool { return x.ID == c.ClientID })
	})
	first.stop()
	pg.Stop()

	t.Run("no snapshot, no start", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, "serve", "--addr", freeAddr(t), "--data-dir", t.TempDir(), "--db", pg.DSN())
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no snapshot") {
			t.Errorf("a new node with PostgreSQL down: got %v\n%s\nwant an exit saying there is no snapshot", err, out)
		}
	})

	again := startProcIn(t, bin, "again", dir, env, args...)
	if s, body := (&liveNode{url: again.url, http: again.http}).ready(); s != 200 || body["status"] != "degraded" || body["snapshot"] == "" {
		t.Errorf("/readyz started from the snapshot: got %d %v, want 200 degraded with the snapshot's time", s, body)
	}
	status, tok := again.token(c.ClientID, c.ClientSecret, clusterAPI)
	if status != 200 {
		t.Fatalf("token from a node started from its snapshot: got %d", status)
	}
	published, err := again.jwks()
	if err != nil || !published[kidOf(tok.AccessToken)] {
		t.Errorf("the token's key %q is not in the node's JWKS %v (%v)", kidOf(tok.AccessToken), published, err)
	}
	ac = again.admin(creds)
	err = ac.Do(ctx, "POST", "/admin/v1/tenants", map[string]string{"id": "during"}, nil)
	if e := (*adminclient.Error)(nil); !errors.As(err, &e) || e.Status != 503 {
		t.Errorf("admin write from the snapshot: got %v, want 503", err)
	}

	pg.Start()
	node := &liveNode{url: again.url, http: again.http}
	waitFor(t, 20*time.Second, "/readyz ok after PostgreSQL returned", func() bool {
		_, body := node.ready()
		return body["status"] == "ok"
	})
	var later admin.ClientView
	must(ac.Do(ctx, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("later"), Tenant: "acme", Grants: &map[string][]string{clusterAPI: {}}}, &later))
	waitFor(t, 10*time.Second, "a client created after the return to issue tokens", func() bool {
		s, _ := again.token(later.ClientID, later.ClientSecret, clusterAPI)
		return s == 200
	})
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
