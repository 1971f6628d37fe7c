package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestTokenRevokeCommand: an operator finds a token's jti with `audit
// list` and revokes it with `token revoke --jti`; a repeat says so, -o json
// prints the revocation, and a wrong or missing jti is a clear error.
func TestTokenRevokeCommand(t *testing.T) {
	g := servertest.Start(t, nil, server.Options{})
	t.Setenv("GATEHOUSE_URL", g.URL)
	t.Setenv("GATEHOUSE_CREDENTIALS", g.Server.CredentialsPath())
	t.Setenv("GATEHOUSE_TOKEN_CACHE", t.TempDir())
	mustJSON(t, &map[string]any{}, "tenant", "create", "acme")
	mustJSON(t, &map[string]any{}, "api", "create", "--audience", "https://api.example.io", "--scope", "read")
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	mustJSON(t, &c, "client", "create", "--tenant", "acme", "--name", "svc", "--grant", "https://api.example.io=read")
	if out, err := run(t, "", "token", "--client-id", c.ClientID, "--client-secret", c.ClientSecret, "--audience", "https://api.example.io", "--no-cache"); err != nil {
		t.Fatalf("token: %v\n%s", err, out)
	}
	if err := g.Server.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	mustJSON(t, &events, "audit", "list", "--kind", "token.issued", "--client", c.ClientID)
	if len(events) != 1 {
		t.Fatalf("audit list --kind token.issued: got %d events, want 1", len(events))
	}
	var detail struct {
		JTI string `json:"jti"`
	}
	json.Unmarshal([]byte(events[0].Detail), &detail)

	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    string
	}{
		{"revoke", []string{"token", "revoke", "--jti", detail.JTI}, false, "revoked: jti " + detail.JTI + " (client " + c.ClientID + ", audience https://api.example.io)"},
		{"again", []string{"token", "revoke", "--jti", detail.JTI}, false, "already revoked: jti " + detail.JTI},
		{"json", []string{"token", "revoke", "--jti", detail.JTI, "-o", "json"}, false, `"already_revoked": true`},
		{"unknown jti", []string{"token", "revoke", "--jti", "nosuchjti"}, true, `no token with jti "nosuchjti"`},
		{"not a jti", []string{"token", "revoke", "--jti", "a b"}, true, "jti must be the token id the audit log shows"},
		{"no jti", []string{"token", "revoke"}, true, `required flag(s) "jti" not set`},
	}
	for _, tt := range tests {
		out, err := run(t, "", tt.args...)
		text := out
		if err != nil {
			text = err.Error()
		}
		if (err != nil) != tt.wantErr || !strings.Contains(text, tt.want) {
			t.Errorf("%s: got %q, %v; want error %v and %q", tt.name, out, err, tt.wantErr, tt.want)
		}
	}
	var revoked []store.AuditEvent
	if err := g.Server.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustJSON(t, &revoked, "audit", "list", "--kind", "token.revoke")
	if len(revoked) != 1 || revoked[0].Target != detail.JTI {
		t.Errorf("audit list --kind token.revoke: got %+v, want one event for %s", revoked, detail.JTI)
	}
}
