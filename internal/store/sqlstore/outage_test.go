package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestPostgresOutage runs a store through a proxy and cuts it off (the
// stand-in for PostgreSQL going away: the real server is shared with other
// tests and stays up). Every failure must be store.ErrUnavailable, which
// the admin API answers with 503, and a transaction cut off inside must
// leave nothing behind.
func TestPostgresOutage(t *testing.T) {
	dsn := pgtest.Schema(t)
	proxy := pgtest.NewProxy(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, proxy.DSN(dsn))
	if err != nil {
		t.Fatalf("Open through the proxy: got %v, want nil", err)
	}
	defer s.Close()
	direct, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	defer direct.Close()
	c := store.Client{ID: "c1", Name: "before", Tenant: "acme", Grants: map[string][]string{}}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: got %v, want nil", err)
	}
	l, err := s.ListenChanges(ctx)
	if err != nil {
		t.Fatalf("ListenChanges: got %v, want nil", err)
	}
	defer l.Close()
	listened := make(chan error, 1)
	go func() { listened <- l.Wait(ctx) }()
	before, _ := direct.LatestChange(ctx)

	// The connection goes while a transaction holds the row: fn has run,
	// the UPDATE and the change record are never sent, nothing commits.
	_, err = s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) {
		proxy.Cut()
		c.Name, c.Disabled = "after", true
		return c, nil
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("UpdateClient cut off inside its transaction: got %v, want ErrUnavailable", err)
	}
	select {
	case err := <-listened:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("ChangeListener.Wait when the connection goes: got %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("ChangeListener.Wait: still waiting 5s after the connection went, want ErrUnavailable")
	}

	down := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
		{"GetClient", func(ctx context.Context) error { _, err := s.GetClient(ctx, "c1"); return err }},
		{"ListClients", func(ctx context.Context) error { _, err := s.ListClients(ctx); return err }},
		{"CreateTenant", func(ctx context.Context) error { return s.CreateTenant(ctx, store.Tenant{ID: "t", Name: "t"}) }},
		{"UpdateClient", func(ctx context.Context) error {
			_, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) { return c, nil })
			return err
		}},
		{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, "c1") }},
		{"Revoke", func(ctx context.Context) error {
			return s.Revoke(ctx, store.Revocation{JTI: "j", RevokedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"AppendAudit", func(ctx context.Context) error {
			return s.AppendAudit(ctx, []store.AuditEvent{{ID: "e", At: time.Now(), Kind: "k", Detail: "{}"}})
		}},
		{"ChangesSince", func(ctx context.Context) error { _, err := s.ChangesSince(ctx, 0, 10); return err }},
		{"ListenChanges", func(ctx context.Context) error {
			l, err := s.ListenChanges(ctx)
			if err == nil {
				l.Close()
			}
			return err
		}},
	}
	for _, tt := range down {
		t.Run("down/"+tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := tt.op(ctx); !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("got %v, want ErrUnavailable", err)
			}
		})
	}

	got, err := direct.GetClient(ctx, "c1")
	if err != nil || got.Name != "before" || got.Disabled {
		t.Errorf("the client after the cut-off update: got %q disabled=%v, %v; want it unchanged", got.Name, got.Disabled, err)
	}
	if after, _ := direct.LatestChange(ctx); after != before {
		t.Errorf("LatestChange after the cut-off update: got %d, want %d (nothing recorded)", after, before)
	}

	// Back: the pool replaces its dead connections.
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) { c.Name = "later"; return c, nil })
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("UpdateClient after the proxy returned: got %v, want nil within 10s", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after, _ := direct.LatestChange(ctx); after != before+1 {
		t.Errorf("LatestChange after the proxy returned and one update: got %d, want %d", after, before+1)
	}
}
