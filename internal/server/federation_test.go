package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestFederationAcrossNodes: two nodes on PostgreSQL; a trust created
// through one node's store is accepted by the other within seconds; the
// issuance and a refusal are audited with the trust, rule and outside
// subject; `trust test` explains a token through the admin API.
func TestFederationAcrossNodes(t *testing.T) {
	ctx := context.Background()
	gh := fedtest.New(fedtest.Options{TLS: true, Alg: "RS256"})
	defer gh.Close()
	dsn, kek := pgtest.Schema(t), newKEK()
	a := runNode(t, dsn, kek, Options{OutboundHTTP: gh.Client()})
	b := runNode(t, dsn, kek, Options{OutboundHTTP: gh.Client()})
	creds, err := admin.ReadCredentials(a.srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	ac := adminclient.New(ctx, a.url, creds)
	var c admin.ClientView
	for _, step := range []struct {
		path    string
		in, out any
	}{
		{"/admin/v1/tenants", map[string]string{"id": "acme"}, nil},
		{"/admin/v1/apis", map[string]any{"audience": clusterAPI, "scopes": []map[string]string{{"name": "deploy"}}}, nil},
		{"/admin/v1/clients", admin.ClientInput{Name: ptr("ci"), Tenant: "acme", Grants: &map[string][]string{clusterAPI: {"deploy"}}}, &c},
	} {
		if err := ac.Do(ctx, "POST", step.path, step.in, step.out); err != nil {
			t.Fatalf("POST %s: %v", step.path, err)
		}
	}
	now := time.Now()
	if err := a.srv.Store().CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "github", Issuer: gh.URL, CreatedAt: now, UpdatedAt: now,
		Rules: []store.TrustRule{{Name: "deploy", Client: c.ClientID, Match: `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, ok := b.srv.Catalog().Trust("acme", "github"); !ok; _, ok = b.srv.Catalog().Trust("acme", "github") {
		if time.Since(start) > propagation {
			t.Fatalf("the trust is not on the other node after %s", propagation)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a new trust reached the other node in %s", time.Since(start).Round(time.Millisecond))

	mint := func(repo string) string {
		return gh.Sign(fedtest.GitHubActions(gh.URL, repo, "refs/heads/main", "", clusterIssuer, fedtest.Lifetime{}))
	}
	status, body := b.proc().post("/oauth/token", url.Values{"grant_type": {oauth.GrantJWTBearer}, "assertion": {mint("acme/deploy")}, "audience": {clusterAPI}})
	if status != 200 || !strings.Contains(string(body), `"scope":"deploy"`) {
		t.Fatalf("jwt-bearer on the other node: got %d %s, want 200 with scope deploy", status, body)
	}
	status, body = b.proc().post("/oauth/token", url.Values{"grant_type": {oauth.GrantJWTBearer}, "assertion": {mint("acme/other")}, "audience": {clusterAPI}})
	if status != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Fatalf("a token no rule takes: got %d %s, want 400 invalid_grant", status, body)
	}

	audited := func(kind, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			events, err := a.srv.Store().ListAudit(ctx, store.AuditFilter{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				if strings.Contains(e.Detail, want) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s event containing %q in %d events", kind, want, len(events))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	audited(store.AuditTokenIssued, `"ext":{"iss":"`+gh.URL+`","sub":"repo:acme/deploy:ref:refs/heads/main","trust":"acme/github","rule":"deploy"}`)
	audited(store.AuditTokenRefused, `"rule":"deploy","client":"`+c.ClientID+`","result":"no match"`)

	var rep federation.Report
	if err := ac.Do(ctx, "POST", "/admin/v1/tenants/acme/trusts/github/test", map[string]string{"token": mint("acme/other")}, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Accepted || rep.Claims["repository"] != "acme/other" || len(rep.Verdict.Rules) != 1 || rep.Verdict.Rules[0].Result != federation.ResultNoMatch {
		out, _ := json.Marshal(rep)
		t.Errorf("trust test: got %s, want refused with rule deploy not matching", out)
	}
	for _, tt := range []struct {
		name, path, token string
		status            int
	}{
		{"a missing trust", "/admin/v1/tenants/acme/trusts/nope/test", mint("acme/deploy"), 404},
		{"garbage", "/admin/v1/tenants/acme/trusts/github/test", "garbage", 400},
		{"no token", "/admin/v1/tenants/acme/trusts/github/test", "", 400},
	} {
		err := ac.Do(ctx, "POST", tt.path, map[string]string{"token": tt.token}, &rep)
		var e *adminclient.Error
		if !errors.As(err, &e) || e.Status != tt.status {
			t.Errorf("trust test of %s: got %v, want %d", tt.name, err, tt.status)
		}
	}
}
