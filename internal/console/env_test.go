package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/token"
)

// fakeKeys is a KeyRotator over a fixed list.
type fakeKeys struct {
	mu      sync.Mutex
	keys    []store.SigningKey
	rotated int
}

func (f *fakeKeys) List(context.Context) ([]store.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.SigningKey(nil), f.keys...), nil
}

func (f *fakeKeys) Rotate(context.Context) ([]store.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotated++
	f.keys = append(f.keys, store.SigningKey{KID: "k-next", Alg: "ES256", State: store.KeyNext})
	return f.keys, nil
}

// fakeUsage reports fixed counts.
type fakeUsage struct{ hour, day int64 }

func (f fakeUsage) ClientUsage(string) (int64, int64) { return f.hour, f.day }

// auditCall is one change the Service reported.
type auditCall struct{ actor, kind, target string }

// env is a console over a real SQLite store, served by httptest.
type env struct {
	t      *testing.T
	h      *Handler
	ts     *httptest.Server
	clock  *fakeclock.Clock
	store  store.Store
	keys   *fakeKeys
	admin  admin.CredentialsFile // admin:read and admin:write
	reader admin.CredentialsFile // admin:read only
	plain  admin.CredentialsFile // no admin grant
	iss    *token.Issuer
	mu     sync.Mutex
	audits []auditCall
}

// changes returns the changes the Service reported so far.
func (e *env) changes() []auditCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]auditCall(nil), e.audits...)
}

// rotations returns how many times the keys were rotated.
func (f *fakeKeys) rotations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rotated
}

// envOpts are what a test changes in the console's set-up.
type envOpts struct {
	usage  Usage
	secure bool
}

func newEnv(t *testing.T, edit func(*envOpts)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, sqlstore.SQLitePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, clock: fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), store: st}
	e.keys = &fakeKeys{keys: []store.SigningKey{{KID: "k-current", Alg: "RS256", State: store.KeyCurrent, CreatedAt: e.clock.Now()}}}
	credsPath := filepath.Join(dir, "admin-client.json")
	if _, err := admin.Bootstrap(ctx, st, credsPath, "http://test/oauth/token", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if e.admin, err = admin.ReadCredentials(credsPath); err != nil {
		t.Fatal(err)
	}
	e.reader = e.addClient(ctx, "reader", map[string][]string{store.AdminAudience: {store.ScopeRead}})
	e.plain = e.addClient(ctx, "plain", map[string][]string{})
	cat := catalog.New(st)
	if err := cat.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	svc := admin.NewService(st, cat, e.record, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock.Now)
	if e.iss, err = token.NewIssuer(token.Config{IssuerURL: "https://auth.example.test"}, keys.NewSet(), cat, st,
		limits.NewAuthThrottle(e.clock.Now), limits.NewLimiter(nil, e.clock.Now), replay.New(nil, time.Second, e.clock.Now), e.clock.Now); err != nil {
		t.Fatal(err)
	}
	var opts envOpts
	if edit != nil {
		edit(&opts)
	}
	e.h, err = New(Config{
		SessionKey: []byte(strings.Repeat("k", 32)), Issuer: "https://auth.example.test", Secure: opts.secure, Now: e.clock.Now,
	}, svc, e.keys, opts.usage, IssuerAuth(e.iss), limits.NewAuthThrottle(e.clock.Now), replay.New(nil, time.Second, e.clock.Now), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Mount(mux)
	mux.HandleFunc("POST /admin/v1/console/links", func(w http.ResponseWriter, r *http.Request) {
		// Stands in for the admin API's bearer check: the test names the caller.
		if id := r.Header.Get("X-Test-Actor"); id != "" {
			r = r.WithContext(admin.WithActor(r.Context(), id))
		}
		e.h.CreateLink(w, r)
	})
	e.ts = httptest.NewServer(mux)
	t.Cleanup(e.ts.Close)
	return e
}

// addClient stores a client with a generated secret and returns its credentials.
func (e *env) addClient(ctx context.Context, name string, grants map[string][]string) admin.CredentialsFile {
	e.t.Helper()
	plain := secret.New()
	c := store.Client{ID: name + "-id", Name: name, Grants: grants, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
		Secrets: []store.Secret{{ID: "s1", Hash: secret.HashFast(plain), CreatedAt: e.clock.Now()}}}
	if err := e.store.CreateClient(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return admin.CredentialsFile{ClientID: c.ID, ClientSecret: plain}
}

// record keeps a change for the test and writes it to the audit log.
func (e *env) record(ctx context.Context, kind, target string, _, _ any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.audits = append(e.audits, auditCall{admin.Actor(ctx), kind, target})
	ev := store.AuditEvent{ID: secret.RandomAlnum(12), At: e.clock.Now(), Kind: kind, Actor: admin.Actor(ctx), Target: target, Detail: "{}"}
	if err := e.store.AppendAudit(ctx, []store.AuditEvent{ev}); err != nil {
		e.t.Errorf("writing the audit log: %v", err)
	}
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) answer {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.ts.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(data)}
}

func (b *browser) get(path string) answer { return b.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrf reads the CSRF token from a page's first form.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	a := b.get(path)
	m := csrfRE.FindStringSubmatch(a.body)
	if m == nil {
		b.e.t.Fatalf("GET %s: no csrf field (status %d)", path, a.status)
	}
	return m[1]
}

// post sends a form from page with that page's CSRF token added.
func (b *browser) post(page, action string, form url.Values) answer {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(page))
	return b.do("POST", action, form)
}

// signin signs in with creds and fails the test unless it works.
func (b *browser) signin(creds admin.CredentialsFile) {
	b.e.t.Helper()
	a := b.post("/console/signin", "/console/signin", url.Values{"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}})
	if a.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign-in as %s: got status %d, want 303\n%s", creds.ClientID, a.status, a.body)
	}
}

// signedIn returns a browser signed in with creds.
func (e *env) signedIn(creds admin.CredentialsFile) *browser {
	b := e.browser()
	b.signin(creds)
	return b
}

// fieldError returns the error shown next to field id on a page, or "".
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// seed makes a tenant, an environment and an API through the Service.
func (e *env) seed() {
	e.t.Helper()
	ctx := admin.WithActor(context.Background(), "seed")
	if _, err := e.h.service.CreateTenant(ctx, "acme", "Acme"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.h.service.CreateEnvironment(ctx, "acme", "qa"); err != nil {
		e.t.Fatal(err)
	}
	api := store.API{Audience: "https://api.acme.test", Scopes: []store.Scope{{Name: "orders:read", Description: "Read orders"}, {Name: "orders:write"}}, TokenTTL: 15 * time.Minute}
	if _, err := e.h.service.CreateAPI(ctx, api); err != nil {
		e.t.Fatal(err)
	}
}
