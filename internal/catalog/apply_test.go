package catalog_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestApply changes each kind of entry behind the catalog's back, as
// another node would, and applies the change the feed records for it.
func TestApply(t *testing.T) {
	st := newStore(t)
	c := loaded(t, st)
	ctx := t.Context()
	tests := []struct {
		name   string
		write  func() error
		change store.Change
		check  func() bool
	}{
		{"client disabled", func() error {
			_, err := st.UpdateClient(ctx, "client-acme", func(x store.Client) (store.Client, error) { x.Disabled = true; return x, nil })
			return err
		}, store.Change{Kind: store.ChangeClient, Key: "client-acme"}, func() bool {
			cl, ok := c.Client("client-acme")
			return ok && cl.Disabled
		}},
		{"client deleted", func() error { return st.DeleteClient(ctx, "client-qa") },
			store.Change{Kind: store.ChangeClient, Key: "client-qa"}, func() bool {
				_, ok := c.Client("client-qa")
				return !ok
			}},
		{"API changed", func() error {
			_, err := st.UpdateAPI(ctx, apiAud, func(a store.API) (store.API, error) { a.TokenTTL = time.Hour; return a, nil })
			return err
		}, store.Change{Kind: store.ChangeAPI, Key: apiAud}, func() bool {
			a, ok := c.Resolve(apiAud, "")
			return ok && a.TokenTTL == time.Hour
		}},
		{"tenant quota", func() error {
			_, err := st.UpdateTenant(ctx, "acme", func(x store.Tenant) (store.Tenant, error) { x.Limits.QuotaHour = 7; return x, nil })
			return err
		}, store.Change{Kind: store.ChangeTenant, Key: "acme"}, func() bool { return c.TenantLimits("acme").QuotaHour == 7 }},
		{"environment created", func() error {
			return st.CreateEnvironment(ctx, store.Environment{Tenant: "globex", ID: "prod", APIKey: "ak-globex-prod", CreatedAt: t0})
		}, store.Change{Kind: store.ChangeEnvironment, Key: store.EnvironmentKey("globex", "prod")}, func() bool {
			e, ok := c.Environment("globex", "prod")
			return ok && e.APIKey == "ak-globex-prod"
		}},
		{"a signing key (not the catalog's)", func() error { return nil },
			store.Change{Kind: store.ChangeKey, Key: "kid"}, func() bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			must(t, tt.write())
			if err := c.Apply(ctx, tt.change); err != nil {
				t.Fatalf("Apply: got %v, want nil", err)
			}
			if !tt.check() {
				t.Errorf("after Apply: the catalog does not show the change")
			}
		})
	}
	if err := c.Apply(ctx, store.Change{Kind: store.ChangeEnvironment, Key: "no-slash"}); err == nil {
		t.Errorf("Apply of a malformed environment key: got nil, want an error")
	}
}

// slowList is a store whose ListClients, once armed, returns what it read
// only when released, like a full reload that is slow on a big catalog.
type slowList struct {
	store.Store
	armed         atomic.Bool
	read, release chan struct{}
}

func (s *slowList) ListClients(ctx context.Context) ([]store.Client, error) {
	cs, err := s.Store.ListClients(ctx)
	if s.armed.Load() {
		close(s.read)
		<-s.release
	}
	return cs, err
}

// TestReloadDoesNotUndoRefresh: a client is disabled while a full reload
// that read it still enabled is under way. The refresh for the disable
// must win, whichever finishes first.
func TestReloadDoesNotUndoRefresh(t *testing.T) {
	st := newStore(t)
	slow := &slowList{Store: st, read: make(chan struct{}), release: make(chan struct{})}
	c2 := loaded(t, slow)
	slow.armed.Store(true)
	ctx := t.Context()
	var wg sync.WaitGroup
	wg.Go(func() { must(t, c2.Reload(ctx)) })
	<-slow.read // the reload holds the old list
	_, err := st.UpdateClient(ctx, "client-acme", func(x store.Client) (store.Client, error) { x.Disabled = true; return x, nil })
	must(t, err)
	refreshed := make(chan struct{})
	wg.Go(func() { must(t, c2.RefreshClient(ctx, "client-acme")); close(refreshed) })
	select {
	case <-refreshed:
	case <-time.After(50 * time.Millisecond): // the refresh waits for the reload
	}
	close(slow.release)
	wg.Wait()
	if cl, ok := c2.Client("client-acme"); !ok || !cl.Disabled {
		t.Errorf("client after a reload raced a refresh: got found=%v disabled=%v, want the refresh's disabled client", ok, ok && cl.Disabled)
	}
}
