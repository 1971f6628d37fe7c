package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// issued writes a token.issued event for a token of clientID living ttl.
func (e *env) issued(clientID, jti string, ttl time.Duration) {
	e.t.Helper()
	now := e.clock.Now()
	detail := fmt.Sprintf(`{"audience":"https://api.acme.test","scope":"orders:read","jti":%q,"exp":%d,"source":"192.0.2.7"}`, jti, now.Add(ttl).Unix())
	ev := store.AuditEvent{ID: "ev-" + jti, At: now.Add(-time.Minute), Kind: store.AuditTokenIssued, Actor: clientID, ClientID: clientID,
		Target: "https://api.acme.test", Detail: detail}
	if err := e.store.AppendAudit(context.Background(), []store.AuditEvent{ev}); err != nil {
		e.t.Fatal(err)
	}
}

// TestRevokeFromAuditView: the audit view offers Revoke next to the
// issuance of a live token (to admin:write users only), the button revokes
// it by jti through admin.Service (audited as the signed-in client), and
// the view then says so and shows the token as revoked, its filter kept.
func TestRevokeFromAuditView(t *testing.T) {
	e := newEnv(t, nil)
	e.seed()
	e.issued(e.plain.ClientID, "jtilive", time.Hour)
	e.issued(e.plain.ClientID, "jtigone", -time.Minute)
	b := e.signedIn(e.admin)
	button := func(jti string) string { return `<input type="hidden" name="jti" value="` + jti + `">` }

	page := b.get("/console/audit?client=" + e.plain.ClientID)
	if !strings.Contains(page.body, button("jtilive")) {
		t.Fatalf("audit view: got no Revoke button for the live token\n%s", page.body)
	}
	if strings.Contains(page.body, button("jtigone")) {
		t.Errorf("audit view: got a Revoke button for an expired token, want none")
	}
	if r := e.signedIn(e.reader).get("/console/audit"); strings.Contains(r.body, button("jtilive")) {
		t.Errorf("audit view for admin:read: got a Revoke button, want none")
	}

	a := b.post("/console/audit", "/console/tokens/revoke", url.Values{"jti": {"jtilive"}, "client": {e.plain.ClientID}, "since": {"24h"}})
	wantLoc := "/console/audit?" + url.Values{"client": {e.plain.ClientID}, "revoked": {"jtilive"}, "since": {"24h"}}.Encode()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != wantLoc {
		t.Fatalf("revoke: got %d to %q, want 303 to %q\n%s", a.status, a.header.Get("Location"), wantLoc, a.body)
	}
	if !e.iss.Revocations().Revoked("jtilive") {
		t.Errorf("after the button: the token is not in the revocation list")
	}
	if got := e.changes(); len(got) == 0 || got[len(got)-1] != (auditCall{e.admin.ClientID, "token.revoke", "jtilive"}) {
		t.Errorf("changes: got %v, want token.revoke of jtilive by %s last", got, e.admin.ClientID)
	}
	after := b.get(wantLoc)
	if !strings.Contains(after.body, "Token jtilive was revoked") || !strings.Contains(after.body, `class="badge state-retired">revoked`) ||
		strings.Contains(after.body, button("jtilive")) {
		t.Errorf("audit view after revoking: got no notice or no revoked badge, or still a button\n%s", after.body)
	}

	for _, tc := range []struct {
		name, jti string
		status    int
		want      string
	}{
		{"unknown", "nosuchjti", http.StatusNotFound, "Token not found"},
		{"expired", "jtigone", http.StatusBadRequest, "expired at"},
		{"malformed", "a b", http.StatusBadRequest, "The jti must be"},
	} {
		a := b.post("/console/audit", "/console/tokens/revoke", url.Values{"jti": {tc.jti}})
		if a.status != tc.status || !strings.Contains(a.body, tc.want) {
			t.Errorf("%s: got %d, want %d saying %q\n%s", tc.name, a.status, tc.status, tc.want, a.body)
		}
	}
}
