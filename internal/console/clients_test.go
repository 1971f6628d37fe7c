package console

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

var secretRE = regexp.MustCompile(`<code id="client-secret" class="secret">([^<]+)</code>`)

// authenticates reports whether the token endpoint's check accepts a secret.
func (e *env) authenticates(clientID, secret string) bool {
	_, err := e.iss.Authenticate(e.t.Context(), oauth.TokenRequest{ClientID: clientID, ClientSecret: secret})
	return err == nil
}

// createClient posts the create form and returns the stored client, the
// secret shown and the page.
func (e *env) createClient(b *browser, form url.Values) (store.Client, string, string) {
	e.t.Helper()
	a := b.post("/console/clients/new", "/console/clients/new", form)
	if a.status != http.StatusOK {
		e.t.Fatalf("create: got status %d, want 200\n%s", a.status, a.body)
	}
	m := secretRE.FindStringSubmatch(a.body)
	if m == nil {
		e.t.Fatalf("got no secret on the page")
	}
	cs, _ := e.store.ListClients(e.t.Context())
	i := slices.IndexFunc(cs, func(c store.Client) bool { return c.Name == form.Get("name") })
	if i < 0 {
		e.t.Fatal("the client was not stored")
	}
	return cs[i], m[1], a.body
}

func TestCreateClient(t *testing.T) {
	e := newEnv(t, func(o *envOpts) { o.usage = fakeUsage{hour: 5, day: 40} })
	e.seed()
	b := e.signedIn(e.admin)
	c, secret, body := e.createClient(b, url.Values{"name": {"CI pipeline"}, "tenant": {"acme"}, "environment": {"acme/qa"}, "ttl": {"10m"},
		"grant": {"https://api.acme.test orders:read", "https://api.acme.test orders:write"}})
	if c.Environment != "qa" || c.TokenTTL != 10*time.Minute || len(c.Grants["https://api.acme.test"]) != 2 {
		t.Errorf("got env %q, ttl %s, grants %v, want qa, 10m, both scopes", c.Environment, c.TokenTTL, c.Grants)
	}
	wantCurl := "curl -X POST 'https://auth.example.test/oauth/token' \\\n  --header 'Content-Type: application/x-www-form-urlencoded' \\\n" +
		"  --data-urlencode 'client_id=" + c.ID + "' \\\n  --data-urlencode 'client_secret=" + secret + "' \\\n" +
		"  --data-urlencode 'grant_type=client_credentials' \\\n  --data-urlencode 'audience=https://api.acme.test'"
	if !strings.Contains(html.UnescapeString(body), wantCurl) {
		t.Errorf("got no curl command like\n%s", wantCurl)
	}
	if !strings.Contains(body, `data-copy="client-secret"`) {
		t.Errorf("got no copy button for the secret")
	}
	if !e.authenticates(c.ID, secret) {
		t.Fatal("the shown secret does not authenticate")
	}
	page := b.get("/console/clients/" + c.ID)
	if strings.Contains(page.body, secret) || strings.Contains(page.body, c.Secrets[0].Hash) {
		t.Errorf("the client page shows the secret or its hash")
	}
	if !strings.Contains(page.body, `data-label="Tokens issued">5</td>`) {
		t.Errorf("the client page does not show the token count")
	}
}

func TestRotateDisableDeleteClient(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	b := e.signedIn(e.admin)
	c, secret, _ := e.createClient(b, url.Values{"name": {"ci"}, "tenant": {"acme"}, "grant": {"https://api.acme.test orders:read"}})

	a := b.post("/console/clients/"+c.ID, "/console/clients/"+c.ID+"/rotate", url.Values{"keep_old": {"24h"}})
	m := secretRE.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil {
		t.Fatalf("rotate: got status %d and no secret, want 200 with the new one", a.status)
	}
	expiry := e.clock.Now().Add(24 * time.Hour).UTC().Format("2006-01-02 15:04 UTC")
	if !strings.Contains(a.body, "works until <strong>"+expiry+"</strong>") {
		t.Errorf("the rotation page does not show the old secret's expiry %s", expiry)
	}
	if !e.authenticates(c.ID, secret) || !e.authenticates(c.ID, m[1]) {
		t.Errorf("got old %v, new %v, want both secrets to work during the overlap", e.authenticates(c.ID, secret), e.authenticates(c.ID, m[1]))
	}
	e.clock.Add(25 * time.Hour)
	if e.authenticates(c.ID, secret) {
		t.Errorf("the old secret still works after keep_old")
	}
	b = e.signedIn(e.admin) // the first session has expired meanwhile

	for _, step := range []struct {
		action   string
		disabled bool
	}{{"disable", true}, {"enable", false}} {
		if a := b.post("/console/clients/"+c.ID, "/console/clients/"+c.ID+"/"+step.action, nil); a.status != http.StatusSeeOther {
			t.Fatalf("%s: got status %d, want 303", step.action, a.status)
		}
		if got, _ := e.h.service.Catalog().Client(c.ID); got.Disabled != step.disabled {
			t.Errorf("%s: got disabled %v, want %v", step.action, got.Disabled, step.disabled)
		}
	}

	if a := b.get("/console/clients/" + c.ID + "/delete"); !strings.Contains(a.body, "Delete the client ci") {
		t.Errorf("got no confirmation step before delete")
	}
	if a := b.post("/console/clients/"+c.ID+"/delete", "/console/clients/"+c.ID+"/delete", nil); a.status != http.StatusSeeOther {
		t.Fatalf("delete: got status %d, want 303", a.status)
	}
	if _, ok := e.h.service.Catalog().Client(c.ID); ok {
		t.Errorf("the client is still in the catalog after delete")
	}
}

func TestChangesAreRecordedAsTheSignedInClient(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn(e.admin)
	if a := b.post("/console/tenants", "/console/tenants", url.Values{"id": {"globex"}}); a.status != http.StatusSeeOther {
		t.Fatalf("got status %d, want 303", a.status)
	}
	if a := b.post("/console/keys", "/console/keys/rotate", nil); a.status != http.StatusSeeOther {
		t.Fatalf("got status %d, want 303", a.status)
	}
	want := []auditCall{{e.admin.ClientID, "tenant.create", "globex"}, {e.admin.ClientID, "keys.rotate", ""}}
	if got := e.changes(); !slices.Equal(got, want) {
		t.Errorf("got changes %v, want %v", got, want)
	}
}

func TestUsageAndLimitsShown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		usage  Usage
		limits store.Limits
		want   []string
		not    []string
	}{
		{"with a counter", fakeUsage{hour: 5, day: 40}, store.Limits{RatePerSecond: 3, QuotaHour: 10, QuotaDay: 100}, []string{"5 of 10", "40 of 100", "3 tokens a second", "enforce"}, []string{"log-only"}},
		{"without one", nil, store.Limits{RatePerSecond: 3, QuotaHour: 10, QuotaDay: 100}, []string{"Counts are not available", "3 tokens a second"}, []string{"Tokens issued"}},
		{"log-only", fakeUsage{hour: 12, day: 12}, store.Limits{QuotaHour: 10, Mode: store.LimitLogOnly}, []string{"12 of 10", "log-only"}, []string{">enforce<"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *envOpts) { o.usage = tc.usage })
			if _, err := e.store.UpdateClient(t.Context(), e.plain.ClientID, func(c store.Client) (store.Client, error) {
				c.Limits = tc.limits
				return c, nil
			}); err != nil {
				t.Fatal(err)
			}
			body := e.signedIn(e.admin).get("/console/clients/" + e.plain.ClientID).body
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("got a page without %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("got a page with %q", w)
				}
			}
		})
	}
}
