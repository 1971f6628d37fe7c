package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func TestVersion(t *testing.T) {
	out, err := run(t, "", "version", "-o", "json")
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("version -o json printed %q: %v", out, err)
	}
	if b.Version == "" || !strings.HasPrefix(b.GoVersion, "go") || b.Platform == "" || b.Crypto == "" {
		t.Errorf("version: got %+v, want version, Go version, platform and crypto", b)
	}
	flag, err := run(t, "", "--version")
	if err != nil || !strings.HasPrefix(flag, "gatehouse ") || !strings.Contains(flag, "crypto: ") {
		t.Errorf("--version: got %q, %v", flag, err)
	}
}

func TestHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
	}{{200, true}, {503, false}} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/readyz" {
				t.Errorf("healthcheck asked %s, want /readyz", r.URL.Path)
			}
			w.WriteHeader(tc.status)
		}))
		_, err := run(t, "", "healthcheck", "--url", ts.URL)
		if (err == nil) != tc.ok {
			t.Errorf("/readyz %d: got %v, want healthy %v", tc.status, err, tc.ok)
		}
		ts.Close()
	}
	if _, err := run(t, "", "healthcheck", "--url", "http://127.0.0.1:1", "--timeout", "1s"); err == nil {
		t.Errorf("no node listening: got healthy")
	}
}

// TestPackagingNamesRealCommands: the Dockerfile and the systemd unit run
// subcommands and flags that exist, so a rename cannot break them quietly.
func TestPackagingNamesRealCommands(t *testing.T) {
	root := newRootCmd()
	check := func(file, line string) {
		t.Helper()
		fields := strings.Fields(line)
		cmd, rest, err := root.Find(fields)
		if err != nil || cmd == root {
			t.Errorf("%s: %q names no subcommand (%v)", file, line, err)
			return
		}
		for _, f := range rest {
			name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
			if strings.HasPrefix(f, "-") && lookupFlag(cmd, name) == nil {
				t.Errorf("%s: %s has no flag --%s", file, cmd.CommandPath(), name)
			}
		}
	}
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)CMD \["/gatehouse", ([^\]]*)\]`).FindAllSubmatch(docker, -1) {
		check("Dockerfile", strings.NewReplacer(`"`, "", ",", "").Replace(string(m[1])))
	}
	if !strings.Contains(string(docker), "USER 65532") || !strings.Contains(string(docker), "CGO_ENABLED=0") {
		t.Errorf("Dockerfile: want a non-root USER and a static (CGO_ENABLED=0) build")
	}
	unit, err := os.ReadFile("../../packaging/gatehouse.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/gatehouse (.*)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("gatehouse.service: no ExecStart running gatehouse")
	}
	check("gatehouse.service", strings.ReplaceAll(string(m[1]), "${STATE_DIRECTORY}", "/var/lib/gatehouse"))
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=gatehouse", "ProtectSystem=strict", "NoNewPrivileges=yes"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("gatehouse.service: want %s", want)
		}
	}
}

func lookupFlag(cmd *cobra.Command, name string) any {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	if f := cmd.InheritedFlags().Lookup(name); f != nil {
		return f
	}
	return nil
}

func TestMigrateJSON(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	var first, again map[string]int
	mustJSON(t, &first, "migrate", "--db", db)
	mustJSON(t, &again, "migrate", "--db", db)
	if first["applied"] == 0 || again["applied"] != 0 {
		t.Errorf("migrate -o json: got %v then %v, want some migrations then none", first, again)
	}
}

// TestAuditListHidesAdminTokens: every CLI command gets an admin token;
// audit list leaves those issuances out unless asked.
func TestAuditListHidesAdminTokens(t *testing.T) {
	startServer(t)
	var tenant map[string]any
	mustJSON(t, &tenant, "tenant", "create", "acme")
	count := func(args ...string) (changes, adminTokens int) {
		var events []map[string]any
		mustJSON(t, &events, append([]string{"audit", "list", "--since", "1h"}, args...)...)
		for _, e := range events {
			switch {
			case e["kind"] == "tenant.create":
				changes++
			case e["kind"] == "token.issued" && e["target"] == "urn:gatehouse:admin":
				adminTokens++
			}
		}
		return changes, adminTokens
	}
	// Issuance events reach the store in batches within a second.
	deadline := time.Now().Add(5 * time.Second)
	c, a := count("--admin-tokens")
	for a == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		c, a = count("--admin-tokens")
	}
	if c != 1 || a == 0 {
		t.Errorf("audit list --admin-tokens: got %d changes and %d admin tokens, want 1 and some", c, a)
	}
	if c, a := count(); c != 1 || a != 0 {
		t.Errorf("audit list: got %d changes and %d admin tokens, want 1 and 0", c, a)
	}
}

// TestJWKSFileTakesPEM: the README's openssl walk hands --jwks-file a PEM
// public key; a private key is refused before anything is sent.
func TestJWKSFileTakesPEM(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	priv, _ := x509.MarshalPKCS8PrivateKey(key)
	pubPath, privPath := filepath.Join(dir, "client.pub"), filepath.Join(dir, "client.key")
	os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
	os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), 0o600)
	doc, err := readJWKSFile(nil, pubPath)
	if err != nil || !strings.Contains(string(doc), `"kty":"EC"`) || strings.Contains(string(doc), `"d"`) {
		t.Errorf("a PEM public key: got %s, %v; want a JWK Set of it", doc, err)
	}
	if _, err := readJWKSFile(nil, privPath); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("a PEM private key: got %v, want a refusal that says why", err)
	}
}

// TestYAMLOutput: -o yaml prints the JSON document's fields, in its order.
func TestYAMLOutput(t *testing.T) {
	out, err := run(t, "", "version", "-o", "yaml")
	if err != nil {
		t.Fatalf("version -o yaml: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || doc["go_version"] == nil || doc["platform"] == nil {
		t.Fatalf("version -o yaml printed %q: %v", out, err)
	}
	if !strings.HasPrefix(out, "version: ") || strings.Contains(out, "{") {
		t.Errorf("version -o yaml: got %q, want block YAML in the JSON order, starting with version:", out)
	}
}
