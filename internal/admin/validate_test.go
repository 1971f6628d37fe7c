package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// backends are the stores the input rules must treat alike: a NUL byte
// was stored by SQLite and a 500 on PostgreSQL before the rules.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return sqlstore.SQLitePath(t.TempDir()) }},
	{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
}

func scopes(n int) []store.Scope {
	out := make([]store.Scope, n)
	for i := range out {
		out[i] = store.Scope{Name: fmt.Sprintf("s%d", i)}
	}
	return out
}

func names(n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%d", i)
		if same {
			out[i] = "s0"
		}
	}
	return out
}

// TestAdminInputRules runs every admin write with bad input on both
// backends: each is refused with ErrInvalid (a 400 on the wire) naming
// the field at fault, and nothing is stored or audited.
func TestAdminInputRules(t *testing.T) {
	tests := []struct {
		name    string
		do      func(ctx context.Context, s *Service, id string) error
		mention string
	}{
		{"tenant name with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateTenant(ctx, "t1", "Ac\x00me"))
		}, "name"},
		{"tenant name with a newline", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateTenant(ctx, "t1", "Ac\nme"))
		}, "name"},
		{"tenant name not UTF-8", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateTenant(ctx, "t1", "Ac\xffme"))
		}, "name"},
		{"tenant name of 900 KB", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateTenant(ctx, "t1", strings.Repeat("a", 900<<10)))
		}, "name"},
		{"tenant id with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateTenant(ctx, "t\x001", "x"))
		}, "tenant id"},
		{"tenant quota negative", func(ctx context.Context, s *Service, id string) error {
			return first(s.SetTenantLimits(ctx, "acme", store.Limits{QuotaDay: -1}))
		}, "limits.quota_day"},
		{"environment of a tenant with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateEnvironment(ctx, "ac\x00me", "qa2"))
		}, "tenant"},
		{"environment id with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateEnvironment(ctx, "acme", "q\x00a"))
		}, "environment id"},
		{"API name with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", Name: "a\x00"}))
		}, "name"},
		{"API audience with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io/\x00"}))
		}, "audience"},
		{"API with 20,000 scopes", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", Scopes: scopes(20000)}))
		}, "scopes"},
		{"scope description with NUL", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", Scopes: []store.Scope{{Name: "r", Description: "\x00"}}}))
		}, "scopes[0].description"},
		{"scope description too long", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", Scopes: []store.Scope{{Name: "r", Description: strings.Repeat("d", 501)}}}))
		}, "scopes[0].description"},
		{"API negative token_ttl", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", TokenTTL: -time.Hour}))
		}, "token_ttl"},
		{"API negative reuse_window", func(ctx context.Context, s *Service, id string) error {
			return first(s.CreateAPI(ctx, store.API{Audience: "https://n.example.io", ReuseWindow: -time.Minute}))
		}, "reuse_window"},
		{"API update negative token_ttl", func(ctx context.Context, s *Service, id string) error {
			d := -time.Hour
			return first(s.UpdateAPI(ctx, platform, APIPatch{TokenTTL: &d}))
		}, "token_ttl"},
		{"API update name with NUL", func(ctx context.Context, s *Service, id string) error {
			n := "p\x00"
			return first(s.UpdateAPI(ctx, platform, APIPatch{Name: &n}))
		}, "name"},
		{"client name with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c\x00", Tenant: "acme"}))
		}, "name"},
		{"client name too long", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: strings.Repeat("n", 201), Tenant: "acme"}))
		}, "name"},
		{"client tenant with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "ac\x00me"}))
		}, "tenant"},
		{"client environment with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Environment: "q\x00a"}))
		}, "environment"},
		{"client id with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", ID: "id\x00", Secret: strings.Repeat("s", 20)}))
		}, "client_id"},
		{"one scope 10,000 times in a grant", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Grants: map[string][]string{platform: names(10000, true)}}))
		}, "grants"},
		{"a scope twice in a grant", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Grants: map[string][]string{platform: {"read", "read"}}}))
		}, "listed twice"},
		{"grant audience with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Grants: map[string][]string{platform + "\x00": {"read"}}}))
		}, "audience"},
		{"too many grants", func(ctx context.Context, s *Service, id string) error {
			g := map[string][]string{}
			for i := range MaxGrantsPerClient + 1 {
				g[fmt.Sprintf("https://g%d.example.io", i)] = nil
			}
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Grants: g}))
		}, "grants"},
		{"client negative token_ttl", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", TokenTTL: -time.Minute}))
		}, "token_ttl"},
		{"client negative quota", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", Limits: store.Limits{QuotaHour: -5}}))
		}, "limits.quota_hour"},
		{"tls_subject with NUL", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme",
				Auth: store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "dns", TLSSubject: "a\x00.example.io"}}))
		}, "tls_subject"},
		{"imported secret of 73 bytes", func(ctx context.Context, s *Service, id string) error {
			return first3(s.CreateClient(ctx, NewClient{Name: "c", Tenant: "acme", ID: "legacy1", Secret: strings.Repeat("s", 73)}))
		}, "72"},
		{"client update name with NUL", func(ctx context.Context, s *Service, id string) error {
			n := "x\x00"
			return first(s.UpdateClient(ctx, id, ClientPatch{Name: &n}))
		}, "name"},
		{"client update grant scope 200 times", func(ctx context.Context, s *Service, id string) error {
			g := map[string][]string{platform: names(200, false)}
			return first(s.UpdateClient(ctx, id, ClientPatch{Grants: &g}))
		}, "grants"},
		{"client update negative token_ttl", func(ctx context.Context, s *Service, id string) error {
			d := -time.Second
			return first(s.UpdateClient(ctx, id, ClientPatch{TokenTTL: &d}))
		}, "token_ttl"},
		{"rotate with negative keep_old", func(ctx context.Context, s *Service, id string) error {
			return first3(s.RotateSecret(ctx, id, RotateOptions{KeepOld: -time.Hour}))
		}, "keep_old"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorldAt(t, b.dsn(t))
			existing, _ := w.client("existing", map[string][]string{platform: {"read"}})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := w.changeCount()
					err := tt.do(t.Context(), w.svc, existing.ID)
					checkErr(t, err, ErrInvalid, tt.mention)
					if events := w.audit.take(); len(events) != 0 {
						t.Errorf("audit: got %d events for a refused write, want none", len(events))
					}
					if after := w.changeCount(); after != before {
						t.Errorf("change feed: got %d new changes for a refused write, want none", after-before)
					}
				})
			}
		})
	}
}

func (w *world) changeCount() int64 {
	n, err := w.st.LatestChange(w.t.Context())
	if err != nil {
		w.t.Fatalf("LatestChange: got %v, want nil", err)
	}
	return n
}
