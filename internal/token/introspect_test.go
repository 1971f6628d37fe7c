package token

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// introspectionClients: the owner of the tokens, another client of the
// same environment, and a gateway holding the introspection grant.
type introspectionClients struct{ site, stranger, gateway cred }

func newIntrospectionClients(w *world) introspectionClients {
	grants := map[string][]string{property: {"property:write"}, catalogue: {"catalog:write"}}
	return introspectionClients{
		site:     w.client(admin.NewClient{Environment: "qa", Grants: grants}),
		stranger: w.client(admin.NewClient{Environment: "qa", Grants: grants}),
		gateway:  w.client(admin.NewClient{Grants: map[string][]string{store.IntrospectAudience: {store.ScopeIntrospect}}}),
	}
}

func (w *world) introspect(caller cred, tok string) Introspection {
	w.t.Helper()
	in, err := w.iss.Introspect(w.t.Context(), caller.req("token", tok), addr)
	if err != nil {
		w.t.Fatalf("Introspect: %v", err)
	}
	return in
}

// TestIntrospect is RFC 7662 as DESIGN §2 has it: a client sees its own
// tokens, a client with the urn:gatehouse:introspect grant sees anyone's,
// and everything else (another's, unknown, expired) is merely inactive.
func TestIntrospect(t *testing.T) {
	w := newWorld(t)
	ic := newIntrospectionClients(w)
	opaque := issue(t, w.iss, ic.site.req(), "streaming-property")
	jwt := issue(t, w.iss, ic.site.req(), "streaming-catalog")
	for _, tc := range []struct {
		name string
		out  Outcome
		aud  string
	}{{"opaque", opaque, property}, {"JWT", jwt, catalogue}} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.out.Grant
			want := Introspection{
				Active: true, Scope: tc.out.Response.Scope, ClientID: ic.site.id, TokenType: "Bearer",
				Expiry: g.ExpiresAt.Unix(), IssuedAt: g.IssuedAt.Unix(), Subject: ic.site.id + "@clients", Audience: tc.aud,
				Issuer: issuerURL, JTI: g.JTI, Tenant: "acme", Environment: "qa", Service: g.Service, APIKey: w.qa.APIKey,
			}
			if got := w.introspect(ic.site, tc.out.Response.AccessToken); got != want {
				t.Errorf("by the owner:\ngot  %+v\nwant %+v", got, want)
			}
			if got := w.introspect(ic.gateway, tc.out.Response.AccessToken); got != want {
				t.Errorf("by the introspection grant:\ngot  %+v\nwant %+v", got, want)
			}
			if got := w.introspect(ic.stranger, tc.out.Response.AccessToken); got != (Introspection{}) {
				t.Errorf("by another client: got %+v, want only active false", got)
			}
		})
	}
	for name, tok := range map[string]string{
		"unknown opaque": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a token": "x", "a forged JWT": "eyJhbGciOiJub25lIn0.e30.",
	} {
		if got := w.introspect(ic.gateway, tok); got.Active {
			t.Errorf("%s: got %+v, want inactive", name, got)
		}
	}
	t.Run("without a token", func(t *testing.T) {
		_, err := w.iss.Introspect(t.Context(), ic.site.req(), addr)
		wantError(t, err, 400, "invalid_request", "token is required")
	})
	t.Run("expired", func(t *testing.T) {
		// A JWT is checked by package verify, with its leeway for clocks
		// that differ between nodes; an opaque token is not.
		w.clock.Add(time.Hour + verify.DefaultLeeway)
		for _, tok := range []string{opaque.Response.AccessToken, jwt.Response.AccessToken} {
			if got := w.introspect(ic.site, tok); got.Active {
				t.Errorf("an hour later: got %+v, want inactive", got)
			}
		}
	})
}

// TestRevoke is RFC 7009: an opaque token is deleted from the store, a
// JWT's jti is recorded (and reaches other nodes); another client's token
// is unauthorized_client unless the caller holds the introspection grant;
// an unknown token is no error.
func TestRevoke(t *testing.T) {
	w := newWorld(t)
	ic := newIntrospectionClients(w)
	ctx := t.Context()
	opaque := issue(t, w.iss, ic.site.req(), "streaming-property").Response.AccessToken
	jwt := issue(t, w.iss, ic.site.req(), "streaming-catalog")
	node2 := w.issuer(Config{IssuerURL: issuerURL})

	wantError(t, w.iss.Revoke(ctx, ic.stranger.req("token", opaque), addr), 400, "unauthorized_client", "not issued to this client")
	wantError(t, w.iss.Revoke(ctx, ic.site.req(), addr), 400, "invalid_request", "token is required")
	if err := w.iss.Revoke(ctx, ic.site.req("token", "not-a-token"), addr); err != nil {
		t.Errorf("revoking garbage: got %v, want no error (RFC 7009 §2.2)", err)
	}

	if err := w.iss.Revoke(ctx, ic.site.req("token", opaque), addr); err != nil {
		t.Fatalf("revoking the opaque token: %v", err)
	}
	if _, err := w.st.GetOpaqueToken(ctx, HashOpaque(opaque)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the revoked opaque token in the store: got %v, want ErrNotFound", err)
	}
	if got := w.introspect(ic.site, opaque); got.Active {
		t.Errorf("a revoked opaque token is still active")
	}

	if err := w.iss.Revoke(ctx, ic.gateway.req("token", jwt.Response.AccessToken), addr); err != nil {
		t.Fatalf("the gateway revoking the client's JWT: %v", err)
	}
	if got := w.introspect(ic.site, jwt.Response.AccessToken); got.Active {
		t.Errorf("a revoked JWT is still active")
	}
	revs, err := w.iss.RevokedSince(ctx, ic.gateway.req(), addr, time.Time{})
	if err != nil || !hasJTI(revs, jwt.Grant.JTI) {
		t.Errorf("RevokedSince: got %v, %v, want the JWT's jti", revs, err)
	}
	if err := node2.Revocations().Sync(ctx, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if in, err := node2.Introspect(ctx, ic.site.req("token", jwt.Response.AccessToken), addr); err != nil || in.Active {
		t.Errorf("another node after its sync: got %+v, %v, want inactive", in, err)
	}
	t.Run("listing revocations needs the introspection grant", func(t *testing.T) {
		_, err := w.iss.RevokedSince(ctx, ic.site.req(), addr, time.Time{})
		wantError(t, err, 400, "unauthorized_client", store.IntrospectAudience)
	})
}

func hasJTI(revs []store.Revocation, jti string) bool {
	for _, r := range revs {
		if r.JTI == jti {
			return true
		}
	}
	return false
}

// TestOpaqueRevokedByJTI: an operator revokes by jti alone (the admin API
// lists it in the revocation list, without the token): an opaque token
// with that jti is then inactive, here and on a node that syncs.
func TestOpaqueRevokedByJTI(t *testing.T) {
	w := newWorld(t)
	ic := newIntrospectionClients(w)
	ctx := t.Context()
	out := issue(t, w.iss, ic.site.req(), "streaming-property")
	node2 := w.issuer(Config{IssuerURL: issuerURL})
	err := w.iss.Revocations().Add(ctx, store.Revocation{JTI: out.Grant.JTI, ClientID: ic.site.id, RevokedAt: w.clock.Now(), ExpiresAt: out.Grant.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.introspect(ic.site, out.Response.AccessToken); got.Active {
		t.Errorf("an opaque token revoked by jti: got active, want inactive")
	}
	if err := node2.Revocations().Sync(ctx, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if in, err := node2.Introspect(ctx, ic.site.req("token", out.Response.AccessToken), addr); err != nil || in.Active {
		t.Errorf("another node after its sync: got %+v, %v, want inactive", in, err)
	}
}

// TestIntrospectDeletedClient: a deleted client's tokens are inactive,
// JWT and opaque alike, also to the introspection grant, although its
// JWTs still verify (they are not in the revocation list by jti).
func TestIntrospectDeletedClient(t *testing.T) {
	w := newWorld(t)
	ic := newIntrospectionClients(w)
	opaque := issue(t, w.iss, ic.site.req(), "streaming-property")
	jwt := issue(t, w.iss, ic.site.req(), "streaming-catalog")
	for _, tok := range []string{opaque.Response.AccessToken, jwt.Response.AccessToken} {
		if !w.introspect(ic.gateway, tok).Active {
			t.Fatalf("before the delete: got inactive, want active")
		}
	}
	if err := w.admin.DeleteClient(t.Context(), ic.site.id); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"opaque": opaque.Response.AccessToken, "JWT": jwt.Response.AccessToken} {
		if got := w.introspect(ic.gateway, tok); got != (Introspection{}) {
			t.Errorf("%s after the delete: got %+v, want only active false", name, got)
		}
	}
}
