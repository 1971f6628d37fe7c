package server

import (
	"database/sql"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestAuditSurvivesKill9UnderLoad is issue #13's count: a real node on a
// real PostgreSQL issues tokens to eight concurrent clients and is killed
// with SIGKILL mid-load, three times; after each restart (same data dir)
// every token a client received has its token.issued event in the
// database, matched by jti. The README publishes the figures it logs.
func TestAuditSurvivesKill9UnderLoad(t *testing.T) {
	const (
		rounds  = 3
		clients = 8
		load    = 2 * time.Second
		api     = "https://orders.crash.test"
	)
	bin := buildGatehouse(t)
	dsn := pgtest.Schema(t)
	env := procEnv(newKEK())
	args := []string{"--db", dsn, "--issuer", "https://gatehouse.crash.test"}
	node := startProc(t, bin, "node", env, args...)
	creds, err := admin.ReadCredentials(node.dir + "/admin-client.json")
	if err != nil {
		t.Fatal(err)
	}
	ac := node.admin(creds)
	do := func(method, path string, in, out any) {
		if err := ac.Do(t.Context(), method, path, in, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	do("POST", "/admin/v1/apis", map[string]any{"audience": api, "token_ttl": "1h", "signing_alg": "EdDSA"}, nil)
	var c admin.ClientView
	do("POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("load"), Tenant: "acme", Grants: &map[string][]string{api: {}}}, &c)

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var received []string
	for round := 1; round <= rounds; round++ {
		jtis := issueUntilKilled(t, node, c, api, clients, load)
		if len(jtis) == 0 {
			t.Fatalf("round %d: no token was issued before the kill:\n%s", round, node.logs.String())
		}
		received = append(received, jtis...)
		node = startProcIn(t, bin, "node", node.dir, env, args...)
		var missing []string
		var events int
		deadline := time.Now().Add(15 * time.Second)
		for {
			have := issuedJTIs(t, db, c.ClientID)
			events, missing = len(have), nil
			for _, j := range received {
				if !have[j] {
					missing = append(missing, j)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("round %d: killed with SIGKILL under load; tokens received so far %d, with an event %d, issuance events stored %d (the rest: responses the kill cut off)",
			round, len(received), len(received)-len(missing), events)
		if len(missing) > 0 {
			t.Errorf("round %d: %d of %d tokens received have no token.issued event (first: %s)", round, len(missing), len(received), missing[0])
		}
	}
}

// issueUntilKilled runs n clients asking for tokens, kills the node with
// SIGKILL after d, and returns the jtis of the tokens the clients received.
func issueUntilKilled(t *testing.T, p *proc, c admin.ClientView, api string, n int, d time.Duration) []string {
	t.Helper()
	var mu sync.Mutex
	var jtis []string
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				status, resp := p.token(c.ClientID, c.ClientSecret, api)
				if status != 200 {
					return // the node is gone (status 0) or refusing: stop
				}
				jti := jtiOf(resp.AccessToken)
				if jti == "" {
					t.Errorf("a token without a jti: %q", resp.AccessToken)
					return
				}
				mu.Lock()
				jtis = append(jtis, jti)
				mu.Unlock()
			}
		})
	}
	time.Sleep(d) // the load runs for d; the kill is the point of the test
	p.kill()
	wg.Wait()
	return jtis
}

// issuedJTIs returns the jtis of the client's token.issued events.
func issuedJTIs(t *testing.T, db *sql.DB, clientID string) map[string]bool {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT detail FROM audit_events WHERE kind = 'token.issued' AND client_id = $1`, clientID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var detail string
		if err := rows.Scan(&detail); err != nil {
			t.Fatal(err)
		}
		var d struct {
			JTI string `json:"jti"`
		}
		json.Unmarshal([]byte(detail), &d)
		have[d.JTI] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return have
}
