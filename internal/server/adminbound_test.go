package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/mtls/mtlstest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// adminCall sends GET /admin/v1/tenants through client with an
// Authorization header and an optional DPoP proof.
func adminCall(t *testing.T, client *http.Client, base, authorization, proof string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/admin/v1/tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return send(t, client, req)
}

// TestAdminAPIHoldsDPoPBoundTokens gets an admin token bound to a DPoP
// key (the bootstrap client with a proof) and calls the admin API with
// it: as a plain Bearer token it is refused, as a stolen one would be;
// with the DPoP scheme it needs a fresh proof of that key for this
// request.
func TestAdminAPIHoldsDPoPBoundTokens(t *testing.T) {
	h := start(t, nil)
	creds, err := admin.ReadCredentials(h.srv.CredentialsPath())
	if err != nil {
		t.Fatal(err)
	}
	key := newECKey(t)
	status, _, body := h.post("/oauth/token", formType, form("grant_type", "client_credentials", "client_id", creds.ClientID,
		"client_secret", creds.ClientSecret, "audience", store.AdminAudience),
		http.Header{"DPoP": {proof(t, key, "POST", h.cfg.Issuer+"/oauth/token", "", "")}})
	tok := wantOK(t, "a DPoP-bound admin token", status, body)
	h.secrets = append(h.secrets, tok.AccessToken)
	if tok.TokenType != "DPoP" {
		t.Fatalf("token_type: got %q, want DPoP", tok.TokenType)
	}
	url := h.ts.URL + "/admin/v1/tenants"
	good := proof(t, key, "GET", url, tok.AccessToken, "")
	tests := []struct {
		name, authorization, proof string
		wantStatus                 int
		wantCode                   string
	}{
		{"as Bearer", "Bearer " + tok.AccessToken, "", 401, "invalid_token"},
		{"as Bearer with a proof", "Bearer " + tok.AccessToken, good, 401, "invalid_token"},
		{"DPoP without a proof", "DPoP " + tok.AccessToken, "", 401, "invalid_dpop_proof"},
		{"a proof by another key", "DPoP " + tok.AccessToken, proof(t, newECKey(t), "GET", url, tok.AccessToken, ""), 401, "invalid_dpop_proof"},
		{"a proof for another request", "DPoP " + tok.AccessToken, proof(t, key, "POST", url, tok.AccessToken, ""), 401, "invalid_dpop_proof"},
		{"a proof for another token", "DPoP " + tok.AccessToken, proof(t, key, "GET", url, "another-token", ""), 401, "invalid_dpop_proof"},
		{"the right proof", "DPoP " + tok.AccessToken, good, 200, ""},
		{"the right proof again", "DPoP " + tok.AccessToken, good, 401, "invalid_dpop_proof"},
	}
	for _, tt := range tests {
		status, header, body := adminCall(t, http.DefaultClient, h.ts.URL, tt.authorization, tt.proof)
		if tt.wantStatus == 200 {
			if status != 200 {
				t.Errorf("%s: got %d %s, want 200", tt.name, status, body)
			}
			continue
		}
		wantError(t, tt.name, status, header, body, tt.wantStatus, tt.wantCode)
		if ch := header.Get("WWW-Authenticate"); !strings.Contains(ch, tt.wantCode) {
			t.Errorf("%s: WWW-Authenticate %q does not name %s", tt.name, ch, tt.wantCode)
		}
	}
	// Introspection authenticates clients, never bearers: the token in an
	// Authorization header is no credential there.
	status, header, body := h.post("/oauth/introspect", formType, form("token", tok.AccessToken),
		http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	wantError(t, "introspection with the token as Bearer", status, header, body, http.StatusUnauthorized, "invalid_client")
}

// TestAdminAPIHoldsCertificateBoundTokens gets an admin token bound to a
// client certificate (a tls_client_auth client over gatehouse's TLS
// listener) and calls the admin API with it as Bearer: over a connection
// with that certificate it passes; without one, or with another, it is
// refused.
func TestAdminAPIHoldsCertificateBoundTokens(t *testing.T) {
	n := startTLSNode(t)
	cert := n.clientCA.Client(t, "operator")
	n.addClient("operator", store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: mtls.KindDN, TLSSubject: "CN=operator"},
		map[string][]string{store.AdminAudience: {store.ScopeRead}})
	status, _, body := n.token(cert, "operator", store.AdminAudience, nil)
	tok := wantOK(t, "a certificate-bound admin token", status, body)
	if cnfOf(t, tok.AccessToken)["x5t#S256"] != binding.Thumbprint(cert.Cert) {
		t.Fatalf("cnf: got %v, want the operator's certificate", cnfOf(t, tok.AccessToken))
	}
	if status, _, body := adminCall(t, n.client(cert), n.url, "Bearer "+tok.AccessToken, ""); status != 200 {
		t.Errorf("with its certificate: got %d %s, want 200", status, body)
	}
	for name, c := range map[string]*mtlstest.Leaf{
		"no certificate":      nil,
		"another certificate": n.clientCA.Client(t, "operator"),
	} {
		status, header, body := adminCall(t, n.client(c), n.url, "Bearer "+tok.AccessToken, "")
		wantError(t, name, status, header, body, http.StatusUnauthorized, "invalid_token")
	}
}
