package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// seed fills s with one row of each kind, so that the tests of missing rows
// do not pass merely because a table is empty.
func seed(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	steps := []struct {
		what string
		err  error
	}{
		{"CreateTenant", s.CreateTenant(ctx, newTenant("acme"))},
		{"CreateEnvironment", s.CreateEnvironment(ctx, newEnvironment("acme", "qa"))},
		{"CreateAPI", s.CreateAPI(ctx, newAPI("https://api.example.io"))},
		{"CreateClient", s.CreateClient(ctx, newClient("c1"))},
		{"CreateKey", s.CreateKey(ctx, newKey("k1"))},
	}
	for _, st := range steps {
		if st.err != nil {
			t.Fatalf("seed: %s: got %v, want nil", st.what, st.err)
		}
	}
}

func testNotFound(t *testing.T, s store.Store) {
	seed(t, s)
	called := false
	apiFn := func(a store.API) (store.API, error) { called = true; return a, nil }
	clientFn := func(c store.Client) (store.Client, error) { called = true; return c, nil }
	keyFn := func(k store.SigningKey) (store.SigningKey, error) { called = true; return k, nil }
	tests := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"GetTenant", func(ctx context.Context) error { _, err := s.GetTenant(ctx, "nobody"); return err }},
		{"GetEnvironment missing tenant", func(ctx context.Context) error { _, err := s.GetEnvironment(ctx, "nobody", "qa"); return err }},
		{"GetEnvironment missing id", func(ctx context.Context) error { _, err := s.GetEnvironment(ctx, "acme", "prod"); return err }},
		{"GetAPI", func(ctx context.Context) error { _, err := s.GetAPI(ctx, "https://none.example.io"); return err }},
		{"UpdateAPI", func(ctx context.Context) error {
			_, err := s.UpdateAPI(ctx, "https://none.example.io", apiFn)
			return err
		}},
		{"DeleteAPI", func(ctx context.Context) error { return s.DeleteAPI(ctx, "https://none.example.io") }},
		{"GetClient", func(ctx context.Context) error { _, err := s.GetClient(ctx, "none"); return err }},
		{"UpdateClient", func(ctx context.Context) error { _, err := s.UpdateClient(ctx, "none", clientFn); return err }},
		{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, "none") }},
		{"UpdateKey", func(ctx context.Context) error { _, err := s.UpdateKey(ctx, "none", keyFn); return err }},
		{"DeleteKey", func(ctx context.Context) error { return s.DeleteKey(ctx, "none") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called = false
			if err := tt.op(t.Context()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
			if called {
				t.Errorf("fn called for a missing row: got called, want not called")
			}
		})
	}
}

func testAlreadyExists(t *testing.T, s store.Store) {
	seed(t, s)
	tests := []struct {
		name   string
		create func(ctx context.Context) error
		// read reads back the field the duplicate tried to change.
		read func(ctx context.Context) (string, error)
		want string
	}{
		{"tenant",
			func(ctx context.Context) error { x := newTenant("acme"); x.Name = "dup"; return s.CreateTenant(ctx, x) },
			func(ctx context.Context) (string, error) { x, err := s.GetTenant(ctx, "acme"); return x.Name, err },
			newTenant("acme").Name},
		{"environment",
			func(ctx context.Context) error {
				x := newEnvironment("acme", "qa")
				x.APIKey = "another-key"
				return s.CreateEnvironment(ctx, x)
			},
			func(ctx context.Context) (string, error) {
				x, err := s.GetEnvironment(ctx, "acme", "qa")
				return x.APIKey, err
			},
			newEnvironment("acme", "qa").APIKey},
		{"api",
			func(ctx context.Context) error {
				x := newAPI("https://api.example.io")
				x.Name = "dup"
				return s.CreateAPI(ctx, x)
			},
			func(ctx context.Context) (string, error) {
				x, err := s.GetAPI(ctx, "https://api.example.io")
				return x.Name, err
			},
			newAPI("https://api.example.io").Name},
		{"client",
			func(ctx context.Context) error { x := newClient("c1"); x.Name = "dup"; return s.CreateClient(ctx, x) },
			func(ctx context.Context) (string, error) { x, err := s.GetClient(ctx, "c1"); return x.Name, err },
			newClient("c1").Name},
		{"key",
			func(ctx context.Context) error {
				x := newKey("k1")
				x.State = store.KeyCurrent
				return s.CreateKey(ctx, x)
			},
			func(ctx context.Context) (string, error) {
				keys, err := s.ListKeys(ctx)
				if err != nil || len(keys) != 1 {
					return fmt.Sprintf("%d keys", len(keys)), err
				}
				return keys[0].State, nil
			},
			store.KeyNext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if err := tt.create(ctx); !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("duplicate create: got %v, want ErrAlreadyExists", err)
			}
			got, err := tt.read(ctx)
			if err != nil || got != tt.want {
				t.Errorf("after the duplicate create: got %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

var errFn = errors.New("fn refused")

func testUpdateFnErrorAborts(t *testing.T, s store.Store) {
	seed(t, s)
	tests := []struct {
		name   string
		update func(ctx context.Context) error
		check  func(t *testing.T, ctx context.Context)
	}{
		{"api", func(ctx context.Context) error {
			_, err := s.UpdateAPI(ctx, "https://api.example.io", func(a store.API) (store.API, error) {
				a.Name, a.Service = "changed", "changed"
				return a, errFn
			})
			return err
		}, func(t *testing.T, ctx context.Context) {
			got, err := s.GetAPI(ctx, "https://api.example.io")
			if err != nil {
				t.Fatalf("GetAPI: got %v, want nil", err)
			}
			check(t, "GetAPI", got, newAPI("https://api.example.io"), normAPI)
		}},
		{"client", func(ctx context.Context) error {
			_, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) {
				c.Disabled, c.Secrets = true, nil
				return c, fmt.Errorf("wrapped: %w", errFn)
			})
			return err
		}, func(t *testing.T, ctx context.Context) {
			got, err := s.GetClient(ctx, "c1")
			if err != nil {
				t.Fatalf("GetClient: got %v, want nil", err)
			}
			check(t, "GetClient", got, newClient("c1"), normClient)
		}},
		{"key", func(ctx context.Context) error {
			_, err := s.UpdateKey(ctx, "k1", func(k store.SigningKey) (store.SigningKey, error) {
				k.State = store.KeyCurrent
				return k, errFn
			})
			return err
		}, func(t *testing.T, ctx context.Context) {
			keys, err := s.ListKeys(ctx)
			if err != nil || len(keys) != 1 {
				t.Fatalf("ListKeys: got %d keys, %v; want 1, nil", len(keys), err)
			}
			check(t, "ListKeys", keys[0], newKey("k1"), normKey)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.update(t.Context()); !errors.Is(err, errFn) {
				t.Errorf("Update with a failing fn: got %v, want fn's error", err)
			}
			tt.check(t, t.Context())
		})
	}
}

// testUpdateKeepsKey checks that an Update cannot move a row: whatever fn
// does to the key field, the row stays under its key and no other appears.
func testUpdateKeepsKey(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := t.Context()
	c, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) {
		c.ID, c.Name = "c2", "renamed"
		return c, nil
	})
	if err == nil && c.ID != "c1" {
		t.Errorf("UpdateClient's result: got client_id %q, want c1", c.ID)
	}
	if _, err := s.GetClient(ctx, "c2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient(c2) after an Update changing the id: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetClient(ctx, "c1"); err != nil {
		t.Errorf("GetClient(c1) after an Update changing the id: got %v, want nil", err)
	}
}

// testUpdateCompareAndSwap holds one Update inside fn while a second starts
// on the same row: the second must see the first's result, not the value
// both read, so neither change is lost.
func testUpdateCompareAndSwap(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := t.Context()
	var entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		_, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) {
			once.Do(func() { close(entered); <-release })
			c.Name += "|a"
			return c, nil
		})
		errs <- err
	})
	<-entered
	wg.Go(func() {
		_, err := s.UpdateClient(ctx, "c1", func(c store.Client) (store.Client, error) {
			c.Name += "|b"
			return c, nil
		})
		errs <- err
	})
	time.Sleep(100 * time.Millisecond) // let the second Update reach the row
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateClient: got %v, want nil", err)
		}
	}
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient: got %v, want nil", err)
	}
	base := newClient("c1").Name
	if want1, want2 := base+"|a|b", base+"|b|a"; got.Name != want1 && got.Name != want2 {
		t.Errorf("name after two overlapping Updates: got %q, want %q or %q", got.Name, want1, want2)
	}
	if n := strings.Count(got.Name, "|"); n != 2 {
		t.Errorf("changes applied: got %d, want 2", n)
	}
}

func testTimePrecision(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateTenant(ctx, newTenant("acme")); err != nil {
		t.Fatalf("CreateTenant: got %v, want nil", err)
	}
	tests := []struct {
		name string
		tm   time.Time
	}{
		{"nanoseconds, not UTC", t0},
		{"nanoseconds, UTC", t0.UTC()},
		{"whole microseconds", time.Date(2030, 1, 2, 3, 4, 5, 678000, time.UTC)},
		{"monotonic now", time.Now()},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 987654321, time.UTC)},
		{"far future", time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("t%d", i)
			tn := store.Tenant{ID: id, Name: id, CreatedAt: tt.tm}
			env := store.Environment{Tenant: "acme", ID: id, APIKey: id, CreatedAt: tt.tm}
			a := newAPI("https://time.example.io/" + id)
			a.CreatedAt, a.UpdatedAt = tt.tm, tt.tm
			c := newClient(id)
			c.CreatedAt, c.UpdatedAt = tt.tm, tt.tm
			c.Secrets = []store.Secret{{ID: "s", Hash: "h", CreatedAt: tt.tm, ExpiresAt: ptr(tt.tm)}}
			k := newKey(id)
			k.State = store.KeyRetired // one next key per algorithm
			k.CreatedAt, k.ActivatesAt, k.RetiredAt, k.RemoveAfter = tt.tm, tt.tm, ptr(tt.tm), ptr(tt.tm)

			for _, err := range []error{s.CreateTenant(ctx, tn), s.CreateEnvironment(ctx, env), s.CreateAPI(ctx, a), s.CreateClient(ctx, c), s.CreateKey(ctx, k)} {
				if err != nil {
					t.Fatalf("create: got %v, want nil", err)
				}
			}
			gotT, err := s.GetTenant(ctx, id)
			if err != nil {
				t.Fatalf("GetTenant: got %v, want nil", err)
			}
			if want := tt.tm.Truncate(time.Microsecond); !gotT.CreatedAt.Truncate(time.Microsecond).Equal(want) {
				t.Errorf("tenant created_at: got %s, want %s", gotT.CreatedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
			gotE, err := s.GetEnvironment(ctx, "acme", id)
			if err != nil {
				t.Fatalf("GetEnvironment: got %v, want nil", err)
			}
			check(t, "GetEnvironment", gotE, env, normEnvironment)
			gotA, err := s.GetAPI(ctx, a.Audience)
			if err != nil {
				t.Fatalf("GetAPI: got %v, want nil", err)
			}
			check(t, "GetAPI", gotA, a, normAPI)
			gotC, err := s.GetClient(ctx, id)
			if err != nil {
				t.Fatalf("GetClient: got %v, want nil", err)
			}
			check(t, "GetClient", gotC, c, normClient)
			keys, err := s.ListKeys(ctx)
			if err != nil {
				t.Fatalf("ListKeys: got %v, want nil", err)
			}
			for _, got := range keys {
				if got.KID == id {
					check(t, "ListKeys", got, k, normKey)
				}
			}
		})
	}
}
