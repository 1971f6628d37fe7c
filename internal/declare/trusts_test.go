package declare_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/declare"
)

const trustBase = `
tenants: [{id: acme}]
apis:
  - {audience: https://api.example.io, scopes: [read, write]}
  - {audience: https://orders.example.io, scopes: [read]}
clients:
  - {client_id: ci, name: ci, tenant: acme, grants: {"https://api.example.io": [read, write]}}
  - {client_id: deployer, name: deployer, tenant: acme, grants: {"https://api.example.io": [read]}}
trusts:
  - tenant: acme
    name: k8s
    issuer: https://kubernetes.example.io
    max_age: 1h
    rules:
      - {name: keep, client: ci, match: 'claims.sub == "a"'}
      - {name: change, client: ci, match: 'claims.sub == "b"', scopes: [read]}
      - {name: drop, client: deployer, match: 'claims.sub == "c"'}
`

// TestTrustRuleChanges: the diff shows each rule added, removed or
// changed (a change is a delete and an add, and says so), the trust's own
// fields as any object's, and applying again changes nothing.
func TestTrustRuleChanges(t *testing.T) {
	g := start(t)
	mustApply(t, g, trustBase, declare.Options{})
	changed := strings.NewReplacer(
		"max_age: 1h", "max_age: 2h\n    audiences: [gatehouse]",
		`match: 'claims.sub == "b"', scopes: [read]`, `match: 'claims.sub == "b2"', scopes: [read, write], token_ttl: 10m`,
		`      - {name: drop, client: deployer, match: 'claims.sub == "c"'}`, `      - {name: added, client: deployer, match: 'claims.sub == "d"'}`,
		"{audience: https://orders.example.io, scopes: [read]}", "{audience: https://orders.example.io, scopes: [read], accept_exchange_from: [https://api.example.io]}",
	).Replace(trustBase)
	r := mustApply(t, g, changed, declare.Options{})
	want := "~ api https://orders.example.io\n" +
		"    accept_exchange_from: (none) -> https://api.example.io\n" +
		"~ trust acme/k8s\n" +
		"    audiences: (none) -> gatehouse\n" +
		"    max_age: 1h -> 2h\n" +
		`    rule change: client ci, match claims.sub == "b", scopes read -> client ci, match claims.sub == "b2", scopes read write, token_ttl 10m` +
		"   (deleted and added again: the admin API has no rule update)\n" +
		`    rule added: (none) -> client deployer, match claims.sub == "d"` + "\n" +
		`    rule drop: client deployer, match claims.sub == "c" -> (none)` + "\n" +
		"applied: 0 created, 2 updated, 0 deleted\n"
	if got := text(t, r); got != want {
		t.Errorf("apply of the changed file printed:\n%s\nwant:\n%s", got, want)
	}
	if r := mustApply(t, g, changed, declare.Options{}); len(r.Changes) != 0 {
		t.Errorf("the changed file again: got\n%s\nwant no changes", text(t, r))
	}
	exported := export(t, g, false)
	for _, want := range []string{"name: keep", `match: claims.sub == "b2"`, "name: added", "max_age: 2h", "- https://api.example.io"} {
		if !strings.Contains(exported, want) {
			t.Errorf("export after the change lacks %q:\n%s", want, exported)
		}
	}
	if strings.Contains(exported, "name: drop") {
		t.Errorf("export still holds the dropped rule:\n%s", exported)
	}
	if r := mustApply(t, g, trustBase, declare.Options{}); len(r.Changes) != 2 {
		t.Errorf("back to the first file: got\n%s\nwant two updates", text(t, r))
	}
}

// TestPruneDeletesTrustsBeforeTheirClients: a trust and the client its
// rule names, both left out of the file, are deleted trust first (the
// admin API refuses deleting a client a rule names); a kept trust keeps
// its client from being pruned.
func TestPruneDeletesTrustsBeforeTheirClients(t *testing.T) {
	g := start(t)
	mustApply(t, g, trustBase, declare.Options{})
	smaller := "tenants: [{id: acme}]\napis: [{audience: https://api.example.io, scopes: [read, write]}]\n" +
		"clients: [{client_id: ci, name: ci, tenant: acme, grants: {\"https://api.example.io\": [read, write]}}]\n"
	if _, err := apply(t, g, smaller, declare.Options{Prune: true, DryRun: true}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	withTrust := smaller + "trusts:\n  - {tenant: acme, name: k8s, issuer: https://kubernetes.example.io, max_age: 1h, rules: [{name: r, client: deployer, match: 'true'}]}\n"
	if _, err := apply(t, g, withTrust, declare.Options{Prune: true}); err == nil ||
		!strings.Contains(err.Error(), "trust acme/k8s (line 5): rule r: client names client deployer, which the file does not hold") {
		t.Errorf("pruning a client a kept trust's rule names: got %v, want a refusal", err)
	}
	r := mustApply(t, g, smaller, declare.Options{Prune: true})
	want := "- trust acme/k8s\n- client deployer\n- api https://orders.example.io\napplied: 0 created, 0 updated, 3 deleted\n"
	if got := text(t, r); got != want {
		t.Errorf("apply --prune printed:\n%s\nwant:\n%s", got, want)
	}
	if exported := export(t, g, false); strings.Contains(exported, "k8s") || strings.Contains(exported, "deployer") {
		t.Errorf("after --prune the server still holds the trust or its client:\n%s", exported)
	}
}

// TestExchangeCycleIsRefused: two new APIs that accept each other's
// tokens cannot be created in any order; the file is refused whole.
func TestExchangeCycleIsRefused(t *testing.T) {
	g := start(t)
	doc := "apis:\n  - {audience: https://a.example.io, accept_exchange_from: [https://b.example.io]}\n" +
		"  - {audience: https://b.example.io, accept_exchange_from: [https://a.example.io]}\n"
	if _, err := apply(t, g, doc, declare.Options{}); err == nil || !strings.Contains(err.Error(), "name each other and none is on the server yet") {
		t.Errorf("got %v, want the cycle refused", err)
	}
	if got := export(t, g, false); strings.Contains(got, "a.example.io") {
		t.Errorf("a refused file changed the server:\n%s", got)
	}
	one := strings.Replace(doc, ", accept_exchange_from: [https://b.example.io]", "", 1)
	mustApply(t, g, one, declare.Options{})
	if r := mustApply(t, g, doc, declare.Options{}); len(r.Changes) != 1 {
		t.Errorf("the full file once one API exists: got\n%s\nwant one update", text(t, r))
	}
}
