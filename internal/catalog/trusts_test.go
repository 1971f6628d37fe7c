package catalog_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTrusts: trusts are loaded compiled, found by issuer (several
// tenants may trust one), refreshed by their change, and kept compiled
// across a reload that does not change them.
func TestTrusts(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	const iss = "https://token.actions.githubusercontent.com"
	must(t, st.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "gh", Issuer: iss, CreatedAt: t0, UpdatedAt: t0,
		Rules: []store.TrustRule{{Name: "r", Client: "client-acme", Match: `claims.repository == "acme/x"`}}}))
	c := loaded(t, st)
	first, ok := c.Trust("acme", "gh")
	if !ok || first.Rules[0].Match == nil {
		t.Fatalf("got %v, %v; want the trust with its rule compiled", first, ok)
	}
	must(t, c.Reload(ctx))
	if again, _ := c.Trust("acme", "gh"); again != first {
		t.Error("a reload recompiled an unchanged trust")
	}
	must(t, st.CreateTrust(ctx, store.Trust{Tenant: "globex", Name: "gh", Issuer: iss, CreatedAt: t0, UpdatedAt: t0,
		Rules: []store.TrustRule{{Name: "bad", Client: "c", Match: `claims.`}}}))
	must(t, c.Apply(ctx, store.Change{Kind: store.ChangeTrust, Key: store.TrustKey("globex", "gh")}))
	got := c.TrustsFor(iss)
	if len(got) != 2 || got[0].Tenant != "acme" || got[1].Tenant != "globex" {
		t.Fatalf("got %d trusts for the issuer, want acme's and globex's in order", len(got))
	}
	if got[1].Rules[0].Err == nil {
		t.Error("a rule that does not compile: got no error kept with it")
	}
	must(t, st.DeleteTrust(ctx, "acme", "gh"))
	must(t, c.Apply(ctx, store.Change{Kind: store.ChangeTrust, Key: store.TrustKey("acme", "gh")}))
	if _, ok := c.Trust("acme", "gh"); ok || len(c.TrustsFor(iss)) != 1 || !c.HasIssuer(iss) {
		t.Errorf("after delete: got trust %v, %d for the issuer; want gone, 1 left", ok, len(c.TrustsFor(iss)))
	}
	if err := c.Apply(ctx, store.Change{Kind: store.ChangeTrust, Key: "no-slash"}); err == nil {
		t.Error("a malformed trust key: got no error")
	}
}
