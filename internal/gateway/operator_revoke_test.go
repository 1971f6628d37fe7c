package gateway_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// TestOperatorRevocation is the operator's revocation end to end: the jti
// comes from the audit log, POST /admin/v1/tokens/revoke revokes it (the
// CLI's `token revoke --jti` and the console's button call the same), and
// then introspection answers inactive and the gateway, which checks JWTs
// with verify plus gatehouse's revocation list and opaque tokens by
// introspection, refuses the token: a JWT and an opaque one alike.
func TestOperatorRevocation(t *testing.T) {
	w := newWorld(t)
	up := startUpstream(t)
	cfg := w.gatewayConfig(up.URL)
	cfg.RevocationPollInterval = 100 * time.Millisecond
	cfg.IntrospectionCacheTTL = 300 * time.Millisecond
	var tokens []string
	gw := w.startGateway(t, cfg, &tokens)
	tests := []struct {
		name, path, audience string
	}{
		{"JWT", "/orders/1", ordersAudience},
		{"opaque", "/reports/1", reportsAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := w.gh.token(w.writer, tt.audience)
			tokens = append(tokens, tok)
			if a := gw.call(t, "GET", tt.path, tok, nil); a.status != 200 {
				t.Fatalf("before revocation: got %d %q, want 200", a.status, a.desc)
			}
			jti := w.issuedJTI(t, tt.audience)
			var out admin.RevokedToken
			w.gh.do("POST", "/admin/v1/tokens/revoke", map[string]string{"jti": jti}, &out)
			if out.ClientID != w.writer.ClientID || out.Audience != tt.audience || out.AlreadyRevoked {
				t.Errorf("revocation: got %+v, want the writer's %s token, newly revoked", out, tt.audience)
			}
			if active := w.introspectActive(t, tok); active {
				t.Errorf("introspection after the operator's revocation: got active, want inactive")
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				a := gw.call(t, "GET", tt.path, tok, nil)
				if a.status == 401 && a.err == "invalid_token" {
					break
				}
				if a.status != 200 || time.Now().After(deadline) {
					t.Fatalf("gateway after revocation: got %d %q, want 401 invalid_token within 10s", a.status, a.err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// issuedJTI reads the jti of the writer's newest token for audience from
// the audit log, as an operator would.
func (w *world) issuedJTI(t *testing.T, audience string) string {
	t.Helper()
	if err := w.gh.srv.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Target string `json:"target"`
		Detail string `json:"detail"`
	}
	w.gh.do("GET", "/admin/v1/audit?kind=token.issued&client="+url.QueryEscape(w.writer.ClientID), nil, &events)
	for _, e := range events {
		if e.Target == audience {
			var d struct {
				JTI string `json:"jti"`
			}
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || d.JTI == "" {
				t.Fatalf("issuance detail %q: no jti (%v)", e.Detail, err)
			}
			return d.JTI
		}
	}
	t.Fatalf("no token.issued event for %s in the audit log", audience)
	return ""
}

// introspectActive asks gatehouse about tok as the gateway's client does.
func (w *world) introspectActive(t *testing.T, tok string) bool {
	t.Helper()
	form := url.Values{"client_id": {w.gwCli.ClientID}, "client_secret": {w.gwCli.ClientSecret}, "token": {tok}}
	var in struct {
		Active bool `json:"active"`
	}
	if status := post(t, w.gh.url+"/oauth/introspect", "application/x-www-form-urlencoded", form.Encode(), &in); status != 200 {
		t.Fatalf("introspect: got %d, want 200", status)
	}
	return in.Active
}
