package admin

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/pgtest"
)

const ghIssuer = "https://token.actions.githubusercontent.com"

// trustTests run on SQLite (TestTrusts) and on PostgreSQL
// (TestTrustsPostgres): each gets a fresh world.
var trustTests = []struct {
	name string
	run  func(t *testing.T, w *world)
}{
	{"CreateTrust", testCreateTrust},
	{"UpdateTrust", testUpdateTrust},
	{"AddRule", testAddRule},
	{"CreateTrustWithRules", testCreateTrustWithRules},
	{"DeleteRuleAndTrust", testDeleteRuleAndTrust},
	{"TrustLimits", testTrustLimits},
	{"ListTrusts", testListTrusts},
}

func TestTrusts(t *testing.T) {
	for _, tt := range trustTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newWorld(t)) })
	}
}

func TestTrustsPostgres(t *testing.T) {
	pgtest.Admin(t) // one clear failure, not one per subtest
	for _, tt := range trustTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newWorldAt(t, pgtest.Schema(t))) })
	}
}

func testCreateTrust(t *testing.T, w *world) {
	keys := publicJWKS(t)
	priv := jwksOf(jwk(t, testKeys().ec, "p", "ES256", "sig"))
	tests := []struct {
		name    string
		trust   store.Trust
		want    error
		field   string // the field the message starts with
		mention string
	}{
		{"discovery", store.Trust{Name: "github", Issuer: ghIssuer}, nil, "", ""},
		{"static keys", store.Trust{Name: "k8s", Issuer: "https://kubernetes.default.svc", JWKS: keys,
			Audiences: []string{"gatehouse", "https://gatehouse.example"}, MaxAge: time.Hour, SingleUse: true}, nil, "", ""},
		{"jwks_uri", store.Trust{Name: "spiffe", Issuer: "https://oidc.spire.example", JWKSURI: "https://oidc.spire.example/keys"}, nil, "", ""},
		{"http on loopback, static keys", store.Trust{Name: "local", Issuer: "http://127.0.0.1:9999", JWKS: keys}, nil, "", ""},
		{"http on loopback, discovery", store.Trust{Name: "local2", Issuer: "http://127.0.0.1:9999"}, ErrInvalid, "issuer", "static keys"},
		{"http jwks_uri on loopback", store.Trust{Name: "local3", Issuer: "https://oidc.spire.example", JWKSURI: "http://127.0.0.1:9999/keys"}, ErrInvalid, "jwks_uri", "https"},
		{"duplicate", store.Trust{Name: "github", Issuer: ghIssuer}, store.ErrAlreadyExists, "", "github"},
		{"name not a slug", store.Trust{Name: "Git Hub", Issuer: ghIssuer}, ErrInvalid, "name", "Git Hub"},
		{"no name", store.Trust{Issuer: ghIssuer}, ErrInvalid, "name", ""},
		{"no issuer", store.Trust{Name: "a"}, ErrInvalid, "issuer", "required"},
		{"issuer not a URL", store.Trust{Name: "a", Issuer: "acme"}, ErrInvalid, "issuer", "absolute URL"},
		{"issuer over http", store.Trust{Name: "a", Issuer: "http://issuer.example"}, ErrInvalid, "issuer", "https"},
		{"issuer with a query", store.Trust{Name: "a", Issuer: "https://issuer.example/?x=1"}, ErrInvalid, "issuer", "query"},
		{"issuer with a password", store.Trust{Name: "a", Issuer: "https://u:p@issuer.example"}, ErrInvalid, "issuer", "password"},
		{"ftp issuer", store.Trust{Name: "a", Issuer: "ftp://issuer.example"}, ErrInvalid, "issuer", "https"},
		{"both key sources", store.Trust{Name: "a", Issuer: ghIssuer, JWKS: keys, JWKSURI: "https://x.example/k"}, ErrInvalid, "jwks", "not both"},
		{"jwks_uri over http", store.Trust{Name: "a", Issuer: ghIssuer, JWKSURI: "http://x.example/k"}, ErrInvalid, "jwks_uri", "https"},
		{"jwks not JSON", store.Trust{Name: "a", Issuer: ghIssuer, JWKS: "{nope"}, ErrInvalid, "jwks", ""},
		{"jwks with a private key", store.Trust{Name: "a", Issuer: ghIssuer, JWKS: priv}, ErrInvalid, "jwks", "private"},
		{"jwks without keys", store.Trust{Name: "a", Issuer: ghIssuer, JWKS: `{"keys":[]}`}, ErrInvalid, "jwks", ""},
		{"jwks too large", store.Trust{Name: "a", Issuer: ghIssuer, JWKS: `{"keys":[],"x":"` + strings.Repeat("a", 70<<10) + `"}`}, ErrInvalid, "jwks", "KiB"},
		{"empty audience", store.Trust{Name: "a", Issuer: ghIssuer, Audiences: []string{"x", " "}}, ErrInvalid, "audiences", "empty"},
		{"repeated audience", store.Trust{Name: "a", Issuer: ghIssuer, Audiences: []string{"x", "x"}}, ErrInvalid, "audiences", "twice"},
		{"too many audiences", store.Trust{Name: "a", Issuer: ghIssuer, Audiences: numbered("aud", MaxTrustAudiences+1)}, ErrInvalid, "audiences", "at most"},
		{"negative max_age", store.Trust{Name: "a", Issuer: ghIssuer, MaxAge: -time.Second}, ErrInvalid, "max_age", ""},
		{"max_age past the limit", store.Trust{Name: "a", Issuer: ghIssuer, MaxAge: MaxTrustAge + time.Hour}, ErrInvalid, "max_age", "720h"},
		{"max_age with milliseconds", store.Trust{Name: "a", Issuer: ghIssuer, MaxAge: 1500 * time.Millisecond}, ErrInvalid, "max_age", "whole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.trust.Tenant = "acme"
			got, err := w.svc.CreateTrust(t.Context(), tt.trust)
			if tt.field != "" {
				checkField(t, err, tt.field, tt.mention)
			} else {
				checkErr(t, err, tt.want, tt.mention)
			}
			events := w.audit.take()
			if tt.want != nil {
				if len(events) != 0 {
					t.Errorf("audit: got %d events for a refused change, want none", len(events))
				}
				return
			}
			stored, err := w.st.GetTrust(t.Context(), "acme", tt.trust.Name)
			if err != nil || stored.Issuer != tt.trust.Issuer || !stored.CreatedAt.Equal(t0) || KeySourceOf(stored) != KeySourceOf(got) {
				t.Errorf("stored: got %+v, %v; want issuer %s created at %v", stored, err, tt.trust.Issuer, t0)
			}
			if len(events) != 1 || events[0].Kind != "trust.create" || events[0].Target != "acme/"+tt.trust.Name {
				t.Errorf("audit: got %+v, want one trust.create of acme/%s", events, tt.trust.Name)
			}
		})
	}
	t.Run("missing tenant", func(t *testing.T) {
		_, err := w.svc.CreateTrust(t.Context(), store.Trust{Tenant: "nobody", Name: "a", Issuer: ghIssuer})
		checkErr(t, err, store.ErrNotFound, "nobody")
	})
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func testUpdateTrust(t *testing.T, w *world) {
	ctx := t.Context()
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "k8s", Issuer: "https://k8s.example", JWKSURI: "https://k8s.example/keys"})))
	w.audit.take()
	str := func(s string) *string { return &s }
	hour, yes := time.Hour, true
	keys := publicJWKS(t)
	steps := []struct {
		name    string
		patch   TrustPatch
		field   string // "": success
		mention string
		check   func(tr store.Trust) bool
	}{
		{"static keys replace the jwks_uri", TrustPatch{JWKS: &keys}, "", "",
			func(tr store.Trust) bool { return tr.JWKS != "" && tr.JWKSURI == "" }},
		{"audiences, max_age and single_use", TrustPatch{Audiences: &[]string{"gatehouse"}, MaxAge: &hour, SingleUse: &yes}, "", "",
			func(tr store.Trust) bool {
				return slices.Equal(tr.Audiences, []string{"gatehouse"}) && tr.MaxAge == hour && tr.SingleUse && tr.JWKS != ""
			}},
		{"an empty jwks means discovery", TrustPatch{JWKS: str("")}, "", "",
			func(tr store.Trust) bool { return tr.JWKS == "" && tr.JWKSURI == "" }},
		{"a new issuer", TrustPatch{Issuer: str("https://k8s2.example")}, "", "",
			func(tr store.Trust) bool { return tr.Issuer == "https://k8s2.example" && tr.MaxAge == hour }},
		{"both key sources", TrustPatch{JWKS: &keys, JWKSURI: str("https://k8s.example/keys")}, "jwks", "not both", nil},
		{"a bad issuer", TrustPatch{Issuer: str("k8s")}, "issuer", "absolute", nil},
		{"a bad audience", TrustPatch{Audiences: &[]string{""}}, "audiences", "empty", nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := w.storedTrust("acme", "k8s")
			got, err := w.svc.UpdateTrust(ctx, "acme", "k8s", s.patch)
			if s.field != "" {
				checkField(t, err, s.field, s.mention)
				if after := w.storedTrust("acme", "k8s"); !after.UpdatedAt.Equal(before.UpdatedAt) || after.Issuer != before.Issuer {
					t.Errorf("a refused update changed the trust: got %+v, want %+v", after, before)
				}
				if n := len(w.audit.take()); n != 0 {
					t.Errorf("audit: got %d events for a refused change, want none", n)
				}
				return
			}
			must(t, err)
			if !s.check(got) || !s.check(w.storedTrust("acme", "k8s")) {
				t.Errorf("got %+v, want the change made", got)
			}
			if events := w.audit.take(); len(events) != 1 || events[0].Kind != "trust.update" {
				t.Errorf("audit: got %+v, want one trust.update", events)
			}
		})
	}
	_, err := w.svc.UpdateTrust(ctx, "acme", "nope", TrustPatch{SingleUse: &yes})
	checkErr(t, err, store.ErrNotFound, "acme/nope")
}

// storedTrust reads a trust from the store, failing the test if it is missing.
func (w *world) storedTrust(tenant, name string) store.Trust {
	w.t.Helper()
	tr, err := w.st.GetTrust(w.t.Context(), tenant, name)
	if err != nil {
		w.t.Fatalf("GetTrust(%s/%s): got %v, want nil", tenant, name, err)
	}
	return tr
}

func testAddRule(t *testing.T, w *world) {
	ctx := t.Context()
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "github", Issuer: ghIssuer})))
	deploy, _ := w.client("deploy", map[string][]string{platform: {"read", "write"}})
	yes := true
	disabled, _ := w.client("paused", map[string][]string{platform: {"read"}})
	must(t, first(w.svc.UpdateClient(ctx, disabled.ID, ClientPatch{Disabled: &yes})))
	foreign, _, err := w.svc.CreateClient(ctx, NewClient{Name: "theirs", Tenant: "other", Grants: map[string][]string{platform: {"read"}}})
	must(t, err)
	w.audit.take()
	match := `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`
	tests := []struct {
		name    string
		trust   string
		rule    store.TrustRule
		want    error
		field   string
		mention string
	}{
		{"a rule", "github", store.TrustRule{Name: "main", Client: deploy.ID, Match: match, Scopes: []string{"read"}, TokenTTL: 10 * time.Minute}, nil, "", ""},
		{"a disabled client", "github", store.TrustRule{Name: "paused", Client: disabled.ID, Match: match}, nil, "", ""},
		{"same name again", "github", store.TrustRule{Name: "main", Client: deploy.ID, Match: match}, store.ErrAlreadyExists, "", `"main"`},
		{"missing trust", "nope", store.TrustRule{Name: "x", Client: deploy.ID, Match: match}, store.ErrNotFound, "", "acme/nope"},
		{"name not a slug", "github", store.TrustRule{Name: "Main Branch", Client: deploy.ID, Match: match}, ErrInvalid, "name", "Main Branch"},
		{"CEL that does not parse", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: `claims.sub ==`}, ErrInvalid, "match", "Syntax error"},
		{"CEL that is not boolean", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: `claims.sub`}, ErrInvalid, "match", "want bool"},
		{"CEL with an unknown variable", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: `token.sub == "a"`}, ErrInvalid, "match", "token"},
		{"no expression", "github", store.TrustRule{Name: "x", Client: deploy.ID}, ErrInvalid, "match", "required"},
		{"no client", "github", store.TrustRule{Name: "x", Match: match}, ErrInvalid, "client", "required"},
		{"unknown client", "github", store.TrustRule{Name: "x", Client: "ghost", Match: match}, ErrInvalid, "client", "ghost"},
		{"a client of another tenant", "github", store.TrustRule{Name: "x", Client: foreign.ID, Match: match}, ErrInvalid, "client", `tenant "other"`},
		{"a scope the client lacks", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: match, Scopes: []string{"admin"}}, ErrInvalid, "scopes", "read write"},
		{"an empty scope", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: match, Scopes: []string{""}}, ErrInvalid, "scopes", "empty"},
		{"negative ttl", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: match, TokenTTL: -time.Minute}, ErrInvalid, "token_ttl", ""},
		{"ttl past the limit", "github", store.TrustRule{Name: "x", Client: deploy.ID, Match: match, TokenTTL: 800 * time.Hour}, ErrInvalid, "token_ttl", "720h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.storedTrust("acme", "github").Rules)
			got, err := w.svc.AddRule(ctx, "acme", tt.trust, tt.rule)
			if tt.field != "" {
				checkField(t, err, tt.field, tt.mention)
			} else {
				checkErr(t, err, tt.want, tt.mention)
			}
			rules := w.storedTrust("acme", "github").Rules
			events := w.audit.take()
			if tt.want != nil {
				if len(rules) != before || len(events) != 0 {
					t.Errorf("a refused rule: got %d rules (want %d) and %d audit events (want 0)", len(rules), before, len(events))
				}
				return
			}
			if last := rules[len(rules)-1]; last.Name != tt.rule.Name || last.Match != tt.rule.Match || got.Client != tt.rule.Client {
				t.Errorf("stored rule: got %+v, want %+v", last, tt.rule)
			}
			if len(events) != 1 || events[0].Kind != "trust.add_rule" || events[0].Target != "acme/github" {
				t.Errorf("audit: got %+v, want one trust.add_rule of acme/github", events)
			}
		})
	}
	rules, err := w.svc.ListRules(ctx, "acme", "github")
	if err != nil || len(rules) != 2 || rules[0].Name != "main" || rules[1].Name != "paused" {
		t.Errorf("ListRules: got %+v, %v; want main and paused", rules, err)
	}
}

func testCreateTrustWithRules(t *testing.T, w *world) {
	ctx := t.Context()
	c, _ := w.client("k8s-export", map[string][]string{platform: {"read"}})
	rule := store.TrustRule{Name: "export", Client: c.ID, Match: `claims.sub == "system:serviceaccount:billing:export"`}
	got, err := w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "k8s", Issuer: "https://k8s.example", Rules: []store.TrustRule{rule}})
	if err != nil || len(got.Rules) != 1 {
		t.Fatalf("CreateTrust with a rule: got %+v, %v", got, err)
	}
	bad := rule
	bad.Match = "claims.sub =="
	_, err = w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "k8s2", Issuer: "https://k8s.example", Rules: []store.TrustRule{rule, bad}})
	checkField(t, err, "rules", `rule 2 ("export"): match`)
	_, err = w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "k8s3", Issuer: "https://k8s.example", Rules: []store.TrustRule{rule, rule}})
	checkField(t, err, "rules", "two rules")
	for _, name := range []string{"k8s2", "k8s3"} {
		if _, err := w.st.GetTrust(ctx, "acme", name); err == nil {
			t.Errorf("a refused trust %s was stored", name)
		}
	}
}

func testDeleteRuleAndTrust(t *testing.T, w *world) {
	ctx := t.Context()
	c, _ := w.client("deploy", map[string][]string{platform: {"read"}})
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "github", Issuer: ghIssuer})))
	for _, name := range []string{"one", "two"} {
		must(t, first(w.svc.AddRule(ctx, "acme", "github", store.TrustRule{Name: name, Client: c.ID, Match: "true"})))
	}
	w.audit.take()
	checkErr(t, w.svc.DeleteClient(ctx, c.ID), ErrInvalid, `rule "one" of trust acme/github`)
	must(t, w.svc.DeleteRule(ctx, "acme", "github", "one"))
	if rules := w.storedTrust("acme", "github").Rules; len(rules) != 1 || rules[0].Name != "two" {
		t.Errorf("after deleting rule one: got %+v, want rule two alone", rules)
	}
	checkErr(t, w.svc.DeleteRule(ctx, "acme", "github", "one"), store.ErrNotFound, `rule "one"`)
	checkErr(t, w.svc.DeleteRule(ctx, "acme", "nope", "two"), store.ErrNotFound, "acme/nope")
	must(t, w.svc.DeleteTrust(ctx, "acme", "github"))
	if _, err := w.st.GetTrust(ctx, "acme", "github"); err == nil {
		t.Errorf("GetTrust after DeleteTrust: got nil error, want ErrNotFound")
	}
	checkErr(t, w.svc.DeleteTrust(ctx, "acme", "github"), store.ErrNotFound, "acme/github")
	must(t, w.svc.DeleteClient(ctx, c.ID)) // no rule names it any more
	events := w.audit.take()[:2]
	kinds := make([]string, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	if want := []string{"trust.delete_rule", "trust.delete"}; !slices.Equal(kinds, want) {
		t.Errorf("audit: got %v, want %v", kinds, want)
	}
	if events[1].After != nil || events[1].Before == nil {
		t.Errorf("trust.delete: got before %v after %v, want the trust before and nothing after", events[1].Before, events[1].After)
	}
}

func testTrustLimits(t *testing.T, w *world) {
	ctx := t.Context()
	c, _ := w.client("deploy", map[string][]string{platform: {"read"}})
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "many", Issuer: ghIssuer})))
	for i := range MaxTrustRules {
		must(t, first(w.svc.AddRule(ctx, "acme", "many", store.TrustRule{Name: fmt.Sprintf("r%d", i), Client: c.ID, Match: "true"})))
	}
	_, err := w.svc.AddRule(ctx, "acme", "many", store.TrustRule{Name: "one-more", Client: c.ID, Match: "true"})
	checkField(t, err, "rules", "the most one trust")
	for i := 1; i < MaxTrustsPerTenant; i++ {
		must(t, w.st.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: fmt.Sprintf("t%d", i), Issuer: ghIssuer}))
	}
	_, err = w.svc.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "one-more", Issuer: ghIssuer})
	checkErr(t, err, ErrInvalid, "trusts")
	must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: "other", Name: "one-more", Issuer: ghIssuer})))
}

func testListTrusts(t *testing.T, w *world) {
	ctx := t.Context()
	for _, k := range []string{"acme/b", "acme/a", "other/a"} {
		tenant, name, _ := strings.Cut(k, "/")
		must(t, first(w.svc.CreateTrust(ctx, store.Trust{Tenant: tenant, Name: name, Issuer: ghIssuer})))
	}
	keys := func(ts []store.Trust) []string {
		out := []string{}
		for _, tr := range ts {
			out = append(out, tr.Key())
		}
		return out
	}
	for _, tc := range []struct {
		tenant string
		want   []string
	}{{"acme", []string{"acme/a", "acme/b"}}, {"other", []string{"other/a"}}, {"", []string{"acme/a", "acme/b", "other/a"}}} {
		got, err := w.svc.ListTrusts(ctx, tc.tenant)
		if err != nil || !slices.Equal(keys(got), tc.want) {
			t.Errorf("ListTrusts(%q): got %v, %v; want %v", tc.tenant, keys(got), err, tc.want)
		}
	}
	_, err := w.svc.ListTrusts(ctx, "nobody")
	checkErr(t, err, store.ErrNotFound, "nobody")
}

func TestAcceptExchangeFrom(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	orders := "https://orders.example.io"
	must(t, first(w.svc.CreateAPI(ctx, store.API{Audience: orders, Scopes: []store.Scope{{Name: "read"}}})))
	w.audit.take()
	tests := []struct {
		name    string
		from    []string
		want    []string
		mention string // "": success
	}{
		{"two sources", []string{platform, templateAud}, []string{platform, templateAud}, ""},
		{"cleared", []string{}, nil, ""},
		{"trimmed", []string{" " + platform}, []string{platform}, ""},
		{"the API itself", []string{orders}, nil, "itself"},
		{"an unknown API", []string{"https://nope.example"}, nil, "does not exist"},
		{"a built-in API", []string{store.AdminAudience}, nil, "built-in"},
		{"twice", []string{platform, platform}, nil, "twice"},
		{"empty", []string{""}, nil, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := w.st.GetAPI(ctx, orders)
			got, err := w.svc.UpdateAPI(ctx, orders, APIPatch{AcceptExchangeFrom: &tt.from})
			if tt.mention != "" {
				checkField(t, err, "accept_exchange_from", tt.mention)
				if after, _ := w.st.GetAPI(ctx, orders); !slices.Equal(after.AcceptExchangeFrom, before.AcceptExchangeFrom) {
					t.Errorf("a refused update changed the list: got %v, want %v", after.AcceptExchangeFrom, before.AcceptExchangeFrom)
				}
				return
			}
			must(t, err)
			stored, _ := w.st.GetAPI(ctx, orders)
			if len(got.AcceptExchangeFrom) != len(tt.want) || !slices.Equal(stored.AcceptExchangeFrom, got.AcceptExchangeFrom) ||
				(len(tt.want) > 0 && !slices.Equal(got.AcceptExchangeFrom, tt.want)) {
				t.Errorf("got %v (stored %v), want %v", got.AcceptExchangeFrom, stored.AcceptExchangeFrom, tt.want)
			}
			if events := w.audit.take(); len(events) != 1 || events[0].Kind != "api.update" {
				t.Errorf("audit: got %+v, want one api.update", events)
			}
		})
	}
	t.Run("built-in target", func(t *testing.T) {
		_, err := w.svc.UpdateAPI(ctx, store.AdminAudience, APIPatch{AcceptExchangeFrom: &[]string{platform}})
		checkErr(t, err, ErrInvalid, "built-in")
	})
	t.Run("on create", func(t *testing.T) {
		a, err := w.svc.CreateAPI(ctx, store.API{Audience: "https://reports.example.io", AcceptExchangeFrom: []string{orders}})
		if err != nil || !slices.Equal(a.AcceptExchangeFrom, []string{orders}) {
			t.Errorf("CreateAPI: got %v, %v; want accept_exchange_from [%s]", a.AcceptExchangeFrom, err, orders)
		}
		_, err = w.svc.CreateAPI(ctx, store.API{Audience: "https://r2.example.io", AcceptExchangeFrom: []string{"https://nope.example"}})
		checkErr(t, err, ErrInvalid, "does not exist")
	})
}
