package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/testkeys"
)

const gatehouseURL = "https://auth.example.io"

// trustList is the catalog's part the engine reads, held in a slice.
type trustList []*federation.Trust

func (l trustList) TrustsFor(iss string) []*federation.Trust {
	var out []*federation.Trust
	for _, t := range l {
		if t.Issuer == iss {
			out = append(out, t)
		}
	}
	return out
}

func trust(tenant, name, issuer string, set func(*store.Trust), rules ...store.TrustRule) *federation.Trust {
	t := store.Trust{Tenant: tenant, Name: name, Issuer: issuer, Rules: rules}
	if set != nil {
		set(&t)
	}
	return federation.CompileTrust(t)
}

func rule(name, client, match string) store.TrustRule {
	return store.TrustRule{Name: name, Client: client, Match: match}
}

type fixture struct {
	clock  *fakeclock.Clock
	engine *federation.Engine
	life   fedtest.Lifetime
}

func newFixture(t testing.TB, client *http.Client, trusts ...*federation.Trust) *fixture {
	t.Helper()
	clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
	e, err := federation.NewEngine(trustList(trusts), federation.Options{
		Audience: gatehouseURL, KeyWait: 500 * time.Millisecond, Now: clock.Now,
		Keys: jwks.RemoteOptions{HTTPClient: client, MinRefresh: -1, Timeout: 2 * time.Second},
		Used: replay.New(nil, time.Second, clock.Now),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clock: clock, engine: e, life: fedtest.Lifetime{Now: clock.Now()}}
}

// The three real setups, each accepted and mapped to its client.
func TestExchangeRealShapes(t *testing.T) {
	k8s := fedtest.NewStatic("https://kubernetes.default.svc.cluster.local", "RS256")
	gh := fedtest.New(fedtest.Options{TLS: true})
	defer gh.Close()
	spire := fedtest.New(fedtest.Options{TLS: true, Alg: "ES256"})
	defer spire.Close()
	f := newFixture(t, gh.Client(),
		trust("acme", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS(); t.MaxAge = time.Hour },
			rule("export", "c-export", `claims.sub == "system:serviceaccount:billing:export"`),
			rule("ns", "c-ns", `claims["kubernetes.io"].namespace == "other"`)),
		trust("acme", "github", gh.URL, func(t *store.Trust) { t.Audiences = []string{"https://github.com/acme"} },
			rule("deploy", "c-deploy", `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main" && claims.environment == "production"`)),
		trust("acme", "spiffe", spire.URL, func(t *store.Trust) { t.JWKSURI = spire.JWKSURI() },
			rule("payments", "c-pay", `claims.sub.startsWith("spiffe://prod.acme.io/ns/payments/")`)),
	)
	// spire's JWKS is fetched with gh's client: both httptest TLS servers share one test certificate.
	tests := []struct {
		name, raw, client string
	}{
		{"kubernetes", k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", gatehouseURL, f.life)), "c-export"},
		{"github actions", gh.Sign(fedtest.GitHubActions(gh.URL, "acme/deploy", "refs/heads/main", "production", "https://github.com/acme", f.life)), "c-deploy"},
		{"spiffe", spire.Sign(fedtest.SPIFFE(spire.URL, "spiffe://prod.acme.io/ns/payments/sa/api", gatehouseURL, f.life)), "c-pay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := f.engine.Exchange(t.Context(), tt.raw, "")
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if d.Rule.Client != tt.client {
				t.Errorf("got client %q, want %q", d.Rule.Client, tt.client)
			}
		})
	}
}

// Every bad token the issue lists gets a refusal that names its reason.
func TestExchangeRefusals(t *testing.T) {
	is := fedtest.New(fedtest.Options{TLS: true})
	defer is.Close()
	tr := trust("acme", "ci", is.URL, func(t *store.Trust) { t.MaxAge = 30 * time.Minute; t.SingleUse = true },
		rule("deploy", "c-deploy", `claims.repository == "acme/deploy"`),
		rule("env", "c-env", `claims.environment == "production"`),
		rule("costly", "c-costly", `claims.repository == "acme/costly" && [1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`))
	f := newFixture(t, is.Client(), tr)
	good := func(change func(map[string]any)) string {
		c := fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life)
		if change != nil {
			change(c)
		}
		return is.Sign(c)
	}
	now := f.clock.Now()
	replayed := good(nil)
	if _, err := f.engine.Exchange(t.Context(), replayed, ""); err != nil {
		t.Fatalf("first use: %v", err)
	}
	tests := []struct {
		name, raw, client, want string
	}{
		{"malformed", "not.a.jwt", "", "malformed"},
		{"unknown issuer", good(func(c map[string]any) { c["iss"] = "https://elsewhere.example" }), "", "no trust accepts this issuer"},
		{"unknown key", fedtest.SignWith(testkeys.EC(), "ES256", "key-1", fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life)), "", "invalid signature"},
		{"unknown kid", fedtest.SignWith(testkeys.EC(), "ES256", "nobody", fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life)), "", "unknown signing key"},
		{"alg none", fedtest.Unsigned(fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life)), "", "algorithm not allowed"},
		{"HS256 with the public JWKS as secret", fedtest.HMAC([]byte(is.JWKS()), "key-1", fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life)), "", "algorithm not allowed"},
		{"wrong aud", good(func(c map[string]any) { c["aud"] = "https://other.example" }), "", "wrong audience"},
		{"missing aud", good(func(c map[string]any) { delete(c, "aud") }), "", "wrong audience"},
		{"expired", good(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), "", "expired"},
		{"too old", good(func(c map[string]any) { c["iat"] = now.Add(-time.Hour).Unix() }), "", "issued too long ago"},
		{"nbf in the future", good(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), "", "not yet valid"},
		{"no jti on a single-use trust", good(func(c map[string]any) { delete(c, "jti") }), "", "no jti"},
		{"replayed jti", replayed, "", "already used"},
		{"no rule matches", good(func(c map[string]any) { c["repository"] = "acme/other" }), "", "no rule matched"},
		{"CEL reads a missing claim", good(func(c map[string]any) { c["repository"] = "acme/other" }), "c-env", "no such key"},
		{"CEL past its cost limit", good(func(c map[string]any) { c["repository"] = "acme/costly" }), "c-costly", "cost limit"},
		{"two rules match, no client_id", good(func(c map[string]any) { c["environment"] = "production" }), "", "2 rules matched and the request names no client_id"},
		{"the named client has no rule", good(nil), "c-nobody", "no rule matched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := f.engine.Exchange(t.Context(), tt.raw, tt.client)
			var ref *federation.Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("got %v, %v; want a *Refusal", d, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("two rules match, client_id picks one", func(t *testing.T) {
		d, err := f.engine.Exchange(t.Context(), good(func(c map[string]any) { c["environment"] = "production" }), "c-env")
		if err != nil || d.Rule.Name != "env" {
			t.Fatalf("got %v, %v; want rule env", d, err)
		}
	})
}

// Several tenants may trust one issuer: each trust is tried, and the
// refusal reports every trust's verdict.
func TestExchangeSeveralTenantsTrustOneIssuer(t *testing.T) {
	k8s := fedtest.NewStatic("https://oidc.example.io/cluster-1", "ES256")
	a := trust("acme", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS() }, rule("a", "c-acme", `claims.sub.endsWith(":acme:app")`))
	b := trust("other", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS(); t.Audiences = []string{"other"} }, rule("b", "c-other", `true`))
	f := newFixture(t, nil, a, b)
	d, err := f.engine.Exchange(t.Context(), k8s.Sign(fedtest.Kubernetes(k8s.URL, "acme", "app", gatehouseURL, f.life)), "")
	if err != nil || d.Trust.Tenant != "acme" {
		t.Fatalf("got %v, %v; want acme's trust", d, err)
	}
	_, err = f.engine.Exchange(t.Context(), k8s.Sign(fedtest.Kubernetes(k8s.URL, "x", "y", "nobody", f.life)), "")
	var ref *federation.Refusal
	if !errors.As(err, &ref) || len(ref.Trusts) != 2 {
		t.Fatalf("got %v, want a refusal with two trusts' verdicts", err)
	}
	for _, v := range ref.Trusts {
		if !strings.Contains(v.Error, "wrong audience") {
			t.Errorf("trust %s: got %q, want a wrong audience", v.Trust, v.Error)
		}
	}
}

// The refusal's reason says where to look: a token that failed every
// trust's checks (aud, exp, key) is not reported as "no rule matched",
// which would send an operator to rules that never ran.
func TestExchangeRefusalReason(t *testing.T) {
	k8s := fedtest.NewStatic("https://oidc.example.io/cluster-1", "ES256")
	a := trust("acme", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS() }, rule("a", "c-acme", `claims.sub.endsWith(":acme:app")`))
	b := trust("other", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS(); t.Audiences = []string{"other"} }, rule("b", "c-other", `false`))
	f := newFixture(t, nil, a, b)
	tests := []struct {
		name, raw, want string
	}{
		{"every trust's checks failed", k8s.Sign(fedtest.Kubernetes(k8s.URL, "acme", "app", "nobody", f.life)), "the token failed the checks of every trust of its issuer"},
		{"one trust's checks passed, its rule did not match", k8s.Sign(fedtest.Kubernetes(k8s.URL, "x", "y", gatehouseURL, f.life)), "no rule matched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.engine.Exchange(t.Context(), tt.raw, "")
			var ref *federation.Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("got %v, want a *Refusal", err)
			}
			if ref.Reason != tt.want {
				t.Errorf("got reason %q, want %q", ref.Reason, tt.want)
			}
		})
	}
}

// Keys: rotation is picked up on a new kid; while the issuer is down the
// cached keys keep working; with nothing cached a down or hanging issuer
// is a prompt refusal; broken documents are refused.
func TestExchangeKeySources(t *testing.T) {
	ctx := t.Context()
	is := fedtest.New(fedtest.Options{TLS: true})
	defer is.Close()
	tr := trust("acme", "ci", is.URL, nil, rule("any", "c", `true`))
	f := newFixture(t, is.Client(), tr)
	mint := func() string {
		return is.Sign(fedtest.GitHubActions(is.URL, "acme/deploy", "refs/heads/main", "", gatehouseURL, f.life))
	}
	if _, err := f.engine.Exchange(ctx, mint(), ""); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	is.Rotate()
	if _, err := f.engine.Exchange(ctx, mint(), ""); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	is.SetDown(true)
	if _, err := f.engine.Exchange(ctx, mint(), ""); err != nil {
		t.Fatalf("issuer down, keys cached: %v", err)
	}
	kid := is.Rotate()
	if _, err := f.engine.Exchange(ctx, mint(), ""); err == nil || !strings.Contains(err.Error(), "unknown signing key") {
		t.Fatalf("issuer down, new key %s: got %v, want unknown signing key", kid, err)
	}
	is.SetDown(false)

	t.Run("down with nothing cached", func(t *testing.T) {
		cold := fedtest.New(fedtest.Options{TLS: true})
		defer cold.Close()
		cold.SetDown(true)
		f := newFixture(t, cold.Client(), trust("acme", "cold", cold.URL, nil, rule("any", "c", `true`)))
		_, err := f.engine.Exchange(ctx, cold.Sign(fedtest.GitHubActions(cold.URL, "a/b", "refs/heads/main", "", gatehouseURL, f.life)), "")
		if err == nil || !strings.Contains(err.Error(), "discovery") {
			t.Fatalf("got %v, want a refusal naming discovery", err)
		}
	})
	t.Run("hanging issuer", func(t *testing.T) {
		release := make(chan struct{})
		hang := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer hang.Close()
		defer close(release)
		signer := fedtest.NewStatic(hang.URL, "ES256")
		f := newFixture(t, hang.Client(), trust("acme", "hang", hang.URL, func(t *store.Trust) { t.JWKSURI = hang.URL + "/keys" }, rule("any", "c", `true`)))
		start := time.Now()
		_, err := f.engine.Exchange(ctx, signer.Sign(fedtest.SPIFFE(hang.URL, "spiffe://x/y", gatehouseURL, f.life)), "")
		if err == nil || !strings.Contains(err.Error(), "unknown signing key") {
			t.Fatalf("got %v, want unknown signing key", err)
		}
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("got a %v wait, want at most about the 500ms KeyWait", took)
		}
	})
	for name, body := range map[string][]byte{
		"oversized JWKS": []byte(`{"keys":[` + strings.Repeat(" ", jwks.MaxDocumentBytes) + `]}`),
		"malformed JWKS": []byte(`{"keys":`),
	} {
		t.Run(name, func(t *testing.T) {
			bad := fedtest.New(fedtest.Options{TLS: true})
			defer bad.Close()
			bad.ServeJWKS(body)
			f := newFixture(t, bad.Client(), trust("acme", "bad", bad.URL, nil, rule("any", "c", `true`)))
			_, err := f.engine.Exchange(ctx, bad.Sign(fedtest.SPIFFE(bad.URL, "spiffe://x/y", gatehouseURL, f.life)), "")
			if err == nil || !strings.Contains(err.Error(), "unknown signing key") {
				t.Fatalf("got %v, want unknown signing key", err)
			}
		})
	}
	t.Run("malformed static JWKS", func(t *testing.T) {
		f := newFixture(t, nil, trust("acme", "static", "https://k8s.example", func(t *store.Trust) { t.JWKS = `{"keys":[{"kty":"EC"}]}` }, rule("any", "c", `true`)))
		signer := fedtest.NewStatic("https://k8s.example", "ES256")
		_, err := f.engine.Exchange(ctx, signer.Sign(fedtest.SPIFFE(signer.URL, "spiffe://x/y", gatehouseURL, f.life)), "")
		if err == nil || !strings.Contains(err.Error(), "static JWKS") {
			t.Fatalf("got %v, want an error naming the static JWKS", err)
		}
	})
}

// Test explains each check and rule without consuming a single-use jti.
func TestTrustTestExplains(t *testing.T) {
	k8s := fedtest.NewStatic("https://k8s.example", "ES256")
	tr := trust("acme", "cluster", k8s.URL, func(t *store.Trust) { t.JWKS = k8s.JWKS(); t.SingleUse = true },
		rule("export", "c-export", `claims.sub == "system:serviceaccount:billing:export"`),
		rule("team", "c-team", `claims.team == "x"`))
	f := newFixture(t, nil, tr)
	raw := k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", gatehouseURL, f.life))
	rep, err := f.engine.Test(t.Context(), tr, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Accepted || rep.Header["alg"] != "ES256" || rep.Claims["sub"] != "system:serviceaccount:billing:export" {
		t.Errorf("got accepted %v, header %v, sub %v; want accepted, ES256, the service account", rep.Accepted, rep.Header, rep.Claims["sub"])
	}
	got := []string{rep.Verdict.Rules[0].Result, rep.Verdict.Rules[1].Result}
	if got[0] != federation.ResultMatched || got[1] != federation.ResultError {
		t.Errorf("got rule verdicts %q, want matched, error", got)
	}
	for _, c := range rep.Verdict.Checks {
		if c.Result != "ok" && c.Result != "skipped" {
			t.Errorf("check %s: got %s, want ok", c.Name, c.Result)
		}
	}
	if _, err := f.engine.Exchange(t.Context(), raw, ""); err != nil {
		t.Errorf("the jti after a test: got %v, want it unused", err)
	}
	// Used now: Test cannot tell, and its jti check says it did not look.
	rep, _ = f.engine.Test(t.Context(), tr, raw)
	if jti := rep.Verdict.Checks[len(rep.Verdict.Checks)-1]; jti.Name != "jti" || !strings.Contains(jti.Detail, "not checked here") {
		t.Errorf("jti check of a used token: got %+v, want a detail saying reuse is not checked", jti)
	}
	rep, err = f.engine.Test(context.Background(), tr, k8s.Sign(fedtest.Kubernetes(k8s.URL, "billing", "export", "wrong", f.life)))
	if err != nil || rep.Accepted || rep.Verdict.Checks[5].Name != "aud" || rep.Verdict.Checks[5].Result != "failed" || rep.Verdict.Checks[6].Result != "not checked" {
		t.Errorf("wrong aud: got %+v, %v; want aud failed, exp not checked", rep.Verdict.Checks, err)
	}
	if rep.Verdict.Rules[0].Result != federation.ResultMatched {
		t.Errorf("wrong aud: got rule export %s, want it evaluated over the unverified claims", rep.Verdict.Rules[0].Result)
	}
	if _, err := f.engine.Test(context.Background(), tr, "garbage"); err == nil {
		t.Error("garbage: got no error")
	}
}

// Warm fetches a trust's keys before any request needs them.
func TestWarm(t *testing.T) {
	is := fedtest.New(fedtest.Options{TLS: true})
	defer is.Close()
	tr := trust("acme", "ci", is.URL, nil, rule("any", "c", `true`))
	f := newFixture(t, is.Client(), tr)
	f.engine.Warm(tr, trust("acme", "static", "https://k8s.example", func(t *store.Trust) { t.JWKS = fedtest.NewStatic("https://k8s.example", "ES256").JWKS() }))
	deadline := time.Now().Add(5 * time.Second)
	for jwksHits, discovery := is.Fetches(); jwksHits == 0 || discovery == 0; jwksHits, discovery = is.Fetches() {
		if time.Now().After(deadline) {
			t.Fatalf("after Warm: got %d JWKS and %d discovery fetches, want one each", jwksHits, discovery)
		}
		time.Sleep(10 * time.Millisecond)
	}
	is.SetDown(true)
	if _, err := f.engine.Exchange(t.Context(), is.Sign(fedtest.SPIFFE(is.URL, "spiffe://x/y", gatehouseURL, f.life)), ""); err != nil {
		t.Errorf("first request after Warm, issuer down: got %v, want the warmed keys to serve", err)
	}
}
