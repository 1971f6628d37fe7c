package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestFederatedAgainstGatehouse: a federated run with each algorithm gets
// a token for every request, through the trust SeedTrust describes.
func TestFederatedAgainstGatehouse(t *testing.T) {
	g := servertest.Start(t, nil, server.Options{})
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": "https://api.example.io", "signing_alg": "ES256"}, nil)
	var c admin.ClientView
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "workload", "tenant": "acme", "grants": map[string][]string{"https://api.example.io": {}}}, &c)
	ctx := context.Background()
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			// The admin routes for trusts are another change's: store the
			// trust SeedTrust describes directly, as they would.
			body, err := SeedTrust("bench-"+alg, benchKeys()[alg], c.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			rules := body["rules"].([]map[string]any)
			now := time.Now()
			if err := g.Server.Store().CreateTrust(ctx, store.Trust{Tenant: "acme", Name: body["name"].(string), Issuer: FederatedIssuer,
				JWKS: string(body["jwks"].(json.RawMessage)), Audiences: []string{FederatedAudience}, CreatedAt: now, UpdatedAt: now,
				Rules: []store.TrustRule{{Name: "bench", Client: c.ClientID, Match: rules[0]["match"].(string)}}}); err != nil {
				t.Fatal(err)
			}
			if err := g.Server.Catalog().RefreshTrust(ctx, "acme", "bench-"+alg); err != nil {
				t.Fatal(err)
			}
			res, err := Token(ctx, TokenOptions{URL: g.URL, ClientID: c.ClientID, Auth: AuthFederated, Key: benchKeys()[alg], Alg: alg,
				Audience: "https://api.example.io", Concurrency: 2, Duration: 300 * time.Millisecond, Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil || res.OK == 0 || len(res.Failures) > 0 || res.AssertionAlg != alg {
				t.Fatalf("got %v with %d tokens, failures %+v, alg %q", err, res.OK, res.Failures, res.AssertionAlg)
			}
		})
	}
}
