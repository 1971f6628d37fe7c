package token

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

const (
	orders = "https://orders.example.io"
	ledger = "https://ledger.example.io"
)

// delegationWorld adds orders (accepting tokens of platform) and ledger
// (accepting tokens of orders), a frontend client of platform whose
// tokens live 10 minutes, and the two services that act for it.
type delegationWorld struct {
	*world
	frontend, ordersSvc, ledgerSvc, stranger cred
}

func newDelegationWorld(t *testing.T) *delegationWorld {
	w := newWorld(t)
	ctx := t.Context()
	for _, a := range []store.API{
		{Audience: orders, Name: "orders", TokenTTL: time.Hour, AcceptExchangeFrom: []string{platform}},
		{Audience: ledger, Name: "ledger", TokenTTL: time.Hour, AcceptExchangeFrom: []string{orders}},
	} {
		a.Scopes = []store.Scope{{Name: "read"}, {Name: "write"}}
		a.TokenFormat, a.SigningAlg = store.FormatJWT, "RS256"
		if err := w.st.CreateAPI(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := w.cat.RefreshAPI(ctx, a.Audience); err != nil {
			t.Fatal(err)
		}
	}
	d := &delegationWorld{world: w}
	d.frontend = w.client(admin.NewClient{Name: "frontend", TokenTTL: 10 * time.Minute, Grants: map[string][]string{platform: {"read", "write"}}})
	d.ordersSvc = w.client(admin.NewClient{Name: "orders", Grants: map[string][]string{orders: {"read", "write"}}})
	d.ledgerSvc = w.client(admin.NewClient{Name: "ledger", Grants: map[string][]string{ledger: {"read", "write"}, platform: {"read"}}})
	d.stranger = w.client(admin.NewClient{Name: "stranger", Tenant: "other", Grants: map[string][]string{orders: {"read"}}})
	return d
}

func (d *delegationWorld) token(t *testing.T, req oauth.TokenRequest) Response {
	t.Helper()
	out, err := d.iss.Token(t.Context(), req, "", "")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return out.Response
}

func exchangeReq(actor cred, subject, audience string, kv ...string) oauth.TokenRequest {
	r := oauth.TokenRequest{GrantType: oauth.GrantTokenExchange, ClientID: actor.id, ClientSecret: actor.secret,
		SubjectToken: subject, SubjectTokenType: oauth.TokenTypeAccess, Audience: audience}
	return withParams(r, kv...)
}

// Two hops: the subject stays, each actor nests the one before, scopes
// never grow, and no token outlives the first.
func TestDelegationChain(t *testing.T) {
	d := newDelegationWorld(t)
	t0 := d.token(t, d.frontend.req("audience", platform))
	d.clock.Add(2 * time.Minute)
	t1 := d.token(t, exchangeReq(d.ordersSvc, t0.AccessToken, orders))
	if t1.ExpiresIn != 480 || t1.Scope != "read write" || t1.IssuedTokenType != oauth.TokenTypeAccess {
		t.Errorf("hop 1: got expires_in %d scope %q type %q; want 480 (the subject's remaining life), read write, access_token", t1.ExpiresIn, t1.Scope, t1.IssuedTokenType)
	}
	c1 := verifierFor(t, d.iss, orders, d.clock.Now())
	claims1, err := c1.Verify(t.Context(), t1.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	act1, _ := claims1.Raw["act"].(map[string]any)
	if claims1.Subject != d.frontend.id+"@clients" || claims1.ClientID != d.ordersSvc.id || act1["sub"] != d.ordersSvc.id+"@clients" || act1["act"] != nil {
		t.Errorf("hop 1: got sub %q client %q act %v; want the frontend acted for by orders", claims1.Subject, claims1.ClientID, act1)
	}

	d.clock.Add(3 * time.Minute)
	t2 := d.token(t, exchangeReq(d.ledgerSvc, t1.AccessToken, ledger, "scope", "read"))
	if t2.ExpiresIn != 300 || t2.Scope != "read" {
		t.Errorf("hop 2: got expires_in %d scope %q, want 300, read", t2.ExpiresIn, t2.Scope)
	}
	claims2, err := verifierFor(t, d.iss, ledger, d.clock.Now()).Verify(t.Context(), t2.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	act2, _ := claims2.Raw["act"].(map[string]any)
	inner, _ := act2["act"].(map[string]any)
	if claims2.Subject != d.frontend.id+"@clients" || act2["sub"] != d.ledgerSvc.id+"@clients" || inner["sub"] != d.ordersSvc.id+"@clients" {
		t.Errorf("hop 2: got sub %q act %v; want the frontend, ledger acting, orders nested", claims2.Subject, act2)
	}
	t.Run("no more scopes", func(t *testing.T) {
		narrow := d.token(t, exchangeReq(d.ordersSvc, t0.AccessToken, orders, "scope", "read"))
		_, err := d.iss.Token(t.Context(), exchangeReq(d.ledgerSvc, narrow.AccessToken, ledger, "scope", "read write"), "", "")
		wantError(t, err, 400, "invalid_scope", "more than the subject token allows")
		got := d.token(t, exchangeReq(d.ledgerSvc, narrow.AccessToken, ledger))
		if got.Scope != "read" {
			t.Errorf("no scope asked: got %q, want the subject's read", got.Scope)
		}
	})
}

func TestDelegationRefused(t *testing.T) {
	d := newDelegationWorld(t)
	t0 := d.token(t, d.frontend.req("audience", platform)).AccessToken
	revoked := d.token(t, d.frontend.req("audience", platform, "scope", "read")).AccessToken
	if err := d.iss.Revoke(t.Context(), d.frontend.req("token", revoked), ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		req        oauth.TokenRequest
		status     int
		code, desc string
	}{
		{"not a token", exchangeReq(d.ordersSvc, "garbage", orders), 400, "invalid_grant", "not valid"},
		{"a tampered token", exchangeReq(d.ordersSvc, flipLast(t0), orders), 400, "invalid_grant", "not valid"},
		{"a revoked token", exchangeReq(d.ordersSvc, revoked, orders), 400, "invalid_grant", "not valid"},
		{"target does not accept the source", exchangeReq(d.ledgerSvc, t0, ledger), 400, "invalid_target", "does not accept"},
		{"actor holds no grant on the target", exchangeReq(d.ledgerSvc, t0, orders), 403, "access_denied", orders},
		{"another tenant's client", exchangeReq(d.stranger, t0, orders), 400, "invalid_grant", "may not be exchanged"},
		{"unauthenticated", exchangeReq(cred{d.ordersSvc.id, "wrong"}, t0, orders), 401, "invalid_client", ""},
		{"actor_token", exchangeReq(d.ordersSvc, t0, orders), 400, "invalid_request", "actor_token"},
	}
	tests[len(tests)-1].req.ActorToken = "x"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.iss.Token(t.Context(), tt.req, "", "")
			wantError(t, err, tt.status, tt.code, tt.desc)
		})
	}
	t.Run("a DPoP-bound subject token", func(t *testing.T) {
		req := d.frontend.req("audience", platform)
		req.DPoP, req.EndpointURL = newProof(t, testKeys()["ec"], tokenURL, d.clock.Now(), ""), tokenURL
		bound := d.token(t, req)
		if bound.TokenType != "DPoP" {
			t.Fatalf("got token_type %q, want DPoP", bound.TokenType)
		}
		_, err := d.iss.Token(t.Context(), exchangeReq(d.ordersSvc, bound.AccessToken, orders), "", "")
		wantError(t, err, 400, "invalid_grant", "sender-constrained")
	})
	t.Run("an expired subject token", func(t *testing.T) {
		d.clock.Add(11 * time.Minute)
		_, err := d.iss.Token(t.Context(), exchangeReq(d.ordersSvc, t0, orders), "", "")
		wantError(t, err, 400, "invalid_grant", "")
	})
}
