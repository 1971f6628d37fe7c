package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/token"
)

// issued writes a token.issued audit event as the token endpoint's
// observer does, for a token of clientID with jti living ttl from now.
func (w *world) issued(clientID, jti string, at time.Time, ttl time.Duration) {
	w.t.Helper()
	detail, _ := json.Marshal(map[string]any{"audience": platform, "scope": "read", "jti": jti, "exp": at.Add(ttl).Unix(), "source": "192.0.2.1"})
	must(w.t, w.st.AppendAudit(w.t.Context(), []store.AuditEvent{{ID: "ev-" + jti, At: at, Kind: store.AuditTokenIssued,
		Actor: clientID, ClientID: clientID, Target: platform, Detail: string(detail)}}))
}

// TestRevokeTokenByJTI: an operator revokes by the jti the audit log shows;
// the revocation lasts until the token's expiry from its issuance event,
// names its client, is audited once, and bad, unknown, expired and repeated
// requests each get their own clear answer.
func TestRevokeTokenByJTI(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	c, _ := w.client("svc", map[string][]string{platform: {"read"}})
	list := token.NewRevocations(w.st)
	now := w.clock.Now()
	w.issued(c.ID, "live1", now.Add(-time.Minute), time.Hour)
	w.issued(c.ID, "gone1", now.Add(-2*time.Hour), time.Hour)
	w.issued(c.ID, "ancient", now.Add(-40*24*time.Hour), 30*24*time.Hour+time.Hour)

	got, err := w.svc.RevokeToken(ctx, list, "live1")
	if err != nil {
		t.Fatalf("RevokeToken live1: got %v, want nil", err)
	}
	want := RevokedToken{JTI: "live1", ClientID: c.ID, Audience: platform, ExpiresAt: now.Add(59 * time.Minute).Truncate(time.Second), RevokedAt: now}
	if got != want {
		t.Errorf("RevokeToken: got %+v, want %+v", got, want)
	}
	if !list.Revoked("live1") {
		t.Errorf("Revoked(live1) after RevokeToken: got false, want true")
	}
	if ev := w.audit.take(); len(ev) != 1 || ev[0].Kind != "token.revoke" || ev[0].Target != "live1" {
		t.Errorf("audit: got %+v, want one token.revoke of live1", ev)
	}

	again, err := w.svc.RevokeToken(ctx, list, "live1")
	if err != nil || !again.AlreadyRevoked {
		t.Errorf("revoking again: got %+v, %v; want already_revoked, nil", again, err)
	}
	if ev := w.audit.take(); len(ev) != 0 {
		t.Errorf("audit after a repeat: got %+v, want nothing", ev)
	}

	tests := []struct {
		name, jti string
		wantErr   error
		wantText  string
	}{
		{"empty", "", ErrInvalid, "jti must be"},
		{"not a jti", "a b%", ErrInvalid, "jti must be"},
		{"too long", strings.Repeat("a", 129), ErrInvalid, "jti must be"},
		{"unknown", "nosuchjti", store.ErrNotFound, `no token with jti "nosuchjti"`},
		{"unknown, or issued a moment ago", "nosuchjti", store.ErrNotFound, "has not reached the audit log yet"},
		{"expired", "gone1", ErrInvalid, "expired at"},
		{"older than any lifetime", "ancient", store.ErrNotFound, "longest token lifetime"},
	}
	for _, tt := range tests {
		_, err := w.svc.RevokeToken(ctx, list, tt.jti)
		if !errors.Is(err, tt.wantErr) || err == nil || !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("%s: got %v, want %v with %q", tt.name, err, tt.wantErr, tt.wantText)
		}
		if list.Revoked(tt.jti) {
			t.Errorf("%s: got revoked, want nothing recorded", tt.name)
		}
	}
}

// TestRevokeTokenRoute: POST /admin/v1/tokens/revoke needs admin:write and
// answers with the revocation, or the admin API's JSON error.
func TestRevokeTokenRoute(t *testing.T) {
	a := newAdminAPI(t)
	ops, _ := a.client("ops", map[string][]string{store.AdminAudience: {store.ScopeRead, store.ScopeWrite}})
	svc, _ := a.client("svc", map[string][]string{platform: {"read"}})
	a.issued(svc.ID, "jti42", a.clock.Now(), time.Hour)
	write, read := a.adminToken(ops.ID, "admin:read admin:write"), a.adminToken(ops.ID, "admin:read")
	tests := []struct {
		name, tok, body string
		status          int
		code            string
	}{
		{"read scope only", read, `{"jti":"jti42"}`, http.StatusForbidden, "insufficient_scope"},
		{"unknown field", write, `{"jti":"jti42","exp":1}`, http.StatusBadRequest, "invalid_request"},
		{"unknown jti", write, `{"jti":"jti43"}`, http.StatusNotFound, "not_found"},
		{"revoked", write, `{"jti":"jti42"}`, http.StatusOK, ""},
	}
	for _, tt := range tests {
		rec := a.call("POST", "/admin/v1/tokens/revoke", tt.tok, tt.body)
		if code, _ := errorOf(t, rec); rec.Code != tt.status || code != tt.code {
			t.Errorf("%s: got %d %q, want %d %q", tt.name, rec.Code, code, tt.status, tt.code)
		}
	}
	if !a.revoked.Revoked("jti42") {
		t.Errorf("after the route: jti42 not revoked")
	}
}
