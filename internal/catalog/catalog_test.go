package catalog_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

const (
	apiAud      = "https://api.example.io"
	templateAud = "https://delivery.example.io/{tenant}"
	streamAud   = "https://streaming.example.io/property"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// newStore opens a real SQLite store with two tenants, an environment, three
// APIs (one a template, one with a service) and two clients.
func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: got %v, want nil", err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"acme", "globex"} {
		must(t, st.CreateTenant(ctx, store.Tenant{ID: id, Name: id, CreatedAt: t0}))
	}
	must(t, st.CreateEnvironment(ctx, store.Environment{Tenant: "acme", ID: "qa", APIKey: "ak-acme-qa", CreatedAt: t0}))
	for _, a := range []store.API{
		{Audience: apiAud, Name: "API", Scopes: []store.Scope{{Name: "read"}}},
		{Audience: templateAud, Name: "Delivery"},
		{Audience: streamAud, Name: "Streaming", Service: "streaming-property", TokenFormat: store.FormatOpaque},
	} {
		a.CreatedAt, a.UpdatedAt = t0, t0
		must(t, a.Validate())
		must(t, st.CreateAPI(ctx, a))
	}
	for _, c := range []store.Client{
		{ID: "client-acme", Name: "acme key", Tenant: "acme", Grants: map[string][]string{apiAud: {"read"}, templateAud: nil}},
		{ID: "client-qa", Name: "qa automation", Tenant: "acme", Environment: "qa", Grants: map[string][]string{streamAud: nil}},
	} {
		c.CreatedAt, c.UpdatedAt = t0, t0
		must(t, st.CreateClient(ctx, c))
	}
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func loaded(t *testing.T, st store.Store) *catalog.Catalog {
	t.Helper()
	c := catalog.New(st)
	if err := c.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: got %v, want nil", err)
	}
	return c
}

func TestReload(t *testing.T) {
	st := newStore(t)
	c := catalog.New(st)
	if _, ok := c.Client("client-acme"); ok {
		t.Errorf("Client before Reload: got found, want empty catalog")
	}
	if err := c.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: got %v, want nil", err)
	}
	if clients, apis := c.Counts(); clients != 2 || apis != 3 {
		t.Errorf("Counts: got %d clients, %d APIs; want 2, 3", clients, apis)
	}
	if e, ok := c.Environment("acme", "qa"); !ok || e.APIKey != "ak-acme-qa" {
		t.Errorf("Environment(acme, qa): got %+v, %v; want api key ak-acme-qa", e, ok)
	}
	if _, ok := c.Environment("globex", "qa"); ok {
		t.Errorf("Environment(globex, qa): got found, want not found")
	}

	// A store change is seen only after the next Reload.
	must(t, st.DeleteClient(t.Context(), "client-qa"))
	if _, ok := c.Client("client-qa"); !ok {
		t.Errorf("Client before the next Reload: got gone, want still cached")
	}
	must(t, c.Reload(t.Context()))
	if _, ok := c.Client("client-qa"); ok {
		t.Errorf("Client after Reload: got found, want gone")
	}
}

func TestClient(t *testing.T) {
	c := loaded(t, newStore(t))
	tests := []struct {
		id, wantTenant, wantEnv string
		wantOK                  bool
	}{
		{"client-acme", "acme", "", true},
		{"client-qa", "acme", "qa", true},
		{"client-ACME", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cl, ok := c.Client(tt.id)
			if ok != tt.wantOK {
				t.Fatalf("got found %v, want %v", ok, tt.wantOK)
			}
			if ok && (cl.ID != tt.id || cl.Tenant != tt.wantTenant || cl.Environment != tt.wantEnv) {
				t.Errorf("got %s %s/%s, want %s %s/%s", cl.ID, cl.Tenant, cl.Environment, tt.id, tt.wantTenant, tt.wantEnv)
			}
		})
	}
	cl, _ := c.Client("client-acme")
	if got := cl.Grants[apiAud]; !slices.Equal(got, []string{"read"}) {
		t.Errorf("grants: got %v, want [read]", got)
	}
}

func TestResolve(t *testing.T) {
	c := loaded(t, newStore(t))
	tests := []struct {
		name, audience, tenant string
		want                   string // audience as stored; "" means not found
	}{
		{"exact", apiAud, "acme", apiAud},
		{"exact without tenant", apiAud, "", apiAud},
		{"template for own tenant", "https://delivery.example.io/acme", "acme", templateAud},
		{"template for another tenant", "https://delivery.example.io/acme", "globex", ""},
		{"template for the other tenant", "https://delivery.example.io/globex", "globex", templateAud},
		{"template without tenant", "https://delivery.example.io/acme", "", ""},
		{"template without tenant, empty segment", "https://delivery.example.io/", "", ""},
		{"literal template", templateAud, "acme", ""},
		{"literal template without tenant", templateAud, "", ""},
		{"template with a suffix", "https://delivery.example.io/acme/x", "acme", ""},
		{"trailing slash", apiAud + "/", "acme", ""},
		{"unknown", "https://other.example.io", "acme", ""},
		{"empty", "", "acme", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := c.Resolve(tt.audience, tt.tenant)
			if tt.want == "" {
				if ok {
					t.Errorf("got %s, want not found", a.Audience)
				}
				return
			}
			if !ok || a.Audience != tt.want {
				t.Errorf("got %v, %v; want %s", a, ok, tt.want)
			}
		})
	}
}

func TestService(t *testing.T) {
	c := loaded(t, newStore(t))
	if a, ok := c.Service("streaming-property"); !ok || a.Audience != streamAud || a.TokenFormat != store.FormatOpaque {
		t.Errorf("Service(streaming-property): got %+v, %v; want %s (opaque)", a, ok, streamAud)
	}
	for _, name := range []string{"streaming-view", "", "oauth"} {
		if a, ok := c.Service(name); ok {
			t.Errorf("Service(%q): got %s, want not found", name, a.Audience)
		}
	}
}

func TestRefreshClient(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	c := loaded(t, st)

	_, err := st.UpdateClient(ctx, "client-acme", func(old store.Client) (store.Client, error) {
		old.Disabled = true
		return old, nil
	})
	must(t, err)
	must(t, c.RefreshClient(ctx, "client-acme"))
	if cl, ok := c.Client("client-acme"); !ok || !cl.Disabled {
		t.Errorf("after update: got %+v, %v; want disabled", cl, ok)
	}

	must(t, st.DeleteClient(ctx, "client-acme"))
	if err := c.RefreshClient(ctx, "client-acme"); err != nil {
		t.Fatalf("RefreshClient after delete: got %v, want nil", err)
	}
	if _, ok := c.Client("client-acme"); ok {
		t.Errorf("after delete: got found, want gone")
	}
	if _, ok := c.Client("client-qa"); !ok {
		t.Errorf("other client: got gone, want kept")
	}

	must(t, st.CreateClient(ctx, store.Client{ID: "client-new", Name: "new", Tenant: "globex", Grants: map[string][]string{}, CreatedAt: t0, UpdatedAt: t0}))
	must(t, c.RefreshClient(ctx, "client-new"))
	if cl, ok := c.Client("client-new"); !ok || cl.Tenant != "globex" {
		t.Errorf("after create: got %+v, %v; want globex client", cl, ok)
	}
	if n, _ := c.Counts(); n != 2 {
		t.Errorf("Counts: got %d clients, want 2", n)
	}
}

func TestRefreshAPI(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	c := loaded(t, st)

	// Moving the service to another API re-indexes the service names.
	_, err := st.UpdateAPI(ctx, streamAud, func(old store.API) (store.API, error) {
		old.Service = ""
		return old, nil
	})
	must(t, err)
	_, err = st.UpdateAPI(ctx, apiAud, func(old store.API) (store.API, error) {
		old.Service = "streaming-property"
		return old, nil
	})
	must(t, err)
	must(t, c.RefreshAPI(ctx, streamAud))
	must(t, c.RefreshAPI(ctx, apiAud))
	if a, ok := c.Service("streaming-property"); !ok || a.Audience != apiAud {
		t.Errorf("Service after moving it: got %v, %v; want %s", a, ok, apiAud)
	}

	// A deleted template stops resolving; a new one starts.
	must(t, st.DeleteAPI(ctx, templateAud))
	must(t, c.RefreshAPI(ctx, templateAud))
	if a, ok := c.Resolve("https://delivery.example.io/acme", "acme"); ok {
		t.Errorf("Resolve after deleting the template: got %s, want not found", a.Audience)
	}
	newTemplate := store.API{Audience: "urn:example:{tenant}:billing", Name: "Billing", CreatedAt: t0, UpdatedAt: t0}
	must(t, newTemplate.Validate())
	must(t, st.CreateAPI(ctx, newTemplate))
	must(t, c.RefreshAPI(ctx, newTemplate.Audience))
	if a, ok := c.Resolve("urn:example:acme:billing", "acme"); !ok || a.Audience != newTemplate.Audience {
		t.Errorf("Resolve of a new template: got %v, %v; want %s", a, ok, newTemplate.Audience)
	}

	must(t, st.DeleteAPI(ctx, apiAud))
	must(t, c.RefreshAPI(ctx, apiAud))
	if _, ok := c.Resolve(apiAud, "acme"); ok {
		t.Errorf("Resolve after delete: got found, want gone")
	}
	if _, ok := c.Service("streaming-property"); ok {
		t.Errorf("Service of a deleted API: got found, want gone")
	}
	if _, n := c.Counts(); n != 2 {
		t.Errorf("Counts: got %d APIs, want 2", n)
	}
}

func TestRefreshEnvironment(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	c := loaded(t, st)
	must(t, st.CreateEnvironment(ctx, store.Environment{Tenant: "globex", ID: "production", APIKey: "ak-globex-prod", CreatedAt: t0}))
	if _, ok := c.Environment("globex", "production"); ok {
		t.Errorf("before refresh: got found, want not yet")
	}
	must(t, c.RefreshEnvironment(ctx, "globex", "production"))
	if e, ok := c.Environment("globex", "production"); !ok || e.APIKey != "ak-globex-prod" {
		t.Errorf("after refresh: got %+v, %v; want ak-globex-prod", e, ok)
	}
	must(t, c.RefreshEnvironment(ctx, "globex", "missing"))
	if _, ok := c.Environment("globex", "missing"); ok {
		t.Errorf("missing environment: got found, want not found")
	}
}

func TestConcurrentReadsAndRefresh(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	c := loaded(t, st)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if err := c.RefreshAPI(ctx, templateAud); err != nil {
				t.Errorf("RefreshAPI: %v", err)
				return
			}
			if err := c.Reload(ctx); err != nil {
				t.Errorf("Reload: %v", err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if a, ok := c.Resolve("https://delivery.example.io/acme", "acme"); !ok || a.Audience != templateAud {
			t.Errorf("Resolve during refresh: got %v, %v; want %s", a, ok, templateAud)
			<-done
			return
		}
	}
}
