package token

import (
	"encoding/base64"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// The APIs of every world: the documents' shapes under example names.
const (
	issuerURL = "https://auth.example.io"
	// platform is one audience for many products (seeds/000-002).
	platform = "https://api.example.io"
	// delivery is a per-tenant template audience (seeds/004).
	delivery = "https://delivery.example.io/{tenant}"
	// property is a per-service API issuing opaque tokens (seeds/003).
	property = "https://streaming.example.io/property"
	// catalogue is a per-service API issuing JWTs for one hour.
	catalogue = "https://streaming.example.io/catalog"
)

// world is a token endpoint over a real SQLite store: tenants acme (with
// environment qa) and other, the APIs above made through the admin rules,
// signing keys kept in the store, and a clock the test moves.
type world struct {
	t     testing.TB
	dir   string
	st    *sqlstore.Store
	admin *admin.Service
	cat   *catalog.Catalog
	keys  *keys.Set
	clock *fakeclock.Clock
	iss   *Issuer
	qa    store.Environment
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{t: t, dir: t.TempDir(), clock: fakeclock.New(time.Now().UTC().Truncate(time.Hour).Add(10 * time.Minute))}
	st, err := sqlstore.Open(ctx, sqlstore.SQLitePath(w.dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	// The built-in APIs (introspection) exist in every store.
	if _, err := admin.Bootstrap(ctx, st, filepath.Join(w.dir, "admin-client.json"), issuerURL+"/oauth/token", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.cat = catalog.New(st)
	w.admin = admin.NewService(st, w.cat, nil, slog.New(slog.DiscardHandler), w.clock.Now)
	w.seed()
	if err := w.cat.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	kek, err := keys.ParseKEK(base64.StdEncoding.EncodeToString(make([]byte, 32)), "test")
	if err != nil {
		t.Fatal(err)
	}
	w.keys = keys.NewSet()
	rot := &keys.Rotator{Store: st, KEK: kek, Set: w.keys, Now: w.clock.Now, Log: slog.New(slog.DiscardHandler),
		MaxTokenTTL: func() time.Duration { return 24 * time.Hour }}
	if err := rot.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	w.iss = w.issuer(Config{IssuerURL: issuerURL})
	return w
}

// seed makes the tenants, the environment and the APIs.
func (w *world) seed() {
	ctx := w.t.Context()
	for _, id := range []string{"acme", "other"} {
		if _, err := w.admin.CreateTenant(ctx, id, ""); err != nil {
			w.t.Fatal(err)
		}
	}
	qa, err := w.admin.CreateEnvironment(ctx, "acme", "qa")
	if err != nil {
		w.t.Fatal(err)
	}
	w.qa = qa
	scopes := func(names ...string) []store.Scope {
		var out []store.Scope
		for _, n := range names {
			out = append(out, store.Scope{Name: n})
		}
		return out
	}
	for _, a := range []store.API{
		{Audience: platform, Scopes: scopes("read", "write", "legacy"), TokenTTL: 24 * time.Hour},
		{Audience: delivery, Scopes: scopes("delivery:read"), SigningAlg: "ES256"},
		{Audience: property, Service: "streaming-property", TokenFormat: store.FormatOpaque, TokenTTL: time.Hour, Scopes: scopes("property:write")},
		{Audience: catalogue, Service: "streaming-catalog", TokenTTL: time.Hour, Scopes: scopes("catalog:write"), SigningAlg: "EdDSA"},
	} {
		if _, err := w.admin.CreateAPI(ctx, a); err != nil {
			w.t.Fatal(err)
		}
	}
}

// issuer is another Issuer over the world's store, catalog and keys, with
// its own throttle and limits: a second node, or other settings.
func (w *world) issuer(cfg Config) *Issuer {
	w.t.Helper()
	i, err := NewIssuer(cfg, w.keys, w.cat, w.st, limits.NewAuthThrottle(w.clock.Now), limits.NewLimiter(nil, w.clock.Now), replay.New(nil, time.Second, w.clock.Now), w.clock.Now)
	if err != nil {
		w.t.Fatal(err)
	}
	return i
}

// cred is a client's id and secret as its holder has them.
type cred struct{ id, secret string }

// client creates a client through the admin rules.
func (w *world) client(n admin.NewClient) cred {
	w.t.Helper()
	if n.Name == "" {
		n.Name = "test client"
	}
	if n.Tenant == "" {
		n.Tenant = "acme"
	}
	c, plain, err := w.admin.CreateClient(w.t.Context(), n)
	if err != nil {
		w.t.Fatal(err)
	}
	return cred{c.ID, plain}
}

// withAuth creates a client through the admin rules, then registers auth
// for it directly in the store and reloads it into the catalog (the admin
// rules for these fields are another change's). The secret the admin rules
// made stays on the client: a method without secrets must refuse it.
func (w *world) withAuth(auth store.ClientAuth, n admin.NewClient) cred {
	w.t.Helper()
	c := w.client(n)
	w.setAuth(c, auth)
	return c
}

// setAuth replaces c's registered authentication in the store and reloads
// c into the catalog.
func (w *world) setAuth(c cred, auth store.ClientAuth) {
	w.t.Helper()
	ctx := w.t.Context()
	if _, err := w.st.UpdateClient(ctx, c.id, func(old store.Client) (store.Client, error) {
		old.Auth = auth
		return old, nil
	}); err != nil {
		w.t.Fatal(err)
	}
	if err := w.cat.RefreshClient(ctx, c.id); err != nil {
		w.t.Fatal(err)
	}
}

// stored is the catalog's value of a client, as the policy sees it.
func (w *world) stored(c cred) *store.Client {
	w.t.Helper()
	sc, ok := w.cat.Client(c.id)
	if !ok {
		w.t.Fatalf("client %s is not in the catalog", c.id)
	}
	return sc
}

// req is a client_credentials request by c in the body, with more
// parameters as name/value pairs.
func (c cred) req(kv ...string) oauth.TokenRequest {
	r := oauth.TokenRequest{GrantType: "client_credentials", ClientID: c.id, ClientSecret: c.secret}
	return withParams(r, kv...)
}

func withParams(r oauth.TokenRequest, kv ...string) oauth.TokenRequest {
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1]; kv[i] {
		case "grant_type":
			r.GrantType = v
		case "client_id":
			r.ClientID = v
		case "client_secret":
			r.ClientSecret = v
		case "audience":
			r.Audience = v
		case "resource":
			r.Resource = v
		case "scope":
			r.Scope, r.ScopeGiven = v, true
		case "token":
			r.Token = v
		case "client_assertion_type":
			r.ClientAssertionType = v
		case "client_assertion":
			r.ClientAssertion = v
		default:
			panic("withParams: unknown parameter " + kv[i])
		}
	}
	return r
}

// form encodes name/value pairs as a form body.
func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// wantError checks that err is the OAuth error status/code and that its
// description holds desc.
func wantError(t *testing.T, err error, status int, code, desc string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d %s", status, code)
	}
	e := oauth.AsError(err)
	if e.Status != status || e.Code != code || !strings.Contains(e.Description, desc) {
		t.Errorf("got %d %s %q, want %d %s containing %q", e.Status, e.Code, e.Description, status, code, desc)
	}
}
