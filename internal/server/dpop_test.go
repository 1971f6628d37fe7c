package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestDPoPThroughTheListener asks for tokens with DPoP proofs (RFC 9449)
// through the real listener: a JWT and an opaque token bound to the
// proof's key (token_type DPoP, cnf.jkt in the JWT and at introspection),
// for a secret client and a private_key_jwt one; bad proofs are 400
// invalid_dpop_proof in the JSON error body, and a require_dpop client
// needs one.
func TestDPoPThroughTheListener(t *testing.T) {
	h := start(t, nil)
	h.seedKeyAPIs()
	c := h.newClient(adminClientInput("dpop"))
	key := newECKey(t)
	jkt := thumbprint(t, key)
	tokenURL := h.cfg.Issuer + "/oauth/token"
	secretForm := func(audience string) string {
		return form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", audience)
	}
	withProof := func(p string) http.Header { return http.Header{"DPoP": {p}} }

	t.Run("JWT", func(t *testing.T) {
		status, _, body := h.post("/oauth/token", formType, secretForm(keyAPI), withProof(proof(t, key, "POST", tokenURL, "", "")))
		tok := wantOK(t, "token with a proof", status, body)
		h.secrets = append(h.secrets, tok.AccessToken)
		if tok.TokenType != "DPoP" {
			t.Errorf("token_type: got %q, want DPoP", tok.TokenType)
		}
		_, claims := h.verified(tok.AccessToken, keyAPI)
		if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != jkt {
			t.Errorf("cnf: got %v, want jkt %s", claims["cnf"], jkt)
		}
		checkIntrospection(t, h, c, tok.AccessToken, "DPoP", "jkt", jkt)
	})
	t.Run("opaque", func(t *testing.T) {
		status, _, body := h.post("/oauth/token", formType, secretForm(opaqueAPI), withProof(proof(t, key, "POST", tokenURL, "", "")))
		tok := wantOK(t, "opaque token with a proof", status, body)
		h.secrets = append(h.secrets, tok.AccessToken)
		if tok.TokenType != "DPoP" || len(tok.AccessToken) != 32 {
			t.Errorf("got token_type %q and %d characters, want DPoP and an opaque token", tok.TokenType, len(tok.AccessToken))
		}
		checkIntrospection(t, h, c, tok.AccessToken, "DPoP", "jkt", jkt)
	})
	t.Run("private_key_jwt", func(t *testing.T) {
		signer := newECKey(t)
		kc := h.registerClient("signer", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(t, signer.Public(), "k1", "ES256")})
		status, _, body := h.post("/oauth/token", formType, assertionForm(kc.ClientID, assertion(t, signer, kc.ClientID, h.cfg.Issuer)),
			withProof(proof(t, key, "POST", tokenURL, "", "")))
		tok := wantOK(t, "private_key_jwt with a proof", status, body)
		h.secrets = append(h.secrets, tok.AccessToken)
		if tok.TokenType != "DPoP" || cnfOf(t, tok.AccessToken)["jkt"] != jkt {
			t.Errorf("got token_type %q cnf %v, want DPoP bound to %s", tok.TokenType, cnfOf(t, tok.AccessToken), jkt)
		}
	})

	t.Run("bad proofs", func(t *testing.T) {
		used := proof(t, key, "POST", tokenURL, "", "")
		status, _, body := h.post("/oauth/token", formType, secretForm(keyAPI), withProof(used))
		h.secrets = append(h.secrets, wantOK(t, "first use of a proof", status, body).AccessToken)
		tests := []struct {
			name   string
			header http.Header
		}{
			{"replayed", withProof(used)},
			{"another endpoint's htu", withProof(proof(t, key, "POST", h.cfg.Issuer+"/oauth/introspect", "", ""))},
			{"another host's htu", withProof(proof(t, key, "POST", "https://evil.example/oauth/token", "", ""))},
			{"htm GET", withProof(proof(t, key, "GET", tokenURL, "", ""))},
			{"not a JWT", withProof("garbage")},
			{"an access token instead", withProof(signed(t, key, "ES256", "", map[string]any{"htm": "POST", "htu": tokenURL}))},
			{"two proofs", http.Header{"DPoP": {proof(t, key, "POST", tokenURL, "", ""), proof(t, key, "POST", tokenURL, "", "")}}},
		}
		for _, tt := range tests {
			status, header, body := h.post("/oauth/token", formType, secretForm(keyAPI), tt.header)
			wantError(t, tt.name, status, header, body, http.StatusBadRequest, "invalid_dpop_proof")
		}
	})

	t.Run("require_dpop", func(t *testing.T) {
		strict := h.registerClient("strict", store.ClientAuth{RequireDPoP: true})
		body := form("grant_type", "client_credentials", "client_id", strict.ClientID, "client_secret", strict.ClientSecret, "audience", keyAPI)
		status, header, resp := h.post("/oauth/token", formType, body, nil)
		wantError(t, "require_dpop client without a proof", status, header, resp, http.StatusBadRequest, "invalid_dpop_proof")
		status, _, resp = h.post("/oauth/token", formType, body, withProof(proof(t, key, "POST", tokenURL, "", "")))
		if tok := wantOK(t, "require_dpop client with a proof", status, resp); tok.TokenType != "DPoP" {
			t.Errorf("token_type: got %q, want DPoP", tok.TokenType)
		}
	})
}

// checkIntrospection introspects tok as c and wants it active with
// tokenType and cnf[member] = want.
func checkIntrospection(t *testing.T, h *harness, c admin.ClientView, tok, tokenType, member, want string) {
	t.Helper()
	id, secret := c.ClientID, c.ClientSecret
	status, _, body := h.post("/oauth/introspect", formType, form("client_id", id, "client_secret", secret, "token", tok), nil)
	var in boundIntrospection
	if status != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("introspect: got %d %s", status, body)
	}
	if !in.Active || in.TokenType != tokenType || in.Cnf[member] != want {
		t.Errorf("introspection: got %s, want active, token_type %s, cnf.%s %s", body, tokenType, member, want)
	}
}

// TestDPoPNonce runs with --dpop-nonce: a proof without the server's
// nonce is answered 400 use_dpop_nonce with a DPoP-Nonce header (RFC 9449
// §8), and the retry carrying it gets the token; a request without a
// proof is not asked for one. A private_key_jwt client may retry with the
// same client assertion: the first attempt did not spend it.
func TestDPoPNonce(t *testing.T) {
	h := start(t, func(c *config.Config) { c.DPoPNonce = true })
	h.seedKeyAPIs()
	c := h.newClient(adminClientInput("nonce"))
	key := newECKey(t)
	tokenURL := h.cfg.Issuer + "/oauth/token"
	secretForm := form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", keyAPI)

	askNonce := func(what, body, nonce string) string {
		t.Helper()
		status, header, resp := h.post("/oauth/token", formType, body, http.Header{"DPoP": {proof(t, key, "POST", tokenURL, "", nonce)}})
		wantError(t, what, status, header, resp, http.StatusBadRequest, "use_dpop_nonce")
		n := header.Get(dpop.NonceHeader)
		if n == "" {
			t.Fatalf("%s: no %s header", what, dpop.NonceHeader)
		}
		return n
	}
	nonce := askNonce("proof without a nonce", secretForm, "")
	status, _, resp := h.post("/oauth/token", formType, secretForm, http.Header{"DPoP": {proof(t, key, "POST", tokenURL, "", nonce)}})
	if tok := wantOK(t, "retry with the nonce", status, resp); tok.TokenType != "DPoP" {
		t.Errorf("token_type: got %q, want DPoP", tok.TokenType)
	}
	askNonce("a nonce gatehouse never gave", secretForm, "bm90LWEtbm9uY2U")

	status, _, resp = h.post("/oauth/token", formType, secretForm, nil)
	if tok := wantOK(t, "no proof at all", status, resp); tok.TokenType != "Bearer" {
		t.Errorf("without a proof: token_type %q, want Bearer", tok.TokenType)
	}

	signer := newECKey(t)
	kc := h.registerClient("signer", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(t, signer.Public(), "k1", "ES256")})
	body := assertionForm(kc.ClientID, assertion(t, signer, kc.ClientID, h.cfg.Issuer))
	nonce = askNonce("private_key_jwt without a nonce", body, "")
	status, _, resp = h.post("/oauth/token", formType, body, http.Header{"DPoP": {proof(t, key, "POST", tokenURL, "", nonce)}})
	wantOK(t, "private_key_jwt retried with the nonce and the same assertion", status, resp)
}

// TestMetadataListsKeyMethods reads the RFC 8414 metadata through the
// listener, at both discovery paths: every client authentication method,
// the assertion and DPoP algorithms (asymmetric only), and
// certificate-bound tokens.
func TestMetadataListsKeyMethods(t *testing.T) {
	h := start(t, nil)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		resp, err := http.Get(h.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var md struct {
			AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
			AuthAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
			DPoPAlgs      []string `json:"dpop_signing_alg_values_supported"`
			CertBound     bool     `json:"tls_client_certificate_bound_access_tokens"`
			MTLSAliases   any      `json:"mtls_endpoint_aliases"`
			TokenEndpoint string   `json:"token_endpoint"`
		}
		err = json.NewDecoder(resp.Body).Decode(&md)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: got %d, %v", path, resp.StatusCode, err)
		}
		for _, m := range []string{"client_secret_basic", "client_secret_post", store.AuthPrivateKeyJWT, store.AuthTLS, store.AuthSelfSignedTLS} {
			if !slices.Contains(md.AuthMethods, m) {
				t.Errorf("%s: token_endpoint_auth_methods_supported %v lacks %s", path, md.AuthMethods, m)
			}
		}
		for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
			if !slices.Contains(md.AuthAlgs, alg) || !slices.Contains(md.DPoPAlgs, alg) {
				t.Errorf("%s: %s missing from the assertion algs %v or the DPoP algs %v", path, alg, md.AuthAlgs, md.DPoPAlgs)
			}
		}
		for _, alg := range append(slices.Clone(md.AuthAlgs), md.DPoPAlgs...) {
			if alg == "none" || alg[:2] == "HS" {
				t.Errorf("%s: offers %s", path, alg)
			}
		}
		if !md.CertBound || md.MTLSAliases != nil {
			t.Errorf("%s: tls_client_certificate_bound_access_tokens %v, mtls_endpoint_aliases %v; want true and absent (same URLs)",
				path, md.CertBound, md.MTLSAliases)
		}
		if md.TokenEndpoint != h.cfg.Issuer+"/oauth/token" {
			t.Errorf("%s: token_endpoint %s", path, md.TokenEndpoint)
		}
	}
}
