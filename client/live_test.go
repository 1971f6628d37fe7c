package client_test

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

const liveAudience = "https://api.example.io"

// startLive runs a real gatehouse that asks for DPoP nonces, with one API
// and one client, and a product API behind package verify that answers
// with the token's client and key binding.
func startLive(t *testing.T) (g *servertest.Gatehouse, c admin.ClientView, apiURL string) {
	t.Helper()
	g = servertest.Start(t, func(c *config.Config) { c.DPoPNonce, c.KeyPublishDelay = true, 0 }, server.Options{})
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": liveAudience, "signing_alg": "ES256",
		"scopes": []map[string]string{{"name": "read"}}}, nil)
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "deploy", "tenant": "acme",
		"grants": map[string][]string{liveAudience: {"read"}}}, &c)
	v, err := verify.New(context.Background(), verify.Config{Issuer: g.Config.Issuer, Audience: liveAudience})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "%s jkt=%s", claims.ClientID, claims.Confirmation.JKT)
	})))
	t.Cleanup(api.Close)
	return g, c, api.URL
}

// registerKey makes the client a private_key_jwt one with pub as its
// only key. The admin API does not take auth methods yet on this branch,
// so the test writes the store and refreshes the node's catalog.
func registerKey(t *testing.T, g *servertest.Gatehouse, id string, pub crypto.PublicKey) {
	t.Helper()
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k1", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = g.Server.Store().UpdateClient(ctx, id, func(old store.Client) (store.Client, error) {
		old.Auth = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: string(set)}
		old.Secrets = nil
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Server.Catalog().RefreshClient(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// TestAgainstGatehouse calls a verify-protected API with tokens from a
// real gatehouse: with a secret, with a private key, each with and
// without DPoP.
func TestAgainstGatehouse(t *testing.T) {
	g, secretClient, apiURL := startLive(t)
	var keyClient admin.ClientView
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "keyed", "tenant": "acme",
		"grants": map[string][]string{liveAudience: {"read"}}}, &keyClient)
	registerKey(t, g, keyClient.ClientID, testKeys()["ec"].Public())
	pk, _ := client.NewPrivateKey(testKeys()["ec"], "", "k1")

	tests := []struct {
		name string
		// key authenticates with pk instead of the secret; dpop binds the
		// token to a new DPoP (which meets the server's nonce at first).
		key, dpop bool
		audience  string // of the assertion; "" for the token URL
	}{
		{"secret", false, false, ""},
		{"secret and DPoP", false, true, ""},
		{"private key", true, false, ""},
		{"private key and DPoP", true, true, ""},
		{"private key, issuer as audience", true, false, g.Config.Issuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: secretClient.ClientID, ClientSecret: secretClient.ClientSecret,
				TokenURL: g.URL + "/oauth/token", EndpointParams: url.Values{"audience": {liveAudience}}}
			var opts []client.Option
			if tt.key {
				cfg.ClientID, cfg.ClientSecret = keyClient.ClientID, ""
				opts = append(opts, client.WithPrivateKey(pk))
			}
			if tt.audience != "" {
				opts = append(opts, client.WithAssertionAudience(tt.audience))
			}
			jkt := ""
			if tt.dpop {
				d, _ := client.NewDPoP(testKeys()["ed"], "")
				opts, jkt = append(opts, client.WithDPoP(d)), d.Thumbprint()
			}
			hc := client.NewClient(context.Background(), &cfg, opts...)
			hc.Timeout = 10 * time.Second
			want := fmt.Sprintf("%s jkt=%s", cfg.ClientID, jkt)
			for i := range 2 { // the second reuses the token, with a new proof
				req, _ := http.NewRequest("GET", apiURL+"/things", nil)
				if status, body := send(t, hc, req); status != 200 || body != want {
					t.Errorf("call %d: got %d %q, want 200 %q", i, status, body, want)
				}
			}
		})
	}
}
