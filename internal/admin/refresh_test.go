package admin

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/store"
)

// failingReads is the real store whose single-row reads fail while fail
// is set: the database went away between a change's commit and the
// catalog's read of it.
type failingReads struct {
	store.Store
	fail atomic.Bool
}

func (f *failingReads) err() error {
	if f.fail.Load() {
		return fmt.Errorf("%w: connection refused", store.ErrUnavailable)
	}
	return nil
}

func (f *failingReads) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if err := f.err(); err != nil {
		return store.Tenant{}, err
	}
	return f.Store.GetTenant(ctx, id)
}

func (f *failingReads) GetEnvironment(ctx context.Context, tenant, id string) (store.Environment, error) {
	if err := f.err(); err != nil {
		return store.Environment{}, err
	}
	return f.Store.GetEnvironment(ctx, tenant, id)
}

func (f *failingReads) GetAPI(ctx context.Context, audience string) (store.API, error) {
	if err := f.err(); err != nil {
		return store.API{}, err
	}
	return f.Store.GetAPI(ctx, audience)
}

func (f *failingReads) GetClient(ctx context.Context, id string) (store.Client, error) {
	if err := f.err(); err != nil {
		return store.Client{}, err
	}
	return f.Store.GetClient(ctx, id)
}

// TestFailedRefreshIsLogged: when the catalog cannot read a change back
// after it was committed, the change stands, the caller is told of
// success, and a warning names the change, so an operator sees the node
// lagging until the change feed catches up.
func TestFailedRefreshIsLogged(t *testing.T) {
	w := newWorld(t)
	reads := &failingReads{Store: w.st}
	cat := catalog.New(reads)
	must(t, cat.Reload(t.Context()))
	svc := NewService(w.st, cat, w.audit.record, w.log, w.clock.Now)
	ctx := t.Context()
	c, _ := w.client("lagging", map[string][]string{platform: {"read"}})
	must(t, cat.RefreshClient(ctx, c.ID))
	yes := true
	steps := []struct {
		name, change string
		do           func() error
		stands       func() bool
	}{
		{"tenant", "tenant globex", func() error { return first(svc.CreateTenant(ctx, "globex", "")) },
			func() bool { _, err := w.st.GetTenant(ctx, "globex"); return err == nil }},
		{"environment", "environment acme/prod", func() error { return first(svc.CreateEnvironment(ctx, "acme", "prod")) },
			func() bool { _, err := w.st.GetEnvironment(ctx, "acme", "prod"); return err == nil }},
		{"api", "api https://new.example", func() error { return first(svc.CreateAPI(ctx, store.API{Audience: "https://new.example"})) },
			func() bool { _, err := w.st.GetAPI(ctx, "https://new.example"); return err == nil }},
		{"disable", "client " + c.ID, func() error { return first(svc.UpdateClient(ctx, c.ID, ClientPatch{Disabled: &yes})) },
			func() bool { return w.stored(c.ID).Disabled }},
		{"rotate", "client " + c.ID, func() error {
			return first3(svc.RotateSecret(ctx, c.ID, RotateOptions{KeepOld: time.Hour, ExpiresIn: 0}))
		},
			func() bool { return len(w.stored(c.ID).Secrets) == 2 }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			reads.fail.Store(true)
			w.logs.Reset()
			err := s.do()
			reads.fail.Store(false)
			if err != nil {
				t.Fatalf("got %v, want success: the change was committed", err)
			}
			if !s.stands() {
				t.Errorf("store: got the change missing, want it standing")
			}
			warns := w.warnings()
			if len(warns) != 1 || warns[0]["change"] != s.change || !strings.Contains(fmt.Sprint(warns[0]["err"]), "connection refused") ||
				!strings.Contains(fmt.Sprint(warns[0]["msg"]), "catalog refresh") {
				t.Errorf("log: got warnings %v, want one naming %q and the cause", warns, s.change)
			}
		})
	}
	if cc, _ := cat.Client(c.ID); cc.Disabled {
		t.Errorf("catalog: got the client disabled, want it lagging until the change feed applies the change")
	}
	must(t, cat.Apply(ctx, store.Change{Kind: store.ChangeClient, Key: c.ID}))
	if cc, _ := cat.Client(c.ID); !cc.Disabled {
		t.Errorf("catalog after the change feed: got the client enabled, want it disabled")
	}
}

// TestNoWarningWhenRefreshWorks: a change the catalog reads back logs nothing.
func TestNoWarningWhenRefreshWorks(t *testing.T) {
	w := newWorld(t)
	w.client("quiet", nil)
	if warns := w.warnings(); len(warns) != 0 {
		t.Errorf("log: got warnings %v, want none", warns)
	}
}
