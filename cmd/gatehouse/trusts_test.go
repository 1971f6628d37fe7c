package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
)

// writePublicPEM writes a fresh EC public key as `openssl pkey -pubout`
// does and returns the file's path.
func writePublicPEM(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "issuer.pub")
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return path
}

// TestTrustCommands: trusts and rules made, shown, changed and deleted
// from the CLI, in text, JSON and YAML.
func TestTrustCommands(t *testing.T) {
	startServer(t)
	dir := t.TempDir()
	var client map[string]any
	for _, args := range [][]string{
		{"tenant", "create", "acme"},
		{"api", "create", "--audience", "https://api.example.io", "--scope", "deploy:write", "--scope", "read"},
	} {
		if out, err := run(t, "", args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	mustJSON(t, &client, "client", "create", "--tenant", "acme", "--name", "ci", "--grant", "https://api.example.io=deploy:write read")
	id, _ := client["client_id"].(string)

	var trust map[string]any
	mustJSON(t, &trust, "trust", "create", "acme/k8s", "--issuer", "https://k8s.example", "--jwks-file", writePublicPEM(t, dir),
		"--audience", "gatehouse", "--max-age", "1h", "--single-use")
	if trust["key_source"] != "jwks" || trust["max_age"] != "1h0m0s" || trust["single_use"] != true || trust["jwks"] == nil {
		t.Errorf("trust create from a PEM file: got %v", trust)
	}
	var updated map[string]any
	mustJSON(t, &updated, "trust", "update", "acme/k8s", "--discovery", "--audience", "", "--single-use=false")
	if trust = updated; trust["key_source"] != "discovery" || trust["jwks"] != nil || len(trust["audiences"].([]any)) != 0 || trust["single_use"] != false || trust["max_age"] != "1h0m0s" {
		t.Errorf("trust update --discovery --audience '' --single-use=false: got %v", trust)
	}
	mustJSON(t, &map[string]any{}, "trust", "create", "acme/github", "--issuer", "https://token.actions.githubusercontent.com")

	var rule map[string]any
	mustJSON(t, &rule, "trust", "rule", "add", "acme/github", "--name", "deploy", "--client", id,
		"--match", `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`, "--scope", "deploy:write", "--ttl", "10m")
	if rule["name"] != "deploy" || rule["token_ttl"] != "10m0s" {
		t.Errorf("rule add: got %v", rule)
	}
	text, err := run(t, "", "trust", "get", "acme/github")
	for _, want := range []string{"issuer:      https://token.actions.githubusercontent.com", "keys:        OIDC discovery",
		"rule:        deploy: client " + id + ` when claims.repository == "acme/deploy"`, "scopes at most deploy:write; token_ttl at most 10m"} {
		if err != nil || !strings.Contains(text, want) {
			t.Errorf("trust get: %v\n%s\nwant %q", err, text, want)
		}
	}
	yaml, err := run(t, "", "trust", "rule", "list", "acme/github", "-o", "yaml")
	if err != nil || !strings.Contains(yaml, "- name: deploy") || !strings.Contains(yaml, "token_ttl: 10m0s") {
		t.Errorf("rule list -o yaml: %v\n%s", err, yaml)
	}
	list, err := run(t, "", "trust", "list", "--tenant", "acme")
	if err != nil || !strings.Contains(list, "acme/github") || !strings.Contains(list, "acme/k8s") {
		t.Errorf("trust list --tenant acme: %v\n%s", err, list)
	}
	var all []any
	mustJSON(t, &all, "trust", "list")
	if len(all) != 2 {
		t.Errorf("trust list -o json: got %d trusts, want 2", len(all))
	}
	if out, err := run(t, "", "trust", "rule", "delete", "acme/github", "deploy"); err != nil || !strings.Contains(out, "deleted") {
		t.Errorf("rule delete: %v %s", err, out)
	}
	if out, err := run(t, "", "trust", "delete", "acme/k8s"); err != nil {
		t.Errorf("trust delete: %v %s", err, out)
	}
	if out, err := run(t, "", "trust", "get", "acme/k8s"); err == nil {
		t.Errorf("trust get after delete: got %s, want an error", out)
	}
}

// TestTrustCommandErrors: a usage mistake is caught before any request,
// and the server's refusals come back naming the field.
func TestTrustCommandErrors(t *testing.T) {
	startServer(t)
	dir := t.TempDir()
	if out, err := run(t, "", "tenant", "create", "acme"); err != nil {
		t.Fatalf("tenant create: %v %s", err, out)
	}
	if out, err := run(t, "", "trust", "create", "acme/github", "--issuer", "https://token.actions.githubusercontent.com"); err != nil {
		t.Fatalf("trust create: %v %s", err, out)
	}
	notJSON := filepath.Join(dir, "keys.txt")
	writeFile(t, notJSON, "kid: k1\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no slash", []string{"trust", "get", "github"}, "TENANT/NAME"},
		{"no issuer", []string{"trust", "create", "acme/x"}, "--issuer is required"},
		{"two key sources", []string{"trust", "create", "acme/x", "--issuer", "https://x.example", "--jwks-uri", "https://x.example/k", "--jwks-file", notJSON}, "not both"},
		{"a key file that is not JSON", []string{"trust", "create", "acme/x", "--issuer", "https://x.example", "--jwks-file", notJSON}, "neither JSON nor PEM"},
		{"an http issuer", []string{"trust", "create", "acme/x", "--issuer", "http://x.example"}, "issuer must be an https URL"},
		{"a bad max-age", []string{"trust", "create", "acme/x", "--issuer", "https://x.example", "--max-age", "soon"}, "--max-age"},
		{"discovery and a key source", []string{"trust", "update", "acme/github", "--discovery", "--jwks-uri", "https://x.example/k"}, "--discovery"},
		{"a rule without --match", []string{"trust", "rule", "add", "acme/github", "--name", "r", "--client", "c"}, "--match is required"},
		{"a rule that does not compile", []string{"trust", "rule", "add", "acme/github", "--name", "r", "--client", "c", "--match", "claims.sub =="}, "match: "},
		{"a rule for a missing client", []string{"trust", "rule", "add", "acme/github", "--name", "r", "--client", "ghost", "--match", "true"}, `client "ghost" does not exist`},
		{"a missing trust", []string{"trust", "get", "acme/nope"}, "not found"},
		{"exchange from an unknown API", []string{"api", "create", "--audience", "https://x.example", "--accept-exchange-from", "https://nope.example"}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %v (%s), want an error mentioning %q", err, out, tt.want)
			}
		})
	}
}

// TestAPIAcceptExchangeFrom: api update sets the list with repeated
// flags and clears it with an empty one.
func TestAPIAcceptExchangeFrom(t *testing.T) {
	startServer(t)
	for _, aud := range []string{"https://a.example", "https://b.example", "https://c.example"} {
		if out, err := run(t, "", "api", "create", "--audience", aud); err != nil {
			t.Fatalf("api create %s: %v %s", aud, err, out)
		}
	}
	var api map[string]any
	mustJSON(t, &api, "api", "update", "https://c.example", "--accept-exchange-from", "https://a.example", "--accept-exchange-from", "https://b.example")
	if from, _ := api["accept_exchange_from"].([]any); len(from) != 2 || from[0] != "https://a.example" {
		t.Errorf("update --accept-exchange-from twice: got %v", api["accept_exchange_from"])
	}
	text, err := run(t, "", "api", "get", "https://c.example")
	if err != nil || !strings.Contains(text, "accept_exchange_from:  https://a.example https://b.example") {
		t.Errorf("api get: %v\n%s", err, text)
	}
	var cleared map[string]any
	mustJSON(t, &cleared, "api", "update", "https://c.example", "--accept-exchange-from", "")
	if _, ok := cleared["accept_exchange_from"]; ok {
		t.Errorf("update --accept-exchange-from '': got %v, want the list cleared", cleared["accept_exchange_from"])
	}
}
