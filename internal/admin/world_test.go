package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// The world every admin test starts from: tenants acme and other,
// environment acme/qa, a product API and a per-tenant template API, and
// the built-in APIs that Bootstrap creates.
const (
	platform    = "https://api.example.io"
	templateAud = "https://delivery.example.io/{tenant}"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// world is a Service over a real SQLite store, with a settable clock, a
// recording AuditFunc and the log in a buffer.
type world struct {
	t     *testing.T
	st    *sqlstore.Store
	cat   *catalog.Catalog
	svc   *Service
	audit *auditLog
	logs  *logging.Buffer
	log   *slog.Logger
	clock *fakeclock.Clock
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldAt(t, "")
}

// newWorldAt is newWorld on the store at dsn ("": SQLite in a temporary
// directory), for tests that run on PostgreSQL too.
func newWorldAt(t *testing.T, dsn string) *world {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	if dsn == "" {
		dsn = sqlstore.SQLitePath(dir)
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("sqlstore.Open: got %v, want nil", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := Bootstrap(ctx, st, filepath.Join(dir, "admin-client.json"), "http://127.0.0.1:8080/oauth/token", t0); err != nil {
		t.Fatalf("Bootstrap: got %v, want nil", err)
	}
	cat := catalog.New(st)
	if err := cat.Reload(ctx); err != nil {
		t.Fatalf("Reload: got %v, want nil", err)
	}
	logs := &logging.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := &world{t: t, st: st, cat: cat, audit: &auditLog{}, logs: logs, log: log, clock: fakeclock.New(t0)}
	w.svc = NewService(st, cat, w.audit.record, log, w.clock.Now)

	must(t, first(w.svc.CreateTenant(ctx, "acme", "Acme")))
	must(t, first(w.svc.CreateTenant(ctx, "other", "")))
	must(t, first(w.svc.CreateEnvironment(ctx, "acme", "qa")))
	must(t, first(w.svc.CreateAPI(ctx, store.API{Audience: platform, Name: "platform",
		Scopes: []store.Scope{{Name: "read"}, {Name: "write"}}})))
	must(t, first(w.svc.CreateAPI(ctx, store.API{Audience: templateAud, Name: "delivery",
		Scopes: []store.Scope{{Name: "delivery:read"}}, SigningAlg: "ES256"})))
	w.audit.take()
	return w
}

// client creates a client in tenant acme granted grants, failing the test
// on error, and returns it with its plain secret.
func (w *world) client(name string, grants map[string][]string) (store.Client, string) {
	w.t.Helper()
	c, plain, err := w.svc.CreateClient(w.t.Context(), NewClient{Name: name, Tenant: "acme", Grants: grants})
	if err != nil {
		w.t.Fatalf("CreateClient %s: got %v, want nil", name, err)
	}
	w.audit.take()
	return c, plain
}

// stored reads a client back from the store.
func (w *world) stored(id string) store.Client {
	w.t.Helper()
	c, err := w.st.GetClient(w.t.Context(), id)
	if err != nil {
		w.t.Fatalf("GetClient %s: got %v, want nil", id, err)
	}
	return c
}

// warnings returns the WARN lines logged so far.
func (w *world) warnings() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "WARN" {
			out = append(out, m)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// first and first3 drop results, keeping the error.
func first[T any](_ T, err error) error { return err }

func first3[A, B any](_ A, _ B, err error) error { return err }

// auditEvent is one call of the AuditFunc.
type auditEvent struct {
	Kind, Target, Actor string
	Before, After       any
}

// auditLog is a recording AuditFunc.
type auditLog struct {
	mu     sync.Mutex
	events []auditEvent
}

func (a *auditLog) record(ctx context.Context, kind, target string, before, after any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, auditEvent{Kind: kind, Target: target, Actor: Actor(ctx), Before: before, After: after})
}

// take returns the events recorded since the last take.
func (a *auditLog) take() []auditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.events
	a.events = nil
	return out
}
