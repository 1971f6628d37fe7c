package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
)

// startServer runs a gatehouse for the CLI to talk to and points the CLI's
// environment at it.
func startServer(t *testing.T) {
	t.Helper()
	g := servertest.Start(t, nil, server.Options{})
	t.Setenv("GATEHOUSE_URL", g.URL)
	t.Setenv("GATEHOUSE_CREDENTIALS", g.Server.CredentialsPath())
}

// run executes one CLI command and returns its output.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := run(t, "", append(args, "-o", "json")...)
	if err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("gatehouse %s -o json printed %q: %v", strings.Join(args, " "), out, err)
	}
}

func TestAdminCommands(t *testing.T) {
	startServer(t)
	var tenant map[string]any
	mustJSON(t, &tenant, "tenant", "create", "acme", "--name", "Acme Inc")
	if tenant["id"] != "acme" || tenant["name"] != "Acme Inc" {
		t.Errorf("tenant create: got %v", tenant)
	}
	var env map[string]any
	mustJSON(t, &env, "env", "create", "acme/production")
	if key, _ := env["api_key"].(string); len(key) != 24 {
		t.Errorf("env create: got %v, want an api_key", env)
	}
	var api map[string]any
	mustJSON(t, &api, "api", "create", "--audience", "https://api.example.io", "--scope", "read=Read things", "--scope", "write", "--ttl", "15m", "--alg", "ES256")
	if api["token_ttl"] != "15m0s" || api["signing_alg"] != "ES256" {
		t.Errorf("api create: got %v", api)
	}
	mustJSON(t, &api, "api", "update", "https://api.example.io", "--ttl", "24h", "--reuse-window", "1m")
	if api["token_ttl"] != "24h0m0s" || api["reuse_window"] != "1m0s" || api["signing_alg"] != "ES256" {
		t.Errorf("api update changed more or less than asked: got %v", api)
	}
	var client map[string]any
	mustJSON(t, &client, "client", "create", "--tenant", "acme", "--env", "production", "--name", "deploy",
		"--grant", "https://api.example.io=read write", "--token-ttl", "15m", "--quota", "100/h")
	id, _ := client["client_id"].(string)
	secretValue, _ := client["client_secret"].(string)
	if id == "" || !strings.HasPrefix(secretValue, "gatehouse_") {
		t.Fatalf("client create: got %v, want an id and a gatehouse_ secret", client)
	}
	var got map[string]any
	mustJSON(t, &got, "client", "get", id)
	if _, ok := got["client_secret"]; ok {
		t.Errorf("client get shows the secret")
	}
	mustJSON(t, &got, "client", "update", id, "--rate-limit", "5/s")
	if l, _ := got["limits"].(map[string]any); l["rate_per_second"] != float64(5) || l["quota_hour"] != float64(100) {
		t.Errorf("client update --rate-limit: got %v, want the rate limit set and the quota kept", got["limits"])
	}
	mustJSON(t, &got, "client", "update", id, "--limit-mode", "log-only")
	if l, _ := got["limits"].(map[string]any); l["mode"] != "log-only" || l["rate_per_second"] != float64(5) || l["quota_hour"] != float64(100) {
		t.Errorf("client update --limit-mode: got %v, want log-only and the limits kept", got["limits"])
	}
	var ten map[string]any
	mustJSON(t, &ten, "tenant", "update", "acme", "--quota", "1000/h")
	mustJSON(t, &ten, "tenant", "update", "acme", "--quota", "5000/d", "--limit-mode", "log-only")
	if l, _ := ten["limits"].(map[string]any); l["mode"] != "log-only" || l["quota_hour"] != float64(1000) || l["quota_day"] != float64(5000) {
		t.Errorf("tenant update: got %v, want both quotas and log-only", ten["limits"])
	}
	mustJSON(t, &got, "client", "disable", id)
	if got["disabled"] != true {
		t.Errorf("disable: got %v", got["disabled"])
	}
	mustJSON(t, &got, "client", "enable", id)
	var rotated map[string]any
	mustJSON(t, &rotated, "client", "rotate-secret", id, "--keep-old", "24h")
	if s, _ := rotated["client_secret"].(string); s == "" || s == secretValue || len(rotated["secrets"].([]any)) != 2 {
		t.Errorf("rotate-secret: got %v", rotated)
	}
	var imported map[string]any
	out, err := run(t, "2l9dr0jkink11ad49hg93it52d\n", "client", "create", "--tenant", "acme", "--name", "legacy",
		"--client-id", "5934de97c95e1ced", "--client-secret-stdin", "-o", "json")
	if err != nil || json.Unmarshal([]byte(out), &imported) != nil || imported["client_id"] != "5934de97c95e1ced" {
		t.Errorf("import: got %v %s", err, out)
	}
	if strings.Contains(out, "2l9dr0jkink11ad49hg93it52d") {
		t.Errorf("import echoed the imported secret")
	}
	var lists []any
	for _, args := range [][]string{{"tenant", "list"}, {"env", "list", "acme"}, {"api", "list"}, {"client", "list"}, {"keys", "list"}, {"audit", "list", "--since", "1h"}} {
		// Audit events reach the store within a second.
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			mustJSON(t, &lists, args...)
			if len(lists) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(lists) == 0 {
			t.Errorf("gatehouse %s -o json: got an empty list", strings.Join(args, " "))
		}
	}
	var keys []map[string]any
	mustJSON(t, &keys, "keys", "rotate")
	next := 0
	for _, k := range keys {
		if k["state"] == "next" {
			next++
		}
	}
	if next != 3 {
		t.Errorf("keys rotate: got %d next keys, want 3", next)
	}
	if out, err := run(t, "", "client", "delete", id); err != nil || !strings.Contains(out, id) {
		t.Errorf("client delete: %v %s", err, out)
	}
	if out, err := run(t, "", "api", "delete", "https://api.example.io"); err != nil {
		t.Errorf("api delete: %v %s", err, out)
	}
	text, err := run(t, "", "tenant", "list")
	if err != nil || !strings.Contains(text, "ID") || !strings.Contains(text, "acme") {
		t.Errorf("tenant list as text: %v\n%s", err, text)
	}
}

func TestCLIErrors(t *testing.T) {
	startServer(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"api", "create"}, "--audience is required"},
		{[]string{"env", "create", "acme"}, "TENANT/ENV"},
		{[]string{"client", "create", "--tenant", "nobody", "--name", "x"}, `tenant "nobody" does not exist`},
		{[]string{"client", "create", "--tenant", "x", "--name", "x", "--grant", "nonsense"}, "AUDIENCE=SCOPE"},
		{[]string{"client", "get", "nobody"}, "not found"},
		{[]string{"client", "update", "x", "--quota", "5/w"}, "N/h or N/d"},
		{[]string{"client", "update", "x", "--limit-mode", "lax"}, "enforce or log-only"},
		{[]string{"tenant", "update", "acme", "--limit-mode", "lax"}, "enforce or log-only"},
		{[]string{"api", "create", "--audience", "https://x.example", "--ttl", "soon"}, "duration"},
		{[]string{"tenant", "list", "--credentials", "/nonexistent.json"}, "admin-client.json"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := run(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %v (%s), want an error mentioning %q", err, out, tt.want)
			}
		})
	}
}

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, file, "addr: 127.0.0.1:9999\nissuer: https://auth.example.io\nlegacy_hosts: [old.example]\nlegacy_sunset: 2027-06-30\n")
	t.Setenv("GATEHOUSE_ADDR", "127.0.0.1:7777")
	cmd := newServeCmd()
	cmd.Flags().Parse([]string{"--config", file, "--log-level", "debug"})
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7777" || cfg.Issuer != "https://auth.example.io" || cfg.LogLevel != "debug" || len(cfg.LegacyHosts) != 1 {
		t.Errorf("file < env < flags: got %+v", cfg)
	}
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--legacy-host", "a.example", "--legacy-host", "b.example", "--legacy-sunset", "2027-01-01"})
	if cfg, err := loadConfig(cmd.Flags()); err != nil || len(cfg.LegacyHosts) != 2 {
		t.Errorf("repeated --legacy-host: got %v %v", cfg.LegacyHosts, err)
	}
	// RFC 8705 settings: flags and env, the CA bundle read at start, the
	// header refused without a proxy it could come from.
	ca := filepath.Join(dir, "clients-ca.pem")
	mtlstest.WritePEM(t, ca, mtlstest.NewCA(t, "clients").Cert)
	t.Setenv("GATEHOUSE_CLIENT_CA", ca)
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--client-cert-header", "X-SSL-Client-Cert", "--trusted-proxy", "10.0.0.0/8"})
	if cfg, err := loadConfig(cmd.Flags()); err != nil || cfg.ClientCA != ca || cfg.ClientCertHeader != "X-SSL-Client-Cert" {
		t.Errorf("--client-cert-header with GATEHOUSE_CLIENT_CA: got %q %q %v", cfg.ClientCA, cfg.ClientCertHeader, err)
	}
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--client-cert-header", "X-SSL-Client-Cert"})
	if _, err := loadConfig(cmd.Flags()); err == nil || !strings.Contains(err.Error(), "--trusted-proxy") {
		t.Errorf("--client-cert-header without --trusted-proxy: got %v, want a refusal naming --trusted-proxy", err)
	}
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--client-ca", file})
	if _, err := loadConfig(cmd.Flags()); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("--client-ca naming a file without certificates: got %v", err)
	}
	t.Setenv("GATEHOUSE_CLIENT_CA", "")

	writeFile(t, file, "adress: typo\n")
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--config", file})
	if _, err := loadConfig(cmd.Flags()); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("unknown YAML field: got %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeJWKS writes a JWK Set of one new key to a file: its public half, or
// the whole key pair when private.
func writeJWKS(t *testing.T, dir, kid string, private bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"}
	if private {
		jwk.Key = key
	}
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kid+".json")
	writeFile(t, path, string(doc))
	return path
}

// TestClientAuthCommands: clients that authenticate by key or certificate
// are made and changed with the auth flags, and print no secret.
func TestClientAuthCommands(t *testing.T) {
	startServer(t)
	dir := t.TempDir()
	keys := writeJWKS(t, dir, "ci-key-1", false)
	if out, err := run(t, "", "tenant", "create", "acme"); err != nil {
		t.Fatalf("tenant create: %v %s", err, out)
	}

	out, err := run(t, "", "client", "create", "--tenant", "acme", "--name", "ci", "--auth", "private_key_jwt", "--jwks-file", keys, "--require-dpop")
	if err != nil {
		t.Fatalf("create private_key_jwt: %v %s", err, out)
	}
	for _, want := range []string{"auth_method:    private_key_jwt", "client_assertion JWT", "it has no secret", "kid ci-key-1", "require_dpop:   true"} {
		if !strings.Contains(out, want) {
			t.Errorf("create printed\n%s\nwant %q", out, want)
		}
	}
	if strings.Contains(out, "client_secret:") || strings.Contains(out, "gatehouse_") {
		t.Errorf("create printed a secret for a key client:\n%s", out)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[0])[1]

	// object runs a command with -o json and returns the object it printed.
	object := func(args ...string) map[string]any {
		t.Helper()
		var m map[string]any
		mustJSON(t, &m, args...)
		return m
	}
	got := object("client", "get", id)
	if _, ok := got["client_secret"]; ok || got["auth_method"] != "private_key_jwt" || got["jwks"] == nil || got["require_dpop"] != true {
		t.Errorf("client get: got %v", got)
	}
	got = object("client", "update", id, "--jwks-uri", "https://ci.acme.test/jwks.json", "--require-dpop=false")
	if got["jwks_uri"] != "https://ci.acme.test/jwks.json" || got["jwks"] != nil || got["require_dpop"] != false {
		t.Errorf("update --jwks-uri --require-dpop=false: got %v", got)
	}
	got = object("client", "update", id, "--auth", "tls_client_auth", "--tls-san-uri", "spiffe://acme.test/ci")
	if got["auth_method"] != "tls_client_auth" || got["tls_subject_kind"] != "uri" || got["jwks_uri"] != nil {
		t.Errorf("update --auth tls_client_auth: got %v", got)
	}
	text, err := run(t, "", "client", "get", id)
	if err != nil || !strings.Contains(text, "tls_subject:    SAN URI spiffe://acme.test/ci") || !strings.Contains(text, "configured client CA") {
		t.Errorf("client get as text: %v\n%s", err, text)
	}
	if out, err := run(t, "", "client", "rotate-secret", id); err == nil || !strings.Contains(err.Error(), "rotate-secret is only for client_secret clients") {
		t.Errorf("rotate-secret on a certificate client: got %v %s, want a refusal", err, out)
	}

	cert := object("client", "create", "--tenant", "acme", "--name", "edge", "--auth", "tls_client_auth", "--tls-subject", "CN=edge,O=Acme")
	if cert["tls_subject_kind"] != "dn" || cert["tls_subject"] != "CN=edge,O=Acme" || cert["client_secret"] != nil {
		t.Errorf("create tls_client_auth: got %v", cert)
	}
	cert = object("client", "create", "--tenant", "acme", "--name", "self", "--auth", "self_signed_tls_client_auth", "--jwks-file", keys)
	if cert["auth_method"] != "self_signed_tls_client_auth" || cert["jwks"] == nil || cert["client_secret"] != nil {
		t.Errorf("create self_signed_tls_client_auth: got %v", cert)
	}
	if got = object("client", "update", id, "--auth", "client_secret"); got["auth_method"] != "client_secret" || len(got["secrets"].([]any)) != 0 {
		t.Errorf("update --auth client_secret: got %v, want client_secret without a secret", got)
	}
	text, err = run(t, "", "client", "get", id)
	if err != nil || !strings.Contains(text, "holds none: run gatehouse client rotate-secret "+id) {
		t.Errorf("a client moved back to client_secret: %v\n%s", err, text)
	}
	if list, err := run(t, "", "client", "list"); err != nil || !strings.Contains(list, "self_signed_tls_client_auth") {
		t.Errorf("client list: %v\n%s", err, list)
	}
}

func TestClientAuthFlagErrors(t *testing.T) {
	startServer(t)
	dir := t.TempDir()
	keys := writeJWKS(t, dir, "k1", false)
	leaked := writeJWKS(t, dir, "leaked", true)
	brokenPEM := filepath.Join(dir, "keys.pem")
	writeFile(t, brokenPEM, "-----BEGIN PUBLIC KEY-----\n")
	notJSON := filepath.Join(dir, "keys.txt")
	writeFile(t, notJSON, "kid: k1\n")
	if out, err := run(t, "", "tenant", "create", "acme"); err != nil {
		t.Fatalf("tenant create: %v %s", err, out)
	}
	base := []string{"client", "create", "--tenant", "acme", "--name", "x"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"two subject flags", []string{"--auth", "tls_client_auth", "--tls-subject", "CN=x", "--tls-san-dns", "x.acme.test"}, "give one of --tls-subject, --tls-san-dns"},
		{"keys inline and at a URL", []string{"--auth", "private_key_jwt", "--jwks-file", keys, "--jwks-uri", "https://x.acme.test/jwks"}, "--jwks-file or --jwks-uri, not both"},
		{"a key flag with client_secret", []string{"--auth", "client_secret", "--jwks-uri", "https://x.acme.test/jwks"}, "--jwks-uri registers keys"},
		{"a key flag without --auth", []string{"--jwks-file", keys}, "give --auth private_key_jwt"},
		{"a subject flag without --auth", []string{"--tls-san-email", "ci@acme.test"}, "--tls-san-email registers"},
		{"an import for a key client", []string{"--auth", "private_key_jwt", "--jwks-file", keys, "--client-id", "legacy", "--client-secret-stdin"}, "--client-secret-stdin is only for --auth client_secret"},
		{"a secret expiry for a certificate client", []string{"--auth", "tls_client_auth", "--tls-subject", "CN=x", "--secret-expires-in", "90d"}, "--secret-expires-in is only for"},
		{"a JWKS file that is neither JSON nor PEM", []string{"--auth", "private_key_jwt", "--jwks-file", notJSON}, "neither JSON nor PEM"},
		{"a broken PEM file", []string{"--auth", "private_key_jwt", "--jwks-file", brokenPEM}, "no PEM block"},
		{"a missing JWKS file", []string{"--auth", "private_key_jwt", "--jwks-file", filepath.Join(dir, "nope.json")}, "no such file"},
		{"a private key in the file", []string{"--auth", "private_key_jwt", "--jwks-file", leaked}, "private key material"},
		{"an http jwks_uri", []string{"--auth", "private_key_jwt", "--jwks-uri", "http://x.acme.test/jwks"}, "https"},
		{"a bad DN", []string{"--auth", "tls_client_auth", "--tls-subject", "CN=a,,O=b"}, "tls_subject"},
		{"an unknown method", []string{"--auth", "magic"}, "auth_method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "", append(append([]string(nil), base...), tt.args...)...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %v (%s), want an error mentioning %q", err, out, tt.want)
			}
		})
	}
	t.Run("update: a key flag with --auth client_secret", func(t *testing.T) {
		out, err := run(t, "", "client", "update", "some-id", "--auth", "client_secret", "--tls-san-dns", "x.acme.test")
		if err == nil || !strings.Contains(err.Error(), "--tls-san-dns registers") {
			t.Errorf("got %v (%s), want a usage error", err, out)
		}
	})
}
