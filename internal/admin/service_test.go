package admin

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// checkErr fails t unless err matches want (nil: success) and, when
// mention is set, its message names it.
func checkErr(t *testing.T, err, want error, mention string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("got %v, want success", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("got %v, want %v", err, want)
	case want != nil && !strings.Contains(err.Error(), mention):
		t.Errorf("got %q, want it to mention %q", err, mention)
	}
}

func TestCreateTenant(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, id, tname string
		want            error
		mention         string
		wantName        string
	}{
		{"named", "globex", "Globex", nil, "", "Globex"},
		{"name defaults to the id", "initech", "", nil, "", "initech"},
		{"empty id", "", "x", ErrInvalid, "tenant id", ""},
		{"upper case and spaces", "Not A Slug", "", ErrInvalid, "tenant id", ""},
		{"leading dash", "-acme", "", ErrInvalid, "tenant id", ""},
		{"64 characters", strings.Repeat("a", 64), "", ErrInvalid, "tenant id", ""},
		{"duplicate", "acme", "", store.ErrAlreadyExists, "acme", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.svc.CreateTenant(t.Context(), tt.id, tt.tname)
			checkErr(t, err, tt.want, tt.mention)
			if tt.want != nil {
				if events := w.audit.take(); len(events) != 0 {
					t.Errorf("audit: got %d events for a refused change, want none", len(events))
				}
				return
			}
			stored, err := w.st.GetTenant(t.Context(), tt.id)
			if err != nil || stored.Name != tt.wantName || got.Name != tt.wantName || !stored.CreatedAt.Equal(t0) {
				t.Errorf("stored: got %+v, %v; want name %q created at %v", stored, err, tt.wantName, t0)
			}
			w.audit.take()
		})
	}
}

func TestSetTenantLimits(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name    string
		id      string
		limits  store.Limits
		want    error
		mention string
	}{
		{"hourly and daily quotas", "acme", store.Limits{QuotaHour: 10, QuotaDay: 100}, nil, ""},
		{"cleared", "other", store.Limits{}, nil, ""},
		{"negative quota", "acme", store.Limits{QuotaHour: -1}, ErrInvalid, "quota"},
		{"a rate limit", "acme", store.Limits{RatePerSecond: 5}, ErrInvalid, "rate limit"},
		{"missing tenant", "nobody", store.Limits{QuotaDay: 1}, store.ErrNotFound, "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.cat.TenantLimits(tt.id)
			_, err := w.svc.SetTenantLimits(t.Context(), tt.id, tt.limits)
			checkErr(t, err, tt.want, tt.mention)
			want := tt.limits
			if tt.want != nil {
				want = before
			}
			if got := w.cat.TenantLimits(tt.id); got != want {
				t.Errorf("catalog limits: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestCreateEnvironment(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, tenant, id string
		want             error
		mention          string
	}{
		{"production", "acme", "production", nil, ""},
		{"same id in another tenant", "other", "qa", nil, ""},
		{"bad id", "acme", "Prod!", ErrInvalid, "environment id"},
		{"missing tenant", "nobody", "qa", store.ErrNotFound, "nobody"},
		{"duplicate", "acme", "qa", store.ErrAlreadyExists, "qa"},
	}
	keys := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := w.svc.CreateEnvironment(t.Context(), tt.tenant, tt.id)
			checkErr(t, err, tt.want, tt.mention)
			if tt.want != nil {
				return
			}
			if !regexp.MustCompile(`^[A-Za-z0-9]{24}$`).MatchString(e.APIKey) || keys[e.APIKey] {
				t.Errorf("api_key: got %q, want 24 fresh characters of [A-Za-z0-9]", e.APIKey)
			}
			keys[e.APIKey] = true
			if got, ok := w.cat.Environment(tt.tenant, tt.id); !ok || got.APIKey != e.APIKey {
				t.Errorf("catalog: got %+v %v, want the new environment at once", got, ok)
			}
		})
	}
}

func TestCreateAPI(t *testing.T) {
	w := newWorld(t)
	must(t, first(w.svc.CreateAPI(t.Context(), store.API{Audience: "https://stream.example.io", Service: "streaming"})))
	w.audit.take()
	tests := []struct {
		name    string
		api     store.API
		want    error
		mention string
	}{
		{"no audience", store.API{Name: "x"}, ErrInvalid, "audience"},
		{"relative audience", store.API{Audience: "api.example.io"}, ErrInvalid, "absolute URI"},
		{"two placeholders", store.API{Audience: "https://x.example/{tenant}/{tenant}"}, ErrInvalid, "more than one"},
		{"bad format", store.API{Audience: "https://x.example", TokenFormat: "xml"}, ErrInvalid, "token_format"},
		{"bad alg", store.API{Audience: "https://x.example", SigningAlg: "HS256"}, ErrInvalid, "signing_alg"},
		{"reserved service", store.API{Audience: "https://x.example", Service: "oauth"}, ErrInvalid, "service"},
		{"service not a slug", store.API{Audience: "https://x.example", Service: "My Service"}, ErrInvalid, "service"},
		{"service on a template", store.API{Audience: "https://d.example/{tenant}", Service: "per-tenant"}, ErrInvalid, "template"},
		{"ttl under a minute", store.API{Audience: "https://x.example", TokenTTL: 30 * time.Second}, ErrInvalid, "token_ttl"},
		{"ttl over 720h", store.API{Audience: "https://x.example", TokenTTL: 721 * time.Hour}, ErrInvalid, "token_ttl"},
		{"reuse window over half the ttl", store.API{Audience: "https://x.example", TokenTTL: time.Hour, ReuseWindow: 31 * time.Minute}, ErrInvalid, "reuse_window"},
		{"scope listed twice", store.API{Audience: "https://x.example", Scopes: []store.Scope{{Name: "a"}, {Name: "a"}}}, ErrInvalid, "twice"},
		{"scope with a space", store.API{Audience: "https://x.example", Scopes: []store.Scope{{Name: "a b"}}}, ErrInvalid, "scope"},
		{"reserved audience", store.API{Audience: "urn:gatehouse:mine"}, ErrInvalid, "reserved"},
		{"duplicate audience", store.API{Audience: platform}, store.ErrAlreadyExists, platform},
		{"service taken", store.API{Audience: "https://x.example", Service: "streaming"}, store.ErrAlreadyExists, "https://x.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.CreateAPI(t.Context(), tt.api)
			checkErr(t, err, tt.want, tt.mention)
			if events := w.audit.take(); len(events) != 0 {
				t.Errorf("audit: got %d events for a refused change, want none", len(events))
			}
		})
	}
	t.Run("defaults, and built_in is not the caller's to set", func(t *testing.T) {
		w.clock.Add(time.Minute)
		a, err := w.svc.CreateAPI(t.Context(), store.API{Audience: "https://new.example", BuiltIn: true})
		checkErr(t, err, nil, "")
		stored, _ := w.st.GetAPI(t.Context(), "https://new.example")
		want := store.API{Audience: "https://new.example", Name: "https://new.example", TokenTTL: 24 * time.Hour,
			TokenFormat: store.FormatJWT, SigningAlg: "RS256", CreatedAt: w.clock.Now(), UpdatedAt: w.clock.Now()}
		for _, got := range []store.API{a, stored} {
			got.Scopes = nil
			if !apiEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		}
	})
	t.Run("the catalog sees a service at once", func(t *testing.T) {
		if a, ok := w.cat.Service("streaming"); !ok || a.Audience != "https://stream.example.io" {
			t.Errorf("catalog.Service: got %v %v, want the new API", a, ok)
		}
	})
}

func apiEqual(a, b store.API) bool {
	return a.Audience == b.Audience && a.Name == b.Name && a.TokenTTL == b.TokenTTL && a.TokenFormat == b.TokenFormat &&
		a.SigningAlg == b.SigningAlg && a.Service == b.Service && a.BuiltIn == b.BuiltIn && a.ReuseWindow == b.ReuseWindow &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && len(a.Scopes) == len(b.Scopes)
}

func TestUpdateAPI(t *testing.T) {
	w := newWorld(t)
	must(t, first(w.svc.CreateAPI(t.Context(), store.API{Audience: "https://stream.example.io", Service: "streaming"})))
	str := func(s string) *string { return &s }
	dur := func(d time.Duration) *time.Duration { return &d }
	tests := []struct {
		name     string
		audience string
		patch    APIPatch
		want     error
		mention  string
		check    func(store.API) bool
	}{
		{"lifetime only keeps the rest", platform, APIPatch{TokenTTL: dur(time.Hour)}, nil, "",
			func(a store.API) bool { return a.TokenTTL == time.Hour && a.Name == "platform" && len(a.Scopes) == 2 }},
		{"scopes replaced", templateAud, APIPatch{Scopes: &[]store.Scope{{Name: "delivery:read"}, {Name: "delivery:write"}}}, nil, "",
			func(a store.API) bool { return len(a.Scopes) == 2 && a.Name == "delivery" && a.SigningAlg == "ES256" }},
		{"ttl out of range", platform, APIPatch{TokenTTL: dur(30 * time.Second)}, ErrInvalid, "token_ttl", nil},
		{"bad format", platform, APIPatch{TokenFormat: str("xml")}, ErrInvalid, "token_format", nil},
		{"reserved service", platform, APIPatch{Service: str("admin")}, ErrInvalid, "service", nil},
		{"service on a template", templateAud, APIPatch{Service: str("delivery")}, ErrInvalid, "template", nil},
		{"reuse window over half the ttl", platform, APIPatch{ReuseWindow: dur(13 * time.Hour)}, ErrInvalid, "reuse_window", nil},
		{"service taken", platform, APIPatch{Service: str("streaming")}, store.ErrAlreadyExists, "streaming", nil},
		{"missing API", "https://nowhere.example", APIPatch{Name: str("x")}, store.ErrNotFound, "nowhere", nil},
		{"built-in: scopes", store.AdminAudience, APIPatch{Scopes: &[]store.Scope{{Name: "root"}}}, ErrInvalid, "built-in", nil},
		{"built-in: service", store.AdminAudience, APIPatch{Service: str("admin-api")}, ErrInvalid, "built-in", nil},
		{"built-in: format", store.IntrospectAudience, APIPatch{TokenFormat: str(store.FormatOpaque)}, ErrInvalid, "built-in", nil},
		{"built-in: name, lifetime and algorithm", store.AdminAudience, APIPatch{Name: str("ops"), TokenTTL: dur(5 * time.Minute), SigningAlg: str("EdDSA")}, nil, "",
			func(a store.API) bool {
				return a.Name == "ops" && a.TokenTTL == 5*time.Minute && a.SigningAlg == "EdDSA" && a.BuiltIn
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := w.st.GetAPI(t.Context(), tt.audience)
			w.clock.Add(time.Minute)
			_, err := w.svc.UpdateAPI(t.Context(), tt.audience, tt.patch)
			checkErr(t, err, tt.want, tt.mention)
			stored, _ := w.st.GetAPI(t.Context(), tt.audience)
			if tt.want != nil {
				if !apiEqual(stored, before) {
					t.Errorf("a refused update changed the API: got %+v, want %+v", stored, before)
				}
				return
			}
			if !tt.check(stored) || !stored.UpdatedAt.Equal(w.clock.Now()) {
				t.Errorf("stored: got %+v", stored)
			}
			if a, ok := w.cat.Resolve(strings.Replace(tt.audience, store.TenantPlaceholder, "acme", 1), "acme"); !ok || !apiEqual(*a, stored) {
				t.Errorf("catalog: got %+v, want the updated API at once", a)
			}
		})
	}
}

func TestDeleteAPI(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, audience string
		want           error
		mention        string
	}{
		{"product API", platform, nil, ""},
		{"already gone", platform, store.ErrNotFound, platform},
		{"the admin API", store.AdminAudience, ErrInvalid, "built-in"},
		{"the introspection API", store.IntrospectAudience, ErrInvalid, "built-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.svc.DeleteAPI(t.Context(), tt.audience)
			checkErr(t, err, tt.want, tt.mention)
			_, getErr := w.st.GetAPI(t.Context(), tt.audience)
			_, inCatalog := w.cat.Resolve(tt.audience, "")
			gone := tt.want == nil || errors.Is(tt.want, store.ErrNotFound)
			if errors.Is(getErr, store.ErrNotFound) != gone || inCatalog == gone {
				t.Errorf("after delete: store says %v, in catalog %v; want gone %v", getErr, inCatalog, gone)
			}
		})
	}
}

func TestCreateClientRefusals(t *testing.T) {
	w := newWorld(t)
	existing, _ := w.client("existing", nil)
	ok := func(n NewClient) NewClient {
		if n.Name == "" {
			n.Name = "x"
		}
		if n.Tenant == "" {
			n.Tenant = "acme"
		}
		return n
	}
	tests := []struct {
		name    string
		in      NewClient
		want    error
		mention string
	}{
		{"no name", NewClient{Name: " ", Tenant: "acme"}, ErrInvalid, "name"},
		{"no tenant", NewClient{Name: "x"}, ErrInvalid, "tenant"},
		{"environment without tenant", NewClient{Name: "x", Environment: "qa"}, ErrInvalid, "tenant"},
		{"missing tenant", ok(NewClient{Tenant: "nobody"}), ErrInvalid, "nobody"},
		{"missing environment", ok(NewClient{Environment: "prod"}), ErrInvalid, "acme/prod"},
		{"another tenant's environment", ok(NewClient{Tenant: "other", Environment: "qa"}), ErrInvalid, "other/qa"},
		{"grant on a missing API", ok(NewClient{Grants: map[string][]string{"https://nowhere.example": nil}}), ErrInvalid, "nowhere"},
		{"grant on a relative audience", ok(NewClient{Grants: map[string][]string{"api.example.io": nil}}), ErrInvalid, "absolute URI"},
		{"grant of a missing scope", ok(NewClient{Grants: map[string][]string{platform: {"read", "root"}}}), ErrInvalid, "root"},
		{"grant on a resolved template", ok(NewClient{Grants: map[string][]string{"https://delivery.example.io/acme": nil}}), ErrInvalid, "does not exist"},
		{"negative token_ttl", ok(NewClient{TokenTTL: -time.Minute}), ErrInvalid, "token_ttl"},
		{"negative limits", ok(NewClient{Limits: store.Limits{QuotaDay: -1}}), ErrInvalid, "limits"},
		{"bad client id", ok(NewClient{ID: "has space"}), ErrInvalid, "client_id"},
		{"imported secret without its id", ok(NewClient{Secret: "2l9dr0jkink11ad49hg93it52d"}), ErrInvalid, "client_id"},
		{"imported secret too short", ok(NewClient{ID: "legacy-1", Secret: "short"}), ErrInvalid, "16 characters"},
		{"imported secret too long", ok(NewClient{ID: "legacy-1", Secret: strings.Repeat("s", 73)}), ErrInvalid, "72"},
		{"imported secret not printable", ok(NewClient{ID: "legacy-1", Secret: "\x01" + strings.Repeat("s", 20)}), ErrInvalid, "printable"},
		{"negative secret_expires_in", ok(NewClient{SecretExpiresIn: -time.Hour}), ErrInvalid, "secret_expires_in"},
		{"duplicate client id", ok(NewClient{ID: existing.ID}), store.ErrAlreadyExists, existing.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := w.svc.CreateClient(t.Context(), tt.in)
			checkErr(t, err, tt.want, tt.mention)
			if cs, _ := w.st.ListClients(t.Context()); len(cs) != 2 { // the bootstrap admin and existing
				t.Errorf("stored clients: got %d, want 2", len(cs))
			}
			if events := w.audit.take(); len(events) != 0 {
				t.Errorf("audit: got %d events for a refused change, want none", len(events))
			}
		})
	}
}

// TestGeneratedCredentials: client ids and secrets use only [A-Za-z0-9_-]
// (DESIGN.md §2), secrets carry the prefix and 256 random bits, and only
// a fast hash of the secret is stored (§6).
func TestGeneratedCredentials(t *testing.T) {
	w := newWorld(t)
	idRE := regexp.MustCompile(`^[A-Za-z0-9_-]{24}$`)
	secretRE := regexp.MustCompile(`^` + secret.Prefix + `[A-Za-z0-9_-]{43,}$`)
	seen := map[string]bool{}
	for i := range 5 {
		c, plain := w.client("generated", map[string][]string{platform: {"read"}, templateAud: nil})
		if !idRE.MatchString(c.ID) || !secretRE.MatchString(plain) {
			t.Errorf("client %d: got id %q and secret %.12q..., want [A-Za-z0-9_-] and the %q prefix", i, c.ID, plain, secret.Prefix)
		}
		if seen[c.ID] || seen[plain] {
			t.Errorf("client %d: got an id or secret seen before", i)
		}
		seen[c.ID], seen[plain] = true, true
		checkStoredSecret(t, w, c.ID, plain, false)
	}
}

// checkStoredSecret checks that client id holds one secret, stored as a
// hash of plain (slow: bcrypt) that accepts plain and nothing else.
func checkStoredSecret(t *testing.T, w *world, id, plain string, slow bool) {
	t.Helper()
	c := w.stored(id)
	if len(c.Secrets) != 1 {
		t.Fatalf("stored secrets: got %d, want 1", len(c.Secrets))
	}
	h := c.Secrets[0].Hash
	if h == "" || strings.Contains(h, plain) || secret.IsSlow(h) != slow {
		t.Errorf("stored hash: got %.16q..., want a hash (slow %v) that does not hold the secret", h, slow)
	}
	checker := secret.NewChecker()
	if !checker.Check(t.Context(), c.Secrets, plain, w.clock.Now()) {
		t.Errorf("the stored hash refuses the secret it was made from")
	}
	if checker.Check(t.Context(), c.Secrets, plain+"x", w.clock.Now()) {
		t.Errorf("the stored hash accepts another secret")
	}
	if cc, ok := w.cat.Client(id); !ok || len(cc.Secrets) != 1 || cc.Secrets[0].Hash != h {
		t.Errorf("catalog: got %+v, want the new client at once", cc)
	}
}

func TestImportClient(t *testing.T) {
	w := newWorld(t)
	t.Run("id and secret from another vendor: the slow hash", func(t *testing.T) {
		const id, plain = "5934de97c95e1ced", "2l9dr0jkink11ad49hg93it52d"
		c, got, err := w.svc.CreateClient(t.Context(), NewClient{Name: "migrated", Tenant: "acme", ID: id, Secret: plain})
		checkErr(t, err, nil, "")
		if c.ID != id || got != plain {
			t.Errorf("got id %q and another secret, want %q and the imported secret", c.ID, id)
		}
		checkStoredSecret(t, w, id, plain, true)
	})
	t.Run("an id alone gets a generated secret", func(t *testing.T) {
		c, plain, err := w.svc.CreateClient(t.Context(), NewClient{Name: "kept id", Tenant: "acme", ID: "legacy.id-2"})
		checkErr(t, err, nil, "")
		if c.ID != "legacy.id-2" || !strings.HasPrefix(plain, secret.Prefix) {
			t.Errorf("got id %q secret %.12q..., want the given id and a generated secret", c.ID, plain)
		}
		checkStoredSecret(t, w, c.ID, plain, false)
	})
	t.Run("a secret with its own expiry", func(t *testing.T) {
		c, _, err := w.svc.CreateClient(t.Context(), NewClient{Name: "expiring", Tenant: "acme", SecretExpiresIn: 24 * time.Hour})
		checkErr(t, err, nil, "")
		if exp := w.stored(c.ID).Secrets[0].ExpiresAt; exp == nil || !exp.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("expires_at: got %v, want %v", exp, t0.Add(24*time.Hour))
		}
	})
}

// TestGrants: a grant names an API as stored (a template as written) and
// only scopes that API defines; none or nil scopes mean every scope.
func TestGrants(t *testing.T) {
	w := newWorld(t)
	grants := map[string][]string{platform: {"write"}, templateAud: nil, store.AdminAudience: {store.ScopeRead}}
	c, _ := w.client("granted", grants)
	cc, ok := w.cat.Client(c.ID)
	if !ok || len(cc.Grants) != 3 || len(cc.Grants[platform]) != 1 {
		t.Fatalf("catalog grants: got %v, want %v", cc.Grants, grants)
	}
	if a, ok := w.cat.Resolve("https://delivery.example.io/acme", c.Tenant); !ok || a.Audience != templateAud {
		t.Errorf("the template audience for acme: got %v %v, want %s", a, ok, templateAud)
	}
}

func TestUpdateClient(t *testing.T) {
	w := newWorld(t)
	str := func(s string) *string { return &s }
	dur := func(d time.Duration) *time.Duration { return &d }
	grants := func(g map[string][]string) *map[string][]string { return &g }
	tests := []struct {
		name    string
		patch   ClientPatch
		want    error
		mention string
		check   func(*store.Client) bool
	}{
		{"name", ClientPatch{Name: str("renamed")}, nil, "", func(c *store.Client) bool { return c.Name == "renamed" && len(c.Grants[platform]) == 1 }},
		{"grants", ClientPatch{Grants: grants(map[string][]string{templateAud: {"delivery:read"}})}, nil, "",
			func(c *store.Client) bool {
				return len(c.Grants) == 1 && slices.Equal(c.Grants[templateAud], []string{"delivery:read"})
			}},
		{"token_ttl", ClientPatch{TokenTTL: dur(15 * time.Minute)}, nil, "", func(c *store.Client) bool { return c.TokenTTL == 15*time.Minute }},
		{"limits", ClientPatch{Limits: &store.Limits{RatePerSecond: 5, QuotaHour: 8}}, nil, "", func(c *store.Client) bool { return c.Limits.RatePerSecond == 5 }},
		{"empty name", ClientPatch{Name: str("")}, ErrInvalid, "name", nil},
		{"grant on a missing API", ClientPatch{Grants: grants(map[string][]string{"https://nowhere.example": nil})}, ErrInvalid, "nowhere", nil},
		{"grant of a missing scope", ClientPatch{Grants: grants(map[string][]string{platform: {"root"}})}, ErrInvalid, "root", nil},
		{"negative token_ttl", ClientPatch{TokenTTL: dur(-time.Second)}, ErrInvalid, "token_ttl", nil},
		{"negative limits", ClientPatch{Limits: &store.Limits{QuotaHour: -1}}, ErrInvalid, "limits", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := w.client("patched", map[string][]string{platform: {"read"}})
			w.clock.Add(time.Minute)
			_, err := w.svc.UpdateClient(t.Context(), c.ID, tt.patch)
			checkErr(t, err, tt.want, tt.mention)
			stored := w.stored(c.ID)
			if tt.want != nil {
				if !stored.UpdatedAt.Equal(c.UpdatedAt) || stored.Name != "patched" || len(stored.Grants[platform]) != 1 {
					t.Errorf("a refused update changed the client: got %+v", stored)
				}
				return
			}
			if !tt.check(&stored) || !stored.UpdatedAt.Equal(w.clock.Now()) {
				t.Errorf("stored: got %+v", stored)
			}
			if cc, _ := w.cat.Client(c.ID); cc == nil || !tt.check(cc) {
				t.Errorf("catalog: got %+v, want the update at once", cc)
			}
		})
	}
	t.Run("missing client", func(t *testing.T) {
		_, err := w.svc.UpdateClient(t.Context(), "nobody", ClientPatch{Name: str("x")})
		checkErr(t, err, store.ErrNotFound, "nobody")
	})
}

// TestDisableEnable: disabling takes effect in the catalog at once, and
// the audit kind says which way it went.
func TestDisableEnable(t *testing.T) {
	w := newWorld(t)
	c, _ := w.client("switched", nil)
	steps := []struct {
		disabled bool
		kind     string
	}{{true, "client.disable"}, {true, "client.update"}, {false, "client.enable"}, {false, "client.update"}}
	for _, s := range steps {
		_, err := w.svc.UpdateClient(t.Context(), c.ID, ClientPatch{Disabled: &s.disabled})
		checkErr(t, err, nil, "")
		if cc, ok := w.cat.Client(c.ID); !ok || cc.Disabled != s.disabled {
			t.Errorf("catalog after setting disabled %v: got %+v", s.disabled, cc)
		}
		if events := w.audit.take(); len(events) != 1 || events[0].Kind != s.kind {
			t.Errorf("audit after setting disabled %v: got %+v, want one %s", s.disabled, events, s.kind)
		}
	}
}

func TestDeleteClient(t *testing.T) {
	w := newWorld(t)
	c, _ := w.client("doomed", nil)
	checkErr(t, w.svc.DeleteClient(t.Context(), c.ID), nil, "")
	if _, err := w.st.GetClient(t.Context(), c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store after delete: got %v, want ErrNotFound", err)
	}
	if _, ok := w.cat.Client(c.ID); ok {
		t.Errorf("catalog after delete: got the client, want it gone at once")
	}
	checkErr(t, w.svc.DeleteClient(t.Context(), c.ID), store.ErrNotFound, c.ID)
}
