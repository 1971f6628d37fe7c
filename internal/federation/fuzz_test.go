package federation_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// FuzzSubjectToken feeds outside input to the subject-token parser
// (Decode) and to the whole engine: neither may panic, and the engine
// accepts nothing that is not signed by the trust's key.
func FuzzSubjectToken(f *testing.F) {
	k8s := fedtest.NewStatic("https://k8s.example", "ES256")
	tr := trust("acme", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS() }, rule("any", "c", `claims.sub != ""`))
	fx := newFixture(f, nil, tr)
	good := k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", gatehouseURL, fx.life))
	f.Add(good)
	f.Add(fedtest.Unsigned(fedtest.Kubernetes(k8s.URL, "a", "b", gatehouseURL, fx.life)))
	f.Add("e30.e30.")
	f.Add("..")
	f.Add(`eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2s4cy5leGFtcGxlIn0.AAAA`)
	f.Fuzz(func(t *testing.T, raw string) {
		federation.Decode(raw)
		d, err := fx.engine.Exchange(t.Context(), raw, "")
		if err == nil && raw != good {
			// Only a token signed by the static key can pass: the
			// fuzzer cannot forge ES256, so anything else passing
			// would be a parser accepting unsigned input.
			if _, _, derr := federation.Decode(raw); derr != nil {
				t.Fatalf("accepted %q (rule %s) that Decode refuses: %v", raw, d.Rule.Name, derr)
			}
		}
	})
}
