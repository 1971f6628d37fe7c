package declare_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/declare"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/testkeys"
)

// publicJWKS is a JWK Set of one public EC key, as JSON (which YAML reads).
func publicJWKS(t *testing.T) string {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: testkeys.EC().Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fullDocument uses every field a document takes.
func fullDocument(t *testing.T) string {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("imported-from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DECLARE_TEST_SECRET", "imported-from-the-env-0123456789")
	return `
tenants:
  - id: acme
    name: Acme Inc
    limits: {quota_hour: 1000, quota_day: 20000}
  - id: platform
environments:
  - {tenant: acme, id: production}
  - {tenant: acme, id: qa}
apis:
  - audience: https://api.example.io
    name: Example platform
    scopes:
      - name: read
        description: Read things
      - write
    token_ttl: 15m
    signing_alg: ES256
    reuse_window: 1m
    accept_exchange_from: [https://streaming.example.io/property]   # created after it: apply orders the creates
  - audience: https://streaming.example.io/property
    scopes: [property:write]
    token_ttl: 1h
    token_format: opaque
    service: streaming-property
  - audience: https://delivery.example.io/{tenant}
    scopes: [deliver]
    signing_alg: EdDSA
clients:
  - client_id: ci-key
    name: CI key
    tenant: acme
    grants:
      https://api.example.io: [read, write]
    token_ttl: 10m
    limits: {rate_per_second: 50, quota_hour: 100}
  - client_id: property-writer
    name: property writer
    tenant: acme
    environment: production
    grants:
      https://streaming.example.io/property: [property:write]
  - client_id: exporter
    name: exporter
    tenant: acme
    auth_method: private_key_jwt
    jwks: ` + publicJWKS(t) + `
    require_dpop: true
    grants:
      https://api.example.io: [read]
  - client_id: fetcher
    name: fetcher
    tenant: platform
    auth_method: private_key_jwt
    jwks_uri: https://keys.example.io/jwks.json
  - client_id: billing
    name: billing
    tenant: acme
    auth_method: tls_client_auth
    tls_subject_kind: uri
    tls_subject: spiffe://example.org/ns/billing/sa/export
  - client_id: gateway
    name: gateway
    tenant: platform
    grants:
      urn:gatehouse:introspect: [introspect]
  - client_id: legacy-import
    name: imported from env
    tenant: acme
    secret_from_env: DECLARE_TEST_SECRET
    grants:
      https://api.example.io: [read]
  - client_id: legacy-file
    name: imported from a file
    tenant: acme
    secret_file: ` + secretFile + `
    disabled: true
trusts:
  - tenant: acme
    name: k8s
    issuer: https://kubernetes.example.io
    jwks: ` + publicJWKS(t) + `
    audiences: [gatehouse, https://gatehouse.example.io]
    max_age: 1h
    single_use: true
    rules:
      - name: billing-export
        client: ci-key
        match: claims.sub == "system:serviceaccount:billing:export"
        scopes: [read]
        token_ttl: 5m
      - name: exporters
        client: exporter
        match: 'claims.sub.startsWith("system:serviceaccount:exporters:")'
  - tenant: platform
    name: github
    issuer: https://token.actions.githubusercontent.com
    jwks_uri: https://token.actions.githubusercontent.com/.well-known/jwks
    rules:
      - name: deploy
        client: fetcher
        match: claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"
  - tenant: platform
    name: spiffe
    issuer: https://spiffe.example.org
    jwks_file: ` + pemFile(t) + `
  - tenant: acme
    name: gitlab
    issuer: https://gitlab.example.com
`
}

// pemFile writes a PEM public key, as a trust's jwks_file may name.
func pemFile(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(testkeys.EC().Public())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "spiffe.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func start(t *testing.T) *servertest.Gatehouse {
	t.Helper()
	return servertest.Start(t, nil, server.Options{})
}

func apply(t *testing.T, g *servertest.Gatehouse, doc string, o declare.Options) (*declare.Report, error) {
	t.Helper()
	f, err := declare.Read(strings.NewReader(doc))
	if err != nil {
		return nil, err
	}
	if o.Self == "" {
		o.Self = g.Creds.ClientID
	}
	return declare.Apply(context.Background(), g.Admin(), f, o)
}

func mustApply(t *testing.T, g *servertest.Gatehouse, doc string, o declare.Options) *declare.Report {
	t.Helper()
	r, err := apply(t, g, doc, o)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return r
}

func export(t *testing.T, g *servertest.Gatehouse, asJSON bool) string {
	t.Helper()
	d, err := declare.Export(context.Background(), g.Admin())
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	var b bytes.Buffer
	if asJSON {
		err = d.WriteJSON(&b)
	} else {
		err = d.WriteYAML(&b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func text(t *testing.T, r *declare.Report) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// tokenStatus asks g for a token with a secret and returns the status.
func tokenStatus(t *testing.T, g *servertest.Gatehouse, id, secret, audience string) int {
	t.Helper()
	resp, err := http.PostForm(g.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "audience": {audience}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestExportThenApplyOntoAnEmptyStore(t *testing.T) {
	src := start(t)
	r := mustApply(t, src, fullDocument(t), declare.Options{})
	if got, want := len(r.Changes), 2+2+3+8+4; got != want || r.Applied != want {
		t.Fatalf("first apply: got %d changes (%d applied), want %d:\n%s", got, r.Applied, want, text(t, r))
	}
	for _, asJSON := range []bool{false, true} {
		exported := export(t, src, asJSON)
		dst := start(t)
		mustApply(t, dst, exported, declare.Options{})
		if again := export(t, dst, asJSON); again != exported {
			t.Errorf("json %v: export of the copy differs from the original's:\ngot:\n%s\nwant:\n%s", asJSON, again, exported)
		}
	}
	exported := export(t, src, false)
	for _, want := range []string{"    accept_exchange_from:\n      - https://streaming.example.io/property\n", "\ntrusts:\n",
		"    name: k8s\n", "      - name: billing-export\n        client: ci-key\n", "        token_ttl: 5m\n", "    name: spiffe\n    issuer: https://spiffe.example.org\n    jwks:\n"} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	for _, word := range []string{"jwks_file", "secret_from_env", "secret_file", "gatehouse_", "imported-from", "bootstrap admin", "urn:gatehouse:admin"} {
		if strings.Contains(exported, word) {
			t.Errorf("export holds %q, want no secrets, secret sources nor built-in objects:\n%s", word, exported)
		}
	}
}

func TestApplyIsIdempotentAndPrintsFieldChanges(t *testing.T) {
	g := start(t)
	doc := fullDocument(t)
	first := mustApply(t, g, doc, declare.Options{})
	out := text(t, first)
	for _, want := range []string{"+ tenant acme\n", "+ environment acme/production\n    api_key: ", "+ client ci-key\n    client_secret: gatehouse_",
		"applied: 19 created, 0 updated, 0 deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("first apply printed:\n%s\nwant it to hold %q", out, want)
		}
	}
	if strings.Contains(out, "imported-from") {
		t.Errorf("apply printed an imported secret:\n%s", out)
	}
	second := mustApply(t, g, doc, declare.Options{})
	if len(second.Changes) != 0 || !strings.Contains(text(t, second), "no changes: the server matches the file") {
		t.Errorf("second apply: got\n%s\nwant no changes", text(t, second))
	}

	changed := strings.Replace(doc, "token_ttl: 15m", "token_ttl: 1h", 1)
	changed = strings.Replace(changed, "limits: {quota_hour: 1000, quota_day: 20000}", "limits: {quota_hour: 500}", 1)
	changed = strings.Replace(changed, "    require_dpop: true\n", "", 1)
	r := mustApply(t, g, changed, declare.Options{})
	out = text(t, r)
	for _, want := range []string{
		"~ tenant acme\n    limits: 1000/h, 20000/d -> 500/h\n",
		"~ api https://api.example.io\n    token_ttl: 15m -> 1h\n",
		"~ client exporter\n    require_dpop: true -> false\n",
		"applied: 0 created, 3 updated, 0 deleted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply of a changed file printed:\n%s\nwant it to hold %q", out, want)
		}
	}
	if r := mustApply(t, g, changed, declare.Options{}); len(r.Changes) != 0 {
		t.Errorf("apply of the changed file again: got\n%s\nwant no changes", text(t, r))
	}
}

func TestImportedSecretsWork(t *testing.T) {
	g := start(t)
	mustApply(t, g, fullDocument(t), declare.Options{})
	if got := tokenStatus(t, g, "legacy-import", "imported-from-the-env-0123456789", "https://api.example.io"); got != http.StatusOK {
		t.Errorf("token with the secret from the environment: got %d, want 200", got)
	}
	if got := tokenStatus(t, g, "legacy-import", "imported-from-the-env-wrong", "https://api.example.io"); got != http.StatusUnauthorized {
		t.Errorf("token with a wrong secret: got %d, want 401", got)
	}
	// legacy-file is disabled in the file: its right secret is refused too.
	if got := tokenStatus(t, g, "legacy-file", "imported-from-a-file-0123456789", "https://api.example.io"); got != http.StatusUnauthorized {
		t.Errorf("token for the disabled client: got %d, want 401", got)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	g := start(t)
	mustApply(t, g, "tenants: [{id: acme, name: Acme Inc}]\napis: [{audience: https://old.example.io}]\n", declare.Options{})
	before := export(t, g, false)
	r := mustApply(t, g, fullDocument(t), declare.Options{DryRun: true, Prune: true})
	if after := export(t, g, false); after != before {
		t.Errorf("dry run changed the server:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	out := text(t, r)
	for _, want := range []string{"+ client ci-key\n", "- api https://old.example.io\n", "dry run: 18 to create, 1 to update, 1 to delete; nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run printed:\n%s\nwant it to hold %q", out, want)
		}
	}
	if strings.Contains(out, "client_secret") || strings.Contains(out, "api_key") {
		t.Errorf("dry run printed a secret or key it cannot have made:\n%s", out)
	}
}

func TestPruneDeletesOnlyWhatIsMissing(t *testing.T) {
	g := start(t)
	base := `
tenants: [{id: acme}, {id: spare}]
environments: [{tenant: spare, id: qa}]
apis:
  - {audience: https://keep.example.io, scopes: [read]}
  - {audience: https://drop.example.io, scopes: [read]}
clients:
  - {client_id: keep, name: keep, tenant: acme, grants: {"https://keep.example.io": [read]}}
  - {client_id: drop, name: drop, tenant: acme, grants: {"https://drop.example.io": [read]}}
  - {client_id: auditor, name: auditor, tenant: acme, grants: {"urn:gatehouse:admin": ["admin:read", "admin:write"]}}
`
	mustApply(t, g, base, declare.Options{})
	smaller := `
tenants: [{id: acme}]
apis:
  - {audience: https://keep.example.io, scopes: [read]}
clients:
  - {client_id: keep, name: keep, tenant: acme, grants: {"https://keep.example.io": [read]}}
`
	r := mustApply(t, g, smaller, declare.Options{})
	if len(r.Changes) != 0 || len(r.Kept) != 5 {
		t.Fatalf("apply without --prune: got\n%s\nwant no changes and 5 kept", text(t, r))
	}
	// auditor is the admin client "this command" uses here.
	r = mustApply(t, g, smaller, declare.Options{Prune: true, Self: "auditor"})
	out := text(t, r)
	want := "- client drop\n- api https://drop.example.io\n" +
		"kept: tenant spare (gatehouse cannot delete tenants yet)\n" +
		"kept: environment spare/qa (gatehouse cannot delete environments yet)\n" +
		"kept: client auditor (the admin client this command uses)\n" +
		"applied: 0 created, 0 updated, 2 deleted\n"
	if out != want {
		t.Errorf("apply --prune printed:\n%s\nwant:\n%s", out, want)
	}
	exported := export(t, g, false)
	for _, gone := range []string{"drop"} {
		if strings.Contains(exported, gone) {
			t.Errorf("after --prune the server still holds %q:\n%s", gone, exported)
		}
	}
	for _, kept := range []string{"keep.example.io", "client_id: keep", "auditor", "spare"} {
		if !strings.Contains(exported, kept) {
			t.Errorf("after --prune the server lost %q:\n%s", kept, exported)
		}
	}
	// The bootstrap admin client and the built-in APIs are never pruned:
	// the admin API still answers with the bootstrap credentials.
	if _, err := declare.Export(context.Background(), g.Admin()); err != nil {
		t.Errorf("the bootstrap admin client after --prune: %v", err)
	}
	lockout := strings.Replace(smaller, "clients:\n", "clients:\n  - {client_id: auditor, name: auditor, tenant: acme, grants: {\"urn:gatehouse:admin\": [\"admin:read\"]}}\n", 1)
	if _, err := apply(t, g, lockout, declare.Options{Self: "auditor"}); err == nil || !strings.Contains(err.Error(), "the admin client apply runs as") {
		t.Errorf("a file taking admin:write from the client apply runs as: got %v, want a refusal", err)
	}
	if _, err := apply(t, g, "# nothing\n", declare.Options{Prune: true}); err == nil || !strings.Contains(err.Error(), "holds no objects") {
		t.Errorf("apply --prune of an empty file: got %v, want a refusal", err)
	}
}

func TestBadFilesChangeNothing(t *testing.T) {
	g := start(t)
	mustApply(t, g, "tenants: [{id: acme}]\napis: [{audience: https://api.example.io, scopes: [read]}]\nclients: [{client_id: c1, name: c1, tenant: acme}]\n", declare.Options{})
	before := export(t, g, false)
	good := "tenants: [{id: acme}, {id: new}]\napis: [{audience: https://api.example.io, scopes: [read]}]\n"
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", good + "clients:\n  - client_id: c1\n    name: c1\n    tenant: acme\n    grant: x\n",
			`line 7: unknown field "grant" in a client (it takes: auth_method, client_id, disabled,`},
		{"unknown nested field", good + "clients:\n  - client_id: c1\n    name: c1\n    tenant: acme\n    limits: {quota_week: 3}\n",
			`line 7: unknown field "quota_week" in a client`},
		{"unknown section", good + "trust: []\n", `line 3: unknown section "trust" (a file holds: tenants, environments, apis, clients, trusts)`},
		{"grant on a missing API", good + "clients: [{client_id: c1, name: c1, tenant: acme, grants: {\"https://nope.example.io\": [read]}}]\n",
			"client c1 (line 3): grants names api https://nope.example.io, which neither the file nor the server has"},
		{"grant on a missing scope", good + "clients: [{client_id: c1, name: c1, tenant: acme, grants: {\"https://api.example.io\": [write]}}]\n",
			`client c1 (line 3): grants: scope "write" is not one of api https://api.example.io's scopes (read)`},
		{"missing tenant", good + "environments: [{tenant: other, id: qa}]\n",
			"environment other/qa (line 3): tenant names tenant other, which neither the file nor the server has"},
		{"missing environment", good + "clients: [{client_id: c2, name: c2, tenant: new, environment: prod}]\n",
			"client c2 (line 3): environment names environment new/prod"},
		{"pruned API still granted", "tenants: [{id: acme}]\nclients: [{client_id: c1, name: c1, tenant: acme, grants: {\"https://api.example.io\": [read]}}]\n",
			"grants names api https://api.example.io, which the file does not hold (and --prune would delete it"},
		{"duplicate object", good + "clients:\n  - {client_id: c1, name: c1, tenant: acme}\n  - {client_id: c1, name: again, tenant: acme}\n",
			"line 5: client c1 is already in the file at line 4"},
		{"duplicate YAML key", "tenants: [{id: acme, id: other}]\n", `mapping key "id" already defined`},
		{"bad value", good + "apis: []\n", `section "apis" appears twice`},
		{"bad duration", "apis: [{audience: https://x.example.io, token_ttl: soon}]\n", `line 1: "soon" is not a duration`},
		{"invalid API", "apis: [{audience: https://x.example.io, token_format: paper}]\n", `line 1: api https://x.example.io: token_format must be "jwt" or "opaque"`},
		{"built-in API", "apis: [{audience: \"urn:gatehouse:admin\"}]\n", "built-in APIs"},
		{"client moves tenant", good + "clients: [{client_id: c1, name: c1, tenant: new}]\n",
			`line 3: client c1: tenant is "acme" on the server and "new" in the file: a client cannot move to another tenant`},
		{"tenant rename", "tenants: [{id: acme, name: Acme Inc}]\n", "gatehouse cannot rename a tenant yet"},
		{"bad jwks", good + "clients: [{client_id: c2, name: c2, tenant: acme, auth_method: private_key_jwt, jwks: {keys: [{kty: oct, k: c2VjcmV0}]}}]\n",
			"line 3: client c2: jwks:"},
		{"secret from a missing variable", good + "clients: [{client_id: c2, name: c2, tenant: acme, secret_from_env: DECLARE_TEST_UNSET}]\n",
			"client c2 (line 3): secret_from_env: the environment variable DECLARE_TEST_UNSET is not set"},
		{"secret for a key client", good + "clients: [{client_id: c2, name: c2, tenant: acme, auth_method: tls_client_auth, tls_subject_kind: dns, tls_subject: a.example.io, secret_file: /x}]\n",
			"an imported secret is only for auth_method client_secret"},
		{"tenant with a rate", "tenants: [{id: acme, limits: {rate_per_second: 3}}]\n", "a tenant takes quota_hour and quota_day"},
		{"bad CEL", good + "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c1, match: 'claims.sub =='}]}]\n",
			`line 3: trust acme/k8s: rules: rule 1 ("r"): match: ERROR: <input>:1:14: Syntax error`},
		{"CEL not boolean", good + "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c1, match: 'claims.sub'}]}]\n",
			`line 3: trust acme/k8s: rules: rule 1 ("r"): match: expression gives a claim's value (dyn), want bool: compare it, e.g. claims.sub == "..." or claims.email_verified == true`},
		{"unknown client in a rule", good + "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: nobody, match: 'true'}]}]\n",
			"trust acme/k8s (line 3): rule r: client names client nobody, which neither the file nor the server has"},
		{"client of another tenant", good + "clients: [{client_id: c2, name: c2, tenant: new}]\ntrusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c2, match: 'true'}]}]\n",
			`trust acme/k8s (line 4): rule r: client c2 belongs to tenant "new", not "acme"`},
		{"rule scope the client lacks", good + "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c1, match: 'true', scopes: [read]}]}]\n",
			`rule r: scopes: client c1 holds no scope "read"`},
		{"two rules one name", good + "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c1, match: 'true'}, {name: r, client: c1, match: 'false'}]}]\n",
			`rules: two rules are named "r"`},
		{"trust on a missing tenant", "trusts: [{tenant: other, name: k8s, issuer: https://k.example.io}]\n",
			"trust other/k8s (line 1): tenant names tenant other, which neither the file nor the server has"},
		{"trust with two key sources", "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, jwks_uri: https://k.example.io/keys, jwks: {keys: []}}]\n",
			"line 1: trust acme/k8s: jwks and jwks_uri: a trust takes its keys from one source"},
		{"trust over plain http", "trusts: [{tenant: acme, name: k8s, issuer: http://k.example.io}]\n", "issuer must be an https URL"},
		{"trust jwks_file missing", "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, jwks_file: /nonexistent/keys.json}]\n",
			"line 1: trust acme/k8s: jwks_file: open /nonexistent/keys.json"},
		{"unknown rule field", "trusts: [{tenant: acme, name: k8s, issuer: https://k.example.io, rules: [{name: r, client: c1, match: 'true', ttl: 5m}]}]\n",
			`line 1: unknown field "ttl" in a trust`},
		{"exchange from a missing API", "apis: [{audience: https://api.example.io, scopes: [read], accept_exchange_from: [https://nope.example.io]}]\n",
			"api https://api.example.io (line 1): accept_exchange_from names api https://nope.example.io, which neither the file nor the server has"},
		{"exchange from a built-in API", "apis: [{audience: https://api.example.io, scopes: [read], accept_exchange_from: [\"urn:gatehouse:admin\"]}]\n",
			"accept_exchange_from names the built-in API urn:gatehouse:admin"},
		{"exchange from itself", "apis: [{audience: https://api.example.io, scopes: [read], accept_exchange_from: [https://api.example.io]}]\n",
			"accept_exchange_from names https://api.example.io itself"},
		{"not a mapping", "- tenants\n", "a file is a mapping of sections"},
		{"two documents", "tenants: []\n---\napis: []\n", "line 2: a file holds one document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apply(t, g, tc.doc, declare.Options{Prune: tc.name == "pruned API still granted"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error holding %q", err, tc.want)
			}
			if after := export(t, g, false); after != before {
				t.Errorf("a bad file changed the server:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestAuthMethodChanges moves a client between methods: to a key (its
// secrets go) and back to a secret (a new one is printed once).
func TestAuthMethodChanges(t *testing.T) {
	g := start(t)
	base := "tenants: [{id: acme}]\napis: [{audience: https://api.example.io, scopes: [read]}]\nclients:\n  - client_id: c1\n    name: c1\n    tenant: acme\n    grants: {\"https://api.example.io\": [read]}\n"
	first := mustApply(t, g, base, declare.Options{})
	secret := first.Changes[len(first.Changes)-1].Results[0].Value
	if got := tokenStatus(t, g, "c1", secret, "https://api.example.io"); got != http.StatusOK {
		t.Fatalf("token with the printed secret: got %d, want 200", got)
	}
	keyed := base + "    auth_method: private_key_jwt\n    jwks: " + publicJWKS(t) + "\n"
	r := mustApply(t, g, keyed, declare.Options{})
	out := text(t, r)
	if !strings.Contains(out, "~ client c1\n    auth_method: client_secret -> private_key_jwt\n    jwks: (none) -> keys k1 (sha256 ") {
		t.Errorf("moving to private_key_jwt printed:\n%s", out)
	}
	if got := tokenStatus(t, g, "c1", secret, "https://api.example.io"); got != http.StatusUnauthorized {
		t.Errorf("token with the old secret after the move to a key: got %d, want 401", got)
	}
	if r := mustApply(t, g, keyed, declare.Options{}); len(r.Changes) != 0 {
		t.Errorf("a JWKS client applied again: got\n%s\nwant no changes", text(t, r))
	}
	r = mustApply(t, g, base, declare.Options{})
	if len(r.Changes) != 1 || len(r.Changes[0].Results) != 1 || r.Changes[0].Results[0].Name != "client_secret" {
		t.Fatalf("moving back to a secret: got\n%s\nwant one update printing a new secret", text(t, r))
	}
	if got := tokenStatus(t, g, "c1", r.Changes[0].Results[0].Value, "https://api.example.io"); got != http.StatusOK {
		t.Errorf("token with the new secret: got %d, want 200", got)
	}
}

// TestRefusedChangeStopsTheRun: a change only the server can refuse (a
// service name another API holds) stops the run; the changes before it
// stand, the report says how far it got, and a fixed file resumes.
func TestRefusedChangeStopsTheRun(t *testing.T) {
	g := start(t)
	doc := "apis:\n  - {audience: https://a.example.io, service: shared}\n  - {audience: https://b.example.io, service: shared}\n  - {audience: https://c.example.io}\n"
	r, err := apply(t, g, doc, declare.Options{})
	if err == nil || !strings.Contains(err.Error(), "create api https://b.example.io: ") || !strings.Contains(err.Error(), "1 of 3 changes were applied before it") {
		t.Fatalf("got %v, want the second create refused after one change", err)
	}
	if r == nil || r.Applied != 1 || !strings.Contains(text(t, r), "stopped: 1 of 3 changes applied") {
		t.Fatalf("report: got %+v, want 1 applied", r)
	}
	fixed := strings.Replace(doc, "b.example.io, service: shared", "b.example.io, service: own", 1)
	r = mustApply(t, g, fixed, declare.Options{})
	if got := text(t, r); got != "+ api https://b.example.io\n+ api https://c.example.io\napplied: 2 created, 0 updated, 0 deleted\n" {
		t.Errorf("the fixed file: got\n%s", got)
	}
}
