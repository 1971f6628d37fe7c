package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyAndExportCommands(t *testing.T) {
	startServer(t)
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	doc := `tenants: [{id: acme, name: Acme Inc}]
environments: [{tenant: acme, id: production}]
apis:
  - audience: https://api.example.io
    scopes: [read, write]
    token_ttl: 15m
clients:
  - client_id: ci-key
    name: CI key
    tenant: acme
    grants: {"https://api.example.io": [read]}
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args  []string
		stdin string
		want  []string
	}{
		{[]string{"apply", "-f", file, "--dry-run"}, "", []string{"+ tenant acme\n", "+ client ci-key\n", "dry run: 4 to create, 0 to update, 0 to delete; nothing was changed"}},
		{[]string{"apply", "-f", file}, "", []string{"+ environment acme/production\n    api_key: ", "    client_secret: gatehouse_", "(shown once: store it now)", "applied: 4 created"}},
		{[]string{"apply", "-f", file}, "", []string{"no changes: the server matches the file"}},
		{[]string{"apply", "-f", "-"}, strings.Replace(doc, "15m", "1h", 1), []string{"~ api https://api.example.io\n    token_ttl: 15m -> 1h\n"}},
		{[]string{"export"}, "", []string{"tenants:\n  - id: acme\n    name: Acme Inc\n", "    token_ttl: 1h\n", "  - client_id: ci-key\n"}},
	}
	for _, s := range steps {
		out, err := run(t, s.stdin, s.args...)
		if err != nil {
			t.Fatalf("gatehouse %s: %v\n%s", strings.Join(s.args, " "), err, out)
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("gatehouse %s printed:\n%s\nwant it to hold %q", strings.Join(s.args, " "), out, w)
			}
		}
	}

	var exported map[string][]map[string]any
	mustJSON(t, &exported, "export")
	if got := len(exported["clients"]); got != 1 {
		t.Errorf("export -o json: got %d clients, want 1 (the bootstrap admin client is not exported)", got)
	}
	var report struct {
		Changes []map[string]any `json:"changes"`
	}
	mustJSON(t, &report, "apply", "-f", file, "--dry-run")
	if len(report.Changes) != 1 || report.Changes[0]["action"] != "update" {
		t.Errorf("apply -o json: got %v, want one update", report.Changes)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("tenants:\n  - id: acme\n    nme: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "apply", "-f", bad)
	if err == nil || !strings.Contains(err.Error(), bad+`: line 3: unknown field "nme" in a tenant`) {
		t.Errorf("apply of a file with a typo: got %v\n%s", err, out)
	}
	if _, err := run(t, "", "apply"); err == nil || !strings.Contains(err.Error(), "-f FILE") {
		t.Errorf("apply without -f: got %v, want a usage error", err)
	}
}
