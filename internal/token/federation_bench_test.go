package token

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// benchAPI is an ES256 API, so that the figures below differ only by how
// the request proves who it is.
const benchAPI = "https://es256.example.io"

// benchWorld has benchAPI, a secret client granted it, and a trust of an
// outside issuer signing with alg (a static JWKS: no fetch in the loop)
// whose one rule maps a Kubernetes service account to that client.
func benchWorld(b *testing.B, alg string) (*world, cred, string) {
	w := newWorld(b)
	ctx := b.Context()
	if err := w.st.CreateAPI(ctx, store.API{Audience: benchAPI, Name: "bench", TokenTTL: time.Hour, TokenFormat: store.FormatJWT,
		SigningAlg: "ES256", Scopes: []store.Scope{{Name: "read"}}}); err != nil {
		b.Fatal(err)
	}
	c := w.client(admin.NewClient{Name: "bench", Grants: map[string][]string{}})
	if _, err := w.st.UpdateClient(ctx, c.id, func(old store.Client) (store.Client, error) {
		old.Grants = map[string][]string{benchAPI: {"read"}}
		return old, nil
	}); err != nil {
		b.Fatal(err)
	}
	k8s := fedtest.NewStatic("https://kubernetes.default.svc.cluster.local", alg)
	now := w.clock.Now()
	if err := w.st.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "cluster", Issuer: k8s.URL, JWKS: k8s.JWKS(), CreatedAt: now, UpdatedAt: now,
		Rules: []store.TrustRule{{Name: "export", Client: c.id, Match: `claims.sub == "system:serviceaccount:billing:export"`}}}); err != nil {
		b.Fatal(err)
	}
	if err := w.cat.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	return w, c, k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", issuerURL, fedtest.Lifetime{Now: now, TTL: time.Hour}))
}

func benchmarkFederated(b *testing.B, alg string) {
	w, _, raw := benchWorld(b, alg)
	req := oauth.TokenRequest{GrantType: oauth.GrantJWTBearer, Assertion: raw, Audience: benchAPI}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.iss.Token(b.Context(), req, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFederatedES256 and BenchmarkFederatedRS256 are a jwt-bearer
// request with an outside token of that algorithm, for an ES256 access
// token; BenchmarkClientSecretES256 is the same token for a secret.
func BenchmarkFederatedES256(b *testing.B) { benchmarkFederated(b, "ES256") }
func BenchmarkFederatedRS256(b *testing.B) { benchmarkFederated(b, "RS256") }

func BenchmarkClientSecretES256(b *testing.B) {
	w, c, _ := benchWorld(b, "ES256")
	req := c.req("audience", benchAPI)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.iss.Token(b.Context(), req, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
