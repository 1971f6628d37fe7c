package server

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// noNotify is a PostgreSQL store without LISTEN/NOTIFY, as CockroachDB
// and YugabyteDB are: nodes have only the polling path.
type noNotify struct{ store.Store }

func (noNotify) ListenChanges(context.Context) (store.ChangeListener, error) {
	return nil, store.ErrNotSupported
}

// TestPollingAloneReachesOtherNodes: without notifications a change still
// reaches another node within DESIGN.md's two seconds.
func TestPollingAloneReachesOtherNodes(t *testing.T) {
	dsn, kek := pgtest.Schema(t), newKEK()
	open := func() store.Store {
		st, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return noNotify{st}
	}
	a := runNode(t, dsn, kek, Options{Store: open()})
	b := runNode(t, dsn, kek, Options{Store: open()})
	creds, err := admin.ReadCredentials(a.srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	ac := adminclient.New(context.Background(), a.url, creds)
	var c admin.ClientView
	for _, step := range []struct {
		path string
		in   any
		out  any
	}{
		{"/admin/v1/tenants", map[string]string{"id": "acme"}, nil},
		{"/admin/v1/apis", map[string]any{"audience": clusterAPI}, nil},
		{"/admin/v1/clients", admin.ClientInput{Name: ptr("polled"), Tenant: "acme", Grants: &map[string][]string{clusterAPI: {}}}, &c},
	} {
		if err := ac.Do(context.Background(), "POST", step.path, step.in, step.out); err != nil {
			t.Fatalf("POST %s: %v", step.path, err)
		}
	}
	// Refused token requests count towards the failed-authentication
	// throttle, so the creation is watched in the catalog, the refusal
	// at the token endpoint.
	await := func(what string, done func() bool) {
		t.Helper()
		start := time.Now()
		for !done() {
			if time.Since(start) > propagation {
				t.Fatalf("%s: not on the other node after %s", what, propagation)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s: reached the other node in %s by polling", what, time.Since(start).Round(time.Millisecond))
	}
	await("client created", func() bool { _, ok := b.srv.Catalog().Client(c.ClientID); return ok })
	if s, _ := b.proc().token(c.ClientID, c.ClientSecret, clusterAPI); s != 200 {
		t.Fatalf("token from the other node: got %d, want 200", s)
	}
	if err := ac.Do(context.Background(), "POST", "/admin/v1/clients/"+c.ClientID+"/disable", nil, nil); err != nil {
		t.Fatal(err)
	}
	await("client disabled", func() bool { s, _ := b.proc().token(c.ClientID, c.ClientSecret, clusterAPI); return s == 401 })
}

// TestRotationAgreedBetweenNodes starts three nodes' key rotators at once
// on an empty database, then has all three find automatic rotation due at
// the same moment, then all three promote: the store ends with one current
// key per algorithm at each step, and one next key, and the nodes sign alike.
func TestRotationAgreedBetweenNodes(t *testing.T) {
	dsn := pgtest.Schema(t)
	kek, err := keys.LoadKEK(newKEK(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var rotators []*keys.Rotator
	for range 3 {
		st, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rotators = append(rotators, &keys.Rotator{Store: st, KEK: kek, Set: keys.NewSet(), Log: log, Now: clock.Now,
			PublishDelay: time.Minute, Every: time.Hour, MaxTokenTTL: func() time.Duration { return time.Hour }})
	}
	all := func(what string, fn func(r *keys.Rotator) error) {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(rotators))
		for i, r := range rotators {
			wg.Go(func() { <-start; errs[i] = fn(r) })
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s on node %d: got %v, want nil", what, i+1, err)
			}
		}
		// What the change follower does on every node after a key change.
		for _, r := range rotators {
			if err := r.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	states := func(want map[string]int) []store.SigningKey {
		t.Helper()
		ks, err := rotators[0].List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, alg := range store.SigningAlgs {
			got := map[string]int{}
			for _, k := range ks {
				if k.Alg == alg {
					got[k.State]++
				}
			}
			for state, n := range want {
				if got[state] != n {
					t.Errorf("%s keys in state %s: got %d, want %d", alg, state, got[state], n)
				}
			}
			for _, r := range rotators[1:] {
				if r.Set.Current(alg).KID != rotators[0].Set.Current(alg).KID {
					t.Errorf("%s: the nodes sign with different keys", alg)
				}
			}
		}
		return ks
	}

	all("Ensure", func(r *keys.Rotator) error { return r.Ensure(context.Background()) })
	states(map[string]int{store.KeyCurrent: 1, store.KeyNext: 0})
	clock.Add(2 * time.Hour) // automatic rotation is due everywhere
	all("Tick (rotation due)", func(r *keys.Rotator) error { return r.Tick(context.Background()) })
	states(map[string]int{store.KeyCurrent: 1, store.KeyNext: 1})
	clock.Add(time.Minute) // the publish delay is over everywhere
	all("Tick (promotion due)", func(r *keys.Rotator) error { return r.Tick(context.Background()) })
	states(map[string]int{store.KeyCurrent: 1, store.KeyNext: 0})
}

// TestMigrateCommand runs `gatehouse migrate` on a fresh PostgreSQL schema
// and a fresh SQLite file: it applies every migration, then none, and the
// result is a database gatehouse opens.
func TestMigrateCommand(t *testing.T) {
	bin := buildGatehouse(t)
	sqlite := filepath.Join(t.TempDir(), "data", "gatehouse.db")
	tests := []struct {
		name string
		args []string
		env  []string
		db   string
	}{
		{"postgres", []string{"--db", pgtest.Schema(t)}, nil, ""},
		{"sqlite flag", []string{"--db", sqlite}, nil, sqlite},
		{"sqlite from GATEHOUSE_DB", nil, []string{"GATEHOUSE_DB=" + filepath.Join(t.TempDir(), "env.db")}, ""},
	}
	tests[0].db = tests[0].args[1]
	tests[2].db = tests[2].env[0][len("GATEHOUSE_DB="):]
	applied := regexp.MustCompile(`^applied (\d+) migration\(s\)\n$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func() int {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, append([]string{"migrate"}, tt.args...)...)
				cmd.Env = append(procEnv(""), tt.env...)
				out, err := cmd.Output()
				m := applied.FindStringSubmatch(string(out))
				if err != nil || m == nil {
					t.Fatalf("gatehouse migrate: got %q, %v; want \"applied N migration(s)\"", out, err)
				}
				n, _ := strconv.Atoi(m[1])
				return n
			}
			if n := run(); n < 3 {
				t.Errorf("first migrate: got %d applied, want every embedded migration (at least 3)", n)
			}
			if n := run(); n != 0 {
				t.Errorf("second migrate: got %d applied, want 0", n)
			}
			st, err := sqlstore.Open(context.Background(), tt.db)
			if err != nil {
				t.Fatalf("opening the migrated database: %v", err)
			}
			defer st.Close()
			if n, err := sqlstore.Migrate(context.Background(), tt.db); n != 0 || err != nil {
				t.Errorf("Migrate after the command: got %d, %v; want 0, nil", n, err)
			}
			if _, err := st.LatestChange(context.Background()); err != nil {
				t.Errorf("LatestChange on the migrated database: got %v, want nil", err)
			}
		})
	}
}
