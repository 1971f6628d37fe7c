package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// seedTrustClients adds a client of acme and one of another tenant, and
// returns their ids.
func (e *env) seedTrustClients() (mine, theirs string) {
	e.t.Helper()
	ctx := admin.WithActor(context.Background(), "seed")
	if _, err := e.h.service.CreateTenant(ctx, "globex", ""); err != nil {
		e.t.Fatal(err)
	}
	grants := map[string][]string{"https://api.acme.test": {"orders:read", "orders:write"}}
	for _, c := range []*string{&mine, &theirs} {
		tenant := "acme"
		if c == &theirs {
			tenant = "globex"
		}
		made, _, err := e.h.service.CreateClient(ctx, admin.NewClient{Name: "deploy", Tenant: tenant, Grants: grants})
		if err != nil {
			e.t.Fatal(err)
		}
		*c = made.ID
	}
	return mine, theirs
}

func publicPEM(t *testing.T) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestTrustForms: a trust made from its tenant's page, a rule added on
// the trust's page, each refused field shown next to its input, then the
// rule and the trust deleted after a confirmation; every change is the
// signed-in client's.
func TestTrustForms(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	mine, theirs := e.seedTrustClients()
	b := e.signedIn(e.admin)
	list := "/console/tenants/acme/trusts"

	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"http issuer", url.Values{"name": {"gh"}, "issuer": {"http://issuer.example"}}, "issuer", "https"},
		{"bad name", url.Values{"name": {"Git Hub"}, "issuer": {"https://issuer.example"}}, "trust_name", "lower-case"},
		{"bad max age", url.Values{"name": {"gh"}, "issuer": {"https://issuer.example"}, "max_age": {"soon"}}, "max_age", "not valid"},
		{"bad keys", url.Values{"name": {"gh"}, "issuer": {"https://issuer.example"}, "jwks": {`{"keys":[]}`}}, "jwks", "JWKS"},
		{"both key sources", url.Values{"name": {"gh"}, "issuer": {"https://issuer.example"}, "jwks": {publicPEM(t)}, "jwks_uri": {"https://issuer.example/k"}}, "jwks", "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(list, list, tc.form)
			if got := html.UnescapeString(fieldError(a.body, tc.field)); a.status != http.StatusBadRequest || !strings.Contains(got, tc.want) {
				t.Errorf("got status %d and error %q on %s, want 400 and one mentioning %q", a.status, got, tc.field, tc.want)
			}
		})
	}

	a := b.post(list, list, url.Values{"name": {"k8s"}, "issuer": {"https://k8s.example"}, "jwks": {publicPEM(t)},
		"audiences": {"gatehouse\nhttps://gatehouse.example"}, "max_age": {"1h"}, "single_use": {"on"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != list+"/k8s?created=1" {
		t.Fatalf("create: got %d to %q, want 303 to the trust's page\n%s", a.status, a.header.Get("Location"), a.body)
	}
	tr, err := e.store.GetTrust(t.Context(), "acme", "k8s")
	if err != nil || admin.KeySourceOf(tr) != admin.KeySourceJWKS || len(tr.Audiences) != 2 || !tr.SingleUse || tr.MaxAge.String() != "1h0m0s" {
		t.Fatalf("stored: got %+v, %v", tr, err)
	}
	if a := b.post(list, list, url.Values{"name": {"k8s"}, "issuer": {"https://k8s.example"}}); a.status != http.StatusConflict || fieldError(a.body, "trust_name") == "" {
		t.Errorf("create twice: got %d, want 409 with the name marked", a.status)
	}
	if a := b.get("/console/tenants"); !strings.Contains(a.body, `href="/console/tenants/acme/trusts/k8s"`) {
		t.Errorf("the tenants page does not list the trust")
	}

	page := list + "/k8s"
	rules := page + "/rules"
	match := `claims.sub == "system:serviceaccount:billing:export"`
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"CEL that does not compile", url.Values{"name": {"r"}, "client": {mine}, "match": {"claims.sub =="}}, "match", "Syntax error"},
		{"a client of another tenant", url.Values{"name": {"r"}, "client": {theirs}, "match": {match}}, "client", "globex"},
		{"a scope the client lacks", url.Values{"name": {"r"}, "client": {mine}, "match": {match}, "scopes": {"admin"}}, "scopes", "orders:read"},
		{"a bad ttl", url.Values{"name": {"r"}, "client": {mine}, "match": {match}, "ttl": {"later"}}, "ttl", "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(page, rules, tc.form)
			if got := html.UnescapeString(fieldError(a.body, tc.field)); a.status != http.StatusBadRequest || !strings.Contains(got, tc.want) {
				t.Errorf("got status %d and error %q on %s, want 400 and one mentioning %q", a.status, got, tc.field, tc.want)
			}
		})
	}
	a = b.post(page, rules, url.Values{"name": {"export"}, "client": {mine}, "match": {match}, "scopes": {"orders:read"}, "ttl": {"10m"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("add rule: got %d, want 303\n%s", a.status, a.body)
	}
	shown := b.get(page)
	for _, want := range []string{"<code>export</code>", html.EscapeString(match), "10m", "static JWKS"} {
		if !strings.Contains(shown.body, want) {
			t.Errorf("the trust page does not show %q", want)
		}
	}
	if a := b.post(page, rules, url.Values{"name": {"export"}, "client": {mine}, "match": {"true"}}); a.status != http.StatusConflict {
		t.Errorf("the same rule twice: got %d, want 409", a.status)
	}

	del := "/console/clients/" + mine + "/delete"
	if a := b.post(del, del, nil); a.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(a.body), `named by rule "export" of trust acme/k8s`) {
		t.Errorf("deleting a client a rule names: got %d, want 400 naming the rule", a.status)
	}
	if a := b.get(rules + "/export/delete"); a.status != http.StatusOK || !strings.Contains(a.body, "Delete the rule export") {
		t.Errorf("confirm rule delete: got %d", a.status)
	}
	if a := b.post(rules+"/export/delete", rules+"/export/delete", nil); a.status != http.StatusSeeOther {
		t.Errorf("delete rule: got %d, want 303", a.status)
	}
	if tr, _ := e.store.GetTrust(t.Context(), "acme", "k8s"); len(tr.Rules) != 0 {
		t.Errorf("after deleting the rule: got %d rules, want 0", len(tr.Rules))
	}
	if a := b.get(rules + "/export/delete"); a.status != http.StatusNotFound {
		t.Errorf("confirm deleting a missing rule: got %d, want 404", a.status)
	}
	if a := b.post(page+"/delete", page+"/delete", nil); a.status != http.StatusSeeOther {
		t.Errorf("delete trust: got %d, want 303", a.status)
	}
	if a := b.get(page); a.status != http.StatusNotFound {
		t.Errorf("the deleted trust's page: got %d, want 404", a.status)
	}
	var kinds []string
	for _, c := range e.changes() {
		if strings.HasPrefix(c.kind, "trust.") {
			kinds = append(kinds, c.kind)
			if c.actor != e.admin.ClientID {
				t.Errorf("%s: got actor %q, want %q", c.kind, c.actor, e.admin.ClientID)
			}
		}
	}
	if got := strings.Join(kinds, " "); got != "trust.create trust.add_rule trust.delete_rule trust.delete" {
		t.Errorf("audit: got %s", got)
	}
}

// TestTrustFormsGuarded: each trust form needs the session's CSRF token
// and admin:write; a read-only user sees no form.
func TestTrustFormsGuarded(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	mine, _ := e.seedTrustClients()
	ctx := admin.WithActor(context.Background(), "seed")
	if _, err := e.h.service.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "gh", Issuer: "https://token.actions.githubusercontent.com",
		Rules: []store.TrustRule{{Name: "main", Client: mine, Match: "true"}}}); err != nil {
		t.Fatal(err)
	}
	page := "/console/tenants/acme/trusts/gh"
	actions := []string{"/console/tenants/acme/trusts", page + "/rules", page + "/rules/main/delete", page + "/delete"}
	writer, reader := e.signedIn(e.admin), e.signedIn(e.reader)
	for _, action := range actions {
		t.Run(action, func(t *testing.T) {
			form := url.Values{"name": {"x"}, "issuer": {"https://x.example"}, "client": {mine}, "match": {"true"}}
			if a := writer.do("POST", action, form); a.status != http.StatusForbidden {
				t.Errorf("without a CSRF token: got %d, want 403", a.status)
			}
			form.Set("csrf", reader.csrf("/console/"))
			if a := reader.do("POST", action, form); a.status != http.StatusForbidden || !strings.Contains(a.body, "admin:read only") {
				t.Errorf("read-only: got %d, want 403 saying read-only", a.status)
			}
		})
	}
	if tr, _ := e.store.GetTrust(t.Context(), "acme", "gh"); len(tr.Rules) != 1 {
		t.Errorf("after refused posts: got %d rules, want 1", len(tr.Rules))
	}
	if a := reader.get(page); a.status != http.StatusOK || strings.Contains(a.body, `action="`+page+`/rules"`) || !strings.Contains(a.body, "<code>main</code>") {
		t.Errorf("read-only trust page: got %d, want the rules and no form", a.status)
	}
	if a := reader.get("/console/tenants/nobody/trusts"); a.status != http.StatusNotFound {
		t.Errorf("a missing tenant's trusts: got %d, want 404", a.status)
	}
}
