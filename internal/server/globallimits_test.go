package server

import (
	"database/sql"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestGlobalQuotaProcesses measures a quota across real processes: three
// `gatehouse serve` nodes on one PostgreSQL, a client with 60 tokens an
// hour, requests from several callers spread over the nodes, and one node
// restarted (SIGTERM, then started again) once half the quota is used.
// The nodes must let at most the stated bound through: the quota plus one
// chunk per node process that served the client in the window (four
// processes here). Steady callers, and a flood that outruns the store.
func TestGlobalQuotaProcesses(t *testing.T) {
	bin := buildGatehouse(t)
	for _, tc := range []struct {
		name    string
		callers int
		pace    time.Duration // between one caller's requests
	}{
		{"steady callers", 4, 150 * time.Millisecond},
		{"a flood", 8, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) { testGlobalQuota(t, bin, tc.callers, tc.pace) })
	}
}

func testGlobalQuota(t *testing.T, bin string, callers int, pace time.Duration) {
	const quota = 60
	dsn := pgtest.Schema(t)
	env := procEnv(newKEK())
	args := []string{"--db", dsn, "--issuer", clusterIssuer}
	var mu sync.Mutex // guards nodes while node2 restarts
	nodes := []*proc{startProc(t, bin, "node1", env, args...)}
	creds, err := admin.ReadCredentials(filepath.Join(nodes[0].dir, "admin-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	nodes = append(nodes, startProc(t, bin, "node2", env, args...), startProc(t, bin, "node3", env, args...))
	c := &cluster{t: t, nodes: nodes, creds: creds}
	for _, n := range nodes {
		c.admins = append(c.admins, n.admin(creds))
	}
	c.do(0, "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	for _, api := range []string{clusterAPI, clusterTTLAPI} {
		c.do(0, "POST", "/admin/v1/apis", map[string]any{"audience": api, "token_ttl": "1h"}, nil)
	}
	var limited admin.ClientView
	c.do(0, "POST", "/admin/v1/clients", admin.ClientInput{Name: ptr("limited"), Tenant: "acme",
		Grants: &map[string][]string{clusterAPI: {}}, Limits: &store.Limits{QuotaHour: quota}}, &limited)
	// Nodes apply changes in order: once a client created after the limited
	// one issues everywhere, the limited one is everywhere too (asking for
	// its own tokens would spend its quota).
	marker := c.newClient("marker")
	c.await("the clients reach every node", []int{0, 1, 2}, 100*time.Millisecond, propagation, func(p *proc) bool {
		s, _ := p.token(marker.ClientID, marker.ClientSecret, clusterAPI)
		return s == 200
	})

	// Each caller asks every pace, in turn over the nodes, for run; node2
	// is restarted once half the quota is used.
	const run = 5 * time.Second
	var tried, ok, refused, unreachable, other atomic.Int64
	var lastOK atomic.Int64 // when the last token came, Unix nanoseconds
	var refusals sync.Map   // when each refusal came
	var wg sync.WaitGroup
	began := time.Now()
	for w := range callers {
		wg.Go(func() {
			for i := w; time.Since(began) < run; i++ {
				tried.Add(1)
				mu.Lock()
				n := nodes[i%len(nodes)]
				mu.Unlock()
				switch s, _ := n.token(limited.ClientID, limited.ClientSecret, clusterAPI); s {
				case 200:
					ok.Add(1)
					lastOK.Store(time.Now().UnixNano())
				case 429:
					refused.Add(1)
					refusals.Store(refused.Load(), time.Now().UnixNano())
				case 0:
					unreachable.Add(1)
				default:
					other.Add(1)
				}
				time.Sleep(pace)
			}
		})
	}
	for ok.Load() < quota/2 && time.Since(began) < run {
		time.Sleep(5 * time.Millisecond)
	}
	beforeRestart := ok.Load()
	nodes[1].stop()
	again := startProc(t, bin, "node2-restarted", env, args...)
	mu.Lock()
	nodes[1] = again
	mu.Unlock()
	wg.Wait()
	// Refusals before the last token was let through came while budget
	// was left: a node's lease spent before its top-up came (Retry-After 1).
	var early int
	refusals.Range(func(_, at any) bool {
		if at.(int64) < lastOK.Load() {
			early++
		}
		return true
	})
	attempts := tried.Load()
	processes := int64(len(nodes) + 1)
	bound := quota + processes*limits.Chunk(quota)
	got := ok.Load()
	t.Logf("quota %d/h, %d callers (a request every %s each) over 3 nodes, node2 restarted after %d tokens: %d of %d requests let through (bound %d), %d refused (429; %d of them before the last token, while budget was left), %d during the restart, %d other",
		quota, callers, pace, beforeRestart, got, attempts, bound, refused.Load(), early, unreachable.Load(), other.Load())
	if got > bound {
		t.Errorf("let through: got %d, want at most %d (the quota and a chunk of %d for each of %d node processes)", got, bound, limits.Chunk(quota), processes)
	}
	if got < quota-int64(len(nodes))*limits.Chunk(quota) {
		t.Errorf("let through: got %d, want the quota of %d used up, less at most a chunk a node", got, quota)
	}
	if t.Failed() {
		t.Logf("node1's log:\n%s", nodes[0].logs.String())
	}
	if other.Load() != 0 {
		t.Errorf("answers other than 200, 429 or no connection: got %d", other.Load())
	}
	// The shared counter holds what every node let through (and leases
	// still held, given back by nodes that stop).
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var counted int64
	if err := db.QueryRowContext(t.Context(), `SELECT used FROM limit_counters WHERE counter_key = $1`, "client:"+limited.ClientID+":h").Scan(&counted); err != nil {
		t.Fatalf("reading the shared counter: %v", err)
	}
	t.Logf("the shared counter stands at %d", counted)
	if counted < got {
		t.Errorf("shared counter: got %d, want at least the %d tokens let through", counted, got)
	}
}
