package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
)

// TestRevokeInBrowser: an operator signs in, finds a client's token in the
// audit view and clicks Revoke beside it; the view says so and marks it,
// and introspection then answers the token inactive.
func TestRevokeInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	if err := os.MkdirAll(screenshots, 0o755); err != nil { // signIn leaves pictures
		t.Fatal(err)
	}
	g := servertest.Start(t, nil, server.Options{})
	const audience = "https://api.acme.test"
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": audience, "scopes": []map[string]string{{"name": "orders:read"}}}, nil)
	var c admin.ClientView
	g.Do("POST", "/admin/v1/clients", map[string]any{"tenant": "acme", "name": "svc", "grants": map[string][]string{audience: {"orders:read"}}}, &c)
	tok := accessToken(t, g.URL, c, audience)
	if err := g.Server.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}

	signIn(t, ctx, &gatehouse{url: g.URL, creds: g.Creds, logs: g.Logs})
	do(t, ctx, "revoke from the audit view", chromedp.Navigate(g.URL+"/console/audit?client="+c.ClientID),
		waitText("td", c.ClientID), submit("/console/tokens/revoke"), waitText("p", "was revoked"),
		chromedp.WaitVisible(chromedp.CSS(`.badge.state-retired`)), shot("audit-revoked"))
	if active := introspect(t, g.URL, c, tok); active {
		t.Errorf("introspection after Revoke: got active, want inactive")
	}
}

// accessToken gets a token for c at audience.
func accessToken(t *testing.T, base string, c admin.ClientView, audience string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "audience": {audience}}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	postForm(t, base+"/oauth/token", form, &out)
	return out.AccessToken
}

// introspect asks whether tok is active, as its owner.
func introspect(t *testing.T, base string, c admin.ClientView, tok string) bool {
	t.Helper()
	var out struct {
		Active bool `json:"active"`
	}
	postForm(t, base+"/oauth/introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "token": {tok}}, &out)
	return out.Active
}

func postForm(t *testing.T, u string, form url.Values, out any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: got %d, want 200", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
