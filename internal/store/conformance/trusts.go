package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

func newTrust(tenant, name string) store.Trust {
	return store.Trust{
		Tenant: tenant, Name: name, Issuer: "https://token.actions.githubusercontent.com",
		Audiences: []string{"https://gatehouse.example.io"}, MaxAge: time.Hour, SingleUse: true,
		Rules: []store.TrustRule{{
			Name: "deploy", Client: "ci-deploy",
			Match:  `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`,
			Scopes: []string{"deploy:write"}, TokenTTL: 10 * time.Minute,
		}},
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func normTrust(x store.Trust) store.Trust {
	if len(x.Rules) == 0 {
		x.Rules = nil
	}
	if len(x.Audiences) == 0 {
		x.Audiences = nil
	}
	x.CreatedAt, x.UpdatedAt = normTime(x.CreatedAt), normTime(x.UpdatedAt)
	return x
}

// testTrustCRUD: a trust and its rules survive create, update, read and
// list, per tenant and in all, and each write is one change in the feed.
func testTrustCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"acme", "globex"} {
		if err := s.CreateTenant(ctx, newTenant(id)); err != nil {
			t.Fatal(err)
		}
	}
	gh := newTrust("acme", "github")
	k8s := store.Trust{Tenant: "acme", Name: "k8s", Issuer: "https://kubernetes.default.svc",
		JWKS: `{"keys":[]}`, Rules: []store.TrustRule{}, CreatedAt: t0, UpdatedAt: t0}
	other := newTrust("globex", "github")
	other.JWKSURI = "https://token.actions.githubusercontent.com/.well-known/jwks"
	before, _ := s.LatestChange(ctx)
	for _, tr := range []store.Trust{gh, k8s, other} {
		if err := s.CreateTrust(ctx, tr); err != nil {
			t.Fatalf("CreateTrust(%s): got %v, want nil", tr.Key(), err)
		}
	}
	if err := s.CreateTrust(ctx, gh); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateTrust twice: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetTrust(ctx, "acme", "github")
	if err != nil {
		t.Fatalf("GetTrust: got %v, want nil", err)
	}
	check(t, "GetTrust", got, gh, normTrust)
	if got, _ := s.GetTrust(ctx, "acme", "k8s"); got.Rules == nil {
		t.Errorf("GetTrust of a trust without rules: Rules is nil, want empty")
	}

	want := gh
	want.Rules = append(slices.Clone(gh.Rules), store.TrustRule{Name: "any", Client: "ci-read", Match: "true"})
	want.MaxAge, want.SingleUse, want.UpdatedAt = 0, false, at(time.Minute)
	updated, err := s.UpdateTrust(ctx, "acme", "github", func(old store.Trust) (store.Trust, error) {
		check(t, "UpdateTrust: fn's old value", old, gh, normTrust)
		old.Rules, old.MaxAge, old.SingleUse, old.UpdatedAt = want.Rules, want.MaxAge, want.SingleUse, want.UpdatedAt
		old.Tenant, old.Name = "globex", "renamed" // an update cannot move a trust
		return old, nil
	})
	if err != nil {
		t.Fatalf("UpdateTrust: got %v, want nil", err)
	}
	check(t, "UpdateTrust's result", updated, want, normTrust)
	got, _ = s.GetTrust(ctx, "acme", "github")
	check(t, "GetTrust after UpdateTrust", got, want, normTrust)

	list, err := s.ListTrusts(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(list, store.Trust.Key); !slices.Equal(got, []string{"acme/github", "acme/k8s"}) {
		t.Errorf("ListTrusts(acme): got %v", got)
	}
	all, _ := s.ListTrusts(ctx, "")
	if got := ids(all, store.Trust.Key); !slices.Equal(got, []string{"acme/github", "acme/k8s", "globex/github"}) {
		t.Errorf("ListTrusts(all): got %v", got)
	}

	if err := s.DeleteTrust(ctx, "acme", "k8s"); err != nil {
		t.Fatalf("DeleteTrust: got %v, want nil", err)
	}
	if _, err := s.GetTrust(ctx, "acme", "k8s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTrust after delete: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteTrust(ctx, "acme", "k8s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTrust twice: got %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateTrust(ctx, "acme", "nope", func(o store.Trust) (store.Trust, error) { return o, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTrust of a missing trust: got %v, want ErrNotFound", err)
	}

	changes, _ := s.ChangesSince(ctx, before, 100)
	var keys []string
	for _, c := range changes {
		if c.Kind == store.ChangeTrust {
			keys = append(keys, c.Key)
		}
	}
	if want := []string{"acme/github", "acme/k8s", "globex/github", "acme/github", "acme/k8s"}; !slices.Equal(keys, want) {
		t.Errorf("trust changes: got %v, want %v", keys, want)
	}
}

func testTrustMissingTenant(t *testing.T, s store.Store) {
	err := s.CreateTrust(t.Context(), newTrust("nobody", "github"))
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateTrust for a missing tenant: got %v, want a refusal", err)
	}
	if list, _ := s.ListTrusts(t.Context(), ""); len(list) != 0 {
		t.Errorf("after a refused create: %d trusts stored", len(list))
	}
}
