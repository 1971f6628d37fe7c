package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// postForms lists every signed-in form: where it is shown and where it posts.
func postForms(clientID string) []struct{ page, action string } {
	return []struct{ page, action string }{
		{"/console/", "/console/signout"},
		{"/console/tenants", "/console/tenants"},
		{"/console/tenants", "/console/environments"},
		{"/console/apis/new", "/console/apis/new"},
		{"/console/apis/edit?audience=https://api.acme.test", "/console/apis/edit"},
		{"/console/apis/delete?audience=https://api.acme.test", "/console/apis/delete"},
		{"/console/clients/new", "/console/clients/new"},
		{"/console/clients/" + clientID, "/console/clients/" + clientID + "/rotate"},
		{"/console/clients/" + clientID, "/console/clients/" + clientID + "/auth"},
		{"/console/clients/" + clientID, "/console/clients/" + clientID + "/disable"},
		{"/console/clients/" + clientID, "/console/clients/" + clientID + "/enable"},
		{"/console/clients/" + clientID + "/delete", "/console/clients/" + clientID + "/delete"},
		{"/console/keys", "/console/keys/rotate"},
		{"/console/audit", "/console/tokens/revoke"},
	}
}

func TestEveryPostNeedsCSRF(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	other := e.signedIn(e.admin).csrf("/console/")
	for _, f := range postForms(e.plain.ClientID) {
		for _, tc := range []struct{ name, token string }{{"missing", ""}, {"another session's", other}, {"made up", "AAAA"}} {
			t.Run(f.action+"/"+tc.name, func(t *testing.T) {
				form := url.Values{"audience": {"https://api.acme.test"}, "id": {"x"}, "name": {"x"}}
				if tc.token != "" {
					form.Set("csrf", tc.token)
				}
				if a := b.do("POST", f.action, form); a.status != http.StatusForbidden {
					t.Errorf("got status %d, want 403", a.status)
				}
			})
		}
	}
	if n, changes := e.keys.rotations(), e.changes(); n != 0 || len(changes) != 3 { // the seed's three changes only
		t.Errorf("got %d key rotations and changes %v, want 0 and the seed's 3", n, changes)
	}
}

func TestReadOnlyUserCannotPost(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.reader)
	for _, f := range postForms(e.plain.ClientID)[1:] { // signing out is allowed
		t.Run(f.action, func(t *testing.T) {
			form := url.Values{"csrf": {b.csrf("/console/")}, "id": {"x"}, "audience": {"https://api.acme.test"}}
			a := b.do("POST", f.action, form)
			if a.status != http.StatusForbidden || !strings.Contains(a.body, "admin:read only") {
				t.Errorf("got status %d, want 403 saying read-only", a.status)
			}
		})
	}
	if a := b.get("/console/tenants"); strings.Contains(a.body, `action="/console/tenants"`) {
		t.Errorf("a read-only user is shown the create-tenant form")
	}
	if n := e.keys.rotations(); n != 0 {
		t.Errorf("got %d key rotations, want 0", n)
	}
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, func(o *envOpts) { o.usage = fakeUsage{hour: 7, day: 70} })
	e.seed()
	b := e.signedIn(e.admin)
	for _, tc := range []struct{ path, want string }{
		{"/console/", "Create an API key"},
		{"/console/tenants", "acme"},
		{"/console/apis", "orders:read"},
		{"/console/apis/new", "Token lifetime"},
		{"/console/apis/edit?audience=https://api.acme.test", "orders:read Read orders"},
		{"/console/apis/delete?audience=https://api.acme.test", "Delete the API https://api.acme.test?"},
		{"/console/clients", e.admin.ClientID},
		{"/console/clients?tenant=acme", "No clients for tenant acme"},
		{"/console/clients/new", `value="https://api.acme.test orders:read"`},
		{"/console/clients/" + e.admin.ClientID, "Rotate the secret"},
		{"/console/clients/" + e.admin.ClientID + "/delete", "This is an admin client"},
		{"/console/keys", "k-current"},
		{"/console/audit", "tenant.create"},
		{"/console/signin", "/console/"}, // signed in: back to the console
	} {
		t.Run(tc.path, func(t *testing.T) {
			a := b.get(tc.path)
			if tc.path == "/console/signin" {
				if a.status != http.StatusSeeOther {
					t.Errorf("got status %d, want 303", a.status)
				}
				return
			}
			if a.status != http.StatusOK {
				t.Fatalf("got status %d, want 200\n%s", a.status, a.body)
			}
			if !strings.Contains(a.body, tc.want) {
				t.Errorf("got a page without %q", tc.want)
			}
			checkSecurityHeaders(t, a.header)
		})
	}
	t.Run("not found", func(t *testing.T) {
		if a := b.get("/console/clients/nobody"); a.status != http.StatusNotFound {
			t.Errorf("got status %d, want 404", a.status)
		}
		if a := b.get("/console/nowhere"); a.status != http.StatusNotFound {
			t.Errorf("got status %d, want 404", a.status)
		}
	})
	t.Run("signed out pages", func(t *testing.T) {
		a := e.browser().get("/console/signin")
		if a.status != http.StatusOK {
			t.Fatalf("got status %d, want 200", a.status)
		}
		checkSecurityHeaders(t, a.header)
	})
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("got %s %q, want %q", name, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("got Content-Security-Policy %q, want self only", csp)
	}
}

// with returns a copy of base with the name-value pairs kv set.
func with(base url.Values, kv ...string) url.Values {
	v := url.Values{}
	for k, vs := range base {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// A valid API form and a valid client form, for tests to break one field of.
var (
	goodAPI    = url.Values{"audience": {"https://new.acme.test"}, "ttl": {"1h"}, "format": {"jwt"}, "alg": {"RS256"}}
	goodClient = url.Values{"name": {"ci"}, "tenant": {"acme"}, "grant": {"https://api.acme.test orders:read"}}
)

func TestValidationErrorsNextToField(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	for _, tc := range []struct {
		name, page, action string
		form               url.Values
		status             int
		field, want        string
	}{
		{"tenant id", "/console/tenants", "/console/tenants", url.Values{"id": {"Not A Slug"}}, 400, "tenant_id", "Tenant id &#34;Not A Slug&#34; must be 1-63 lower-case letters"},
		{"tenant exists", "/console/tenants", "/console/tenants", url.Values{"id": {"acme"}}, 409, "tenant_id", "already exists"},
		{"environment id", "/console/tenants", "/console/environments", url.Values{"tenant": {"acme"}, "id": {"QA!"}}, 400, "env_id", "must be 1-63"},
		{"environment exists", "/console/tenants", "/console/environments", url.Values{"tenant": {"acme"}, "id": {"qa"}}, 409, "env_id", "already has an environment"},
		{"environment tenant", "/console/tenants", "/console/environments", url.Values{"tenant": {"nobody"}, "id": {"qa"}}, 400, "env_tenant", "Pick a tenant that exists."},
		{"audience", "/console/apis/new", "/console/apis/new", with(goodAPI, "audience", "not a uri"), 400, "audience", "is not an absolute URI"},
		{"audience reserved", "/console/apis/new", "/console/apis/new", with(goodAPI, "audience", "urn:gatehouse:x"), 400, "audience", "reserved"},
		{"audience exists", "/console/apis/new", "/console/apis/new", with(goodAPI, "audience", "https://api.acme.test"), 409, "audience", "already exists"},
		{"lifetime text", "/console/apis/new", "/console/apis/new", with(goodAPI, "ttl", "soon"), 400, "ttl", "is not valid"},
		{"lifetime range", "/console/apis/new", "/console/apis/new", with(goodAPI, "ttl", "10s"), 400, "ttl", "The token lifetime must be between 1m and 720h"},
		{"scope name", "/console/apis/new", "/console/apis/new", with(goodAPI, "scopes", "ok:read\nbad\"name x"), 400, "scopes", "is not a valid scope name"},
		{"service", "/console/apis/new", "/console/apis/new", with(goodAPI, "service", "admin"), 400, "service", "is not a valid service name"},
		{"edit lifetime", "/console/apis/edit?audience=https://api.acme.test", "/console/apis/edit", with(goodAPI, "audience", "https://api.acme.test", "ttl", "1000h"), 400, "ttl", "between 1m and 720h"},
		{"client name", "/console/clients/new", "/console/clients/new", with(goodClient, "name", ""), 400, "name", "Name is required."},
		{"client tenant", "/console/clients/new", "/console/clients/new", with(goodClient, "tenant", "nobody"), 400, "tenant", "does not exist"},
		{"client environment", "/console/clients/new", "/console/clients/new", with(goodClient, "environment", "other/qa"), 400, "environment", "belongs to another tenant"},
		{"client lifetime", "/console/clients/new", "/console/clients/new", with(goodClient, "ttl", "a while"), 400, "ttl", "is not valid"},
		{"client grant", "/console/clients/new", "/console/clients/new", with(goodClient, "grant", "https://api.acme.test orders:delete"), 400, "grants", "which the API does not define"},
		{"keep old", "/console/clients/" + e.plain.ClientID, "/console/clients/" + e.plain.ClientID + "/rotate", url.Values{"keep_old": {"60d"}}, 400, "keep_old", "between 0 and 720h"},
		{"keep old text", "/console/clients/" + e.plain.ClientID, "/console/clients/" + e.plain.ClientID + "/rotate", url.Values{"keep_old": {"forever"}}, 400, "keep_old", "is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(tc.page, tc.action, tc.form)
			if a.status != tc.status {
				t.Fatalf("got status %d, want %d\n%s", a.status, tc.status, a.body)
			}
			if got := fieldError(a.body, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("got error %q next to %s, want one containing %q", got, tc.field, tc.want)
			}
			if tc.field != "grants" && !strings.Contains(a.body, `aria-invalid="true"`) {
				t.Errorf("got no field marked invalid")
			}
		})
	}
	t.Run("audit since", func(t *testing.T) {
		a := b.get("/console/audit?since=yesterday")
		if a.status != http.StatusBadRequest || fieldError(a.body, "since") == "" {
			t.Errorf("got status %d, error %q, want 400 with an error next to since", a.status, fieldError(a.body, "since"))
		}
	})
	t.Run("form keeps what was typed", func(t *testing.T) {
		a := b.post("/console/clients/new", "/console/clients/new", with(goodClient, "name", "", "ttl", "15m"))
		if !strings.Contains(a.body, `value="15m"`) || !strings.Contains(a.body, `value="https://api.acme.test orders:read" checked`) {
			t.Errorf("got a form that lost the typed lifetime or the ticked grant")
		}
	})
}

func TestAPILifecycle(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn(e.admin)
	form := url.Values{"audience": {"https://shop.example.test/api"}, "name": {"Shop"}, "scopes": {"cart:read Read carts\r\n\r\ncart:write"},
		"ttl": {"15m"}, "format": {"opaque"}, "alg": {"ES256"}, "service": {"shop"}}
	if a := b.post("/console/apis/new", "/console/apis/new", form); a.status != http.StatusSeeOther {
		t.Fatalf("create: got status %d, want 303\n%s", a.status, a.body)
	}
	got, err := e.store.GetAPI(t.Context(), "https://shop.example.test/api")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Scope{{Name: "cart:read", Description: "Read carts"}, {Name: "cart:write"}}
	if len(got.Scopes) != 2 || got.Scopes[0] != want[0] || got.Scopes[1] != want[1] || got.TokenTTL != 15*time.Minute || got.TokenFormat != "opaque" || got.Service != "shop" {
		t.Errorf("got %+v, want scopes %v, 15m, opaque, service shop", got, want)
	}
	form.Set("ttl", "2h")
	form.Set("scopes", "cart:read Read carts")
	if a := b.post("/console/apis/edit?audience="+url.QueryEscape(got.Audience), "/console/apis/edit", form); a.status != http.StatusSeeOther {
		t.Fatalf("edit: got status %d, want 303\n%s", a.status, a.body)
	}
	if got, _ = e.store.GetAPI(t.Context(), got.Audience); got.TokenTTL != 2*time.Hour || len(got.Scopes) != 1 {
		t.Errorf("after edit: got ttl %s, %d scopes, want 2h and 1", got.TokenTTL, len(got.Scopes))
	}
	t.Run("built-in API keeps its scopes", func(t *testing.T) {
		f := url.Values{"audience": {store.AdminAudience}, "name": {"admin"}, "ttl": {"10m"}, "alg": {"ES256"}, "scopes": {"evil"}}
		if a := b.post("/console/apis/edit?audience="+store.AdminAudience, "/console/apis/edit", f); a.status != http.StatusSeeOther {
			t.Fatalf("got status %d, want 303\n%s", a.status, a.body)
		}
		a, _ := e.store.GetAPI(t.Context(), store.AdminAudience)
		if a.TokenTTL != 10*time.Minute || len(a.Scopes) != 2 {
			t.Errorf("got ttl %s and %d scopes, want 10m and the 2 built-in ones", a.TokenTTL, len(a.Scopes))
		}
		if r := b.get("/console/apis/delete?audience=" + store.AdminAudience); r.status != http.StatusBadRequest {
			t.Errorf("delete page for the built-in API: got status %d, want 400", r.status)
		}
	})
	if a := b.post("/console/apis/delete?audience="+url.QueryEscape(got.Audience), "/console/apis/delete", url.Values{"audience": {got.Audience}}); a.status != http.StatusSeeOther {
		t.Fatalf("delete: got status %d, want 303", a.status)
	}
	if _, err := e.store.GetAPI(t.Context(), got.Audience); !isNotFound(err) {
		t.Errorf("after delete: got %v, want not found", err)
	}
}

func TestAuditFilter(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	events := []store.AuditEvent{
		{ID: "1", At: now.Add(-30 * time.Minute), Kind: "token.issued", Actor: "alpha", ClientID: "alpha", Target: "aud-recent-alpha", Detail: "{}"},
		{ID: "2", At: now.Add(-3 * time.Hour), Kind: "token.issued", Actor: "alpha", ClientID: "alpha", Target: "aud-old-alpha", Detail: "{}"},
		{ID: "3", At: now.Add(-10 * time.Minute), Kind: "token.issued", Actor: "beta", ClientID: "beta", Target: "aud-recent-beta", Detail: "{}"},
	}
	if err := e.store.AppendAudit(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(e.reader)
	for _, tc := range []struct {
		query     string
		want, not []string
	}{
		{"", []string{"aud-recent-alpha", "aud-old-alpha", "aud-recent-beta"}, nil},
		{"?since=1h", []string{"aud-recent-alpha", "aud-recent-beta"}, []string{"aud-old-alpha"}},
		{"?client=alpha&since=", []string{"aud-recent-alpha", "aud-old-alpha"}, []string{"aud-recent-beta"}},
		{"?client=alpha&since=1h", []string{"aud-recent-alpha"}, []string{"aud-old-alpha", "aud-recent-beta"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a := b.get("/console/audit" + tc.query)
			if a.status != http.StatusOK {
				t.Fatalf("got status %d, want 200", a.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(a.body, w) {
					t.Errorf("got no %s", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(a.body, w) {
					t.Errorf("got %s, which the filter excludes", w)
				}
			}
		})
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ path, contentType string }{
		{"/console/static/console.css", "text/css"},
		{"/console/static/console.js", "text/javascript"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a := e.browser().get(tc.path)
			if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), tc.contentType) {
				t.Errorf("got %d %q, want 200 %s", a.status, a.header.Get("Content-Type"), tc.contentType)
			}
		})
	}
}
