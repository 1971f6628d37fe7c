package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTokenAgainstGatehouse runs the load generator against a real node
// that asks for DPoP nonces, for each way a client proves itself: every
// request must get a token (after one use_dpop_nonce per worker), and
// every token must verify.
func TestTokenAgainstGatehouse(t *testing.T) {
	g := servertest.Start(t, func(c *config.Config) { c.DPoPNonce, c.KeyPublishDelay = true, 0 }, server.Options{})
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": "https://api.example.io", "signing_alg": "ES256"}, nil)
	var secretClient, keyClient admin.ClientView
	grants := map[string][]string{"https://api.example.io": {}}
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "secret", "tenant": "acme", "grants": grants}, &secretClient)
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "keyed", "tenant": "acme", "grants": grants}, &keyClient)

	// The admin API does not take auth methods on this branch: register
	// the keys in the store and refresh the node's catalog.
	set := jose.JSONWebKeySet{}
	for _, alg := range []string{"ES256", "RS256"} {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: benchKeys()[alg].Public(), KeyID: alg})
	}
	raw, _ := json.Marshal(set)
	ctx := context.Background()
	if _, err := g.Server.Store().UpdateClient(ctx, keyClient.ClientID, func(c store.Client) (store.Client, error) {
		c.Auth, c.Secrets = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: string(raw)}, nil
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Server.Catalog().RefreshClient(ctx, keyClient.ClientID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		edit func(o *TokenOptions)
	}{
		{"secret", func(o *TokenOptions) {}},
		{"secret and DPoP", func(o *TokenOptions) { o.DPoP = true }},
		{"ES256 assertion", func(o *TokenOptions) { o.Key, o.KeyID = benchKeys()["ES256"], "ES256" }},
		{"RS256 assertion and DPoP", func(o *TokenOptions) { o.Key, o.KeyID, o.DPoP = benchKeys()["RS256"], "RS256", true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := TokenOptions{URL: g.URL, ClientID: secretClient.ClientID, ClientSecret: secretClient.ClientSecret,
				Audience: "https://api.example.io", Concurrency: 2, Duration: 500 * time.Millisecond, Verify: true}
			tt.edit(&o)
			if o.Key != nil {
				o.Auth, o.ClientID, o.ClientSecret = AuthPrivateKeyJWT, keyClient.ClientID, ""
			}
			res, err := Token(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil || res.OK == 0 || res.TransportErrors > 0 {
				t.Fatalf("got %v with %d tokens and %d transport errors (%+v)", err, res.OK, res.TransportErrors, res.TransportKinds)
			}
			for _, f := range res.Failures {
				if !o.DPoP || f.Error != "use_dpop_nonce" || f.Count > uint64(o.Concurrency) {
					t.Errorf("failures: got %+v, want at most one use_dpop_nonce per worker with DPoP, else none", res.Failures)
				}
			}
		})
	}
}
