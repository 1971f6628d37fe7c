package server

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

// TestSingleUseAcrossNodes runs two nodes on one PostgreSQL schema, as
// behind a load balancer (one issuer, one KEK): a client assertion or a
// DPoP proof that one node accepted is refused by the other (DESIGN §8:
// jti single-use across all nodes), and of two nodes handed the same
// assertion at the same moment, exactly one accepts it.
func TestSingleUseAcrossNodes(t *testing.T) {
	dsn, kek := pgtest.Schema(t), newKEK()
	nodes := []*liveNode{runNode(t, dsn, kek, Options{}), runNode(t, dsn, kek, Options{})}
	creds, err := admin.ReadCredentials(nodes[0].srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	ac := adminclient.New(context.Background(), nodes[0].url, creds)
	do := func(path string, in, out any) {
		t.Helper()
		if err := ac.Do(context.Background(), "POST", path, in, out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	do("/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	do("/admin/v1/apis", map[string]any{"audience": clusterAPI, "token_ttl": "1h"}, nil)
	var signer, holder admin.ClientView
	grants := &map[string][]string{clusterAPI: {}}
	do("/admin/v1/clients", admin.ClientInput{Name: ptr("signer"), Tenant: "acme", Grants: grants}, &signer)
	do("/admin/v1/clients", admin.ClientInput{Name: ptr("dpop"), Tenant: "acme", Grants: grants}, &holder)
	key := newECKey(t)
	// One store: the method written through node 1 is node 2's too once
	// it reloads.
	setClientAuth(t, nodes[0].srv, signer.ClientID, store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(t, key.Public(), "k1", "ES256")})
	if err := nodes[1].srv.Catalog().Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if _, ok := n.srv.Catalog().Client(holder.ClientID); !ok {
			t.Fatalf("node%d does not know the clients", i+1)
		}
	}
	tokenURL := clusterIssuer + "/oauth/token" // what clients address, whichever node answers
	post := func(n *liveNode, body string, header http.Header) (int, http.Header, []byte) {
		return postForm(t, n.http, n.url+"/oauth/token", body, header)
	}
	assertionBody := func(a string) string {
		return form("grant_type", "client_credentials", "audience", clusterAPI,
			"client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", a)
	}

	t.Run("client assertion", func(t *testing.T) {
		a := assertion(t, key, signer.ClientID, clusterIssuer)
		status, _, body := post(nodes[0], assertionBody(a), nil)
		wantOK(t, "node1, first use", status, body)
		status, header, body := post(nodes[1], assertionBody(a), nil)
		wantError(t, "node2, the assertion node1 accepted", status, header, body, http.StatusUnauthorized, "invalid_client")
	})

	t.Run("DPoP proof", func(t *testing.T) {
		body := form("grant_type", "client_credentials", "client_id", holder.ClientID, "client_secret", holder.ClientSecret, "audience", clusterAPI)
		p := http.Header{"DPoP": {proof(t, newECKey(t), "POST", tokenURL, "", "")}}
		status, _, resp := post(nodes[0], body, p)
		if tok := wantOK(t, "node1, first use", status, resp); tok.TokenType != "DPoP" {
			t.Errorf("token_type: got %q, want DPoP", tok.TokenType)
		}
		status, header, resp := post(nodes[1], body, p)
		wantError(t, "node2, the proof node1 accepted", status, header, resp, http.StatusBadRequest, "invalid_dpop_proof")
	})

	t.Run("the same assertion at once", func(t *testing.T) {
		for round := range 5 {
			a := assertion(t, key, signer.ClientID, clusterIssuer)
			statuses := make([]int, len(nodes))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, n := range nodes {
				wg.Go(func() { <-start; statuses[i], _, _ = post(n, assertionBody(a), nil) })
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				if s == http.StatusOK {
					ok++
				} else if s != http.StatusUnauthorized {
					t.Errorf("round %d: got %d, want 200 or 401", round, s)
				}
			}
			if ok != 1 {
				t.Errorf("round %d: %d nodes accepted one assertion (statuses %v), want exactly 1", round, ok, statuses)
			}
		}
	})
}
