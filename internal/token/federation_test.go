package token

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// fedWorld is a world with a GitHub-Actions-like issuer served over TLS
// and trusted by acme, whose rules map two repositories to two clients.
type fedWorld struct {
	*world
	gh             *fedtest.Issuer
	deploy, capped cred
	other          cred // a client of tenant other
	life           fedtest.Lifetime
	trustKey, aud  string
}

func newFedWorld(t *testing.T) *fedWorld {
	t.Helper()
	w := newWorld(t)
	gh := fedtest.New(fedtest.Options{TLS: true, Alg: "RS256"})
	t.Cleanup(gh.Close)
	f := &fedWorld{world: w, gh: gh, life: fedtest.Lifetime{Now: w.clock.Now()}, aud: "https://github.com/acme"}
	f.deploy = w.client(admin.NewClient{Name: "deploy", Grants: map[string][]string{platform: {"read", "write"}}})
	f.capped = w.client(admin.NewClient{Name: "capped", Grants: map[string][]string{platform: {"read", "write"}}})
	f.other = w.client(admin.NewClient{Name: "other", Tenant: "other", Grants: map[string][]string{platform: {"read"}}})
	f.trust(store.Trust{Tenant: "acme", Name: "github", Issuer: gh.URL, Audiences: []string{f.aud}, Rules: []store.TrustRule{
		{Name: "deploy", Client: f.deploy.id, Match: `claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"`},
		{Name: "capped", Client: f.capped.id, Match: `claims.repository == "acme/tools"`, Scopes: []string{"read"}, TokenTTL: 5 * time.Minute},
		{Name: "also-tools", Client: f.deploy.id, Match: `claims.repository == "acme/tools" && claims.ref == "refs/heads/release"`},
		{Name: "foreign", Client: f.other.id, Match: `claims.repository == "acme/foreign"`},
	}})
	f.trustKey = store.TrustKey("acme", "github")
	w.iss = w.issuer(Config{IssuerURL: issuerURL, JWKS: fedOptions(gh)})
	return f
}

// trust stores t as the admin rules would and refreshes the catalog.
func (f *fedWorld) trust(t store.Trust) {
	f.t.Helper()
	t.CreatedAt, t.UpdatedAt = f.clock.Now(), f.clock.Now()
	if err := f.st.CreateTrust(f.t.Context(), t); err != nil {
		f.t.Fatal(err)
	}
	if err := f.cat.RefreshTrust(f.t.Context(), t.Tenant, t.Name); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fedWorld) ghToken(repo, ref string) string {
	return f.gh.Sign(fedtest.GitHubActions(f.gh.URL, repo, ref, "", f.aud, f.life))
}

// claimsOf verifies tok for aud as a product API would.
func (f *fedWorld) claimsOf(t *testing.T, tok, aud string) *verify.Claims {
	t.Helper()
	c, err := verifierFor(t, f.iss, aud, f.clock.Now()).Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return c
}

// The three request forms give the mapped client's token, naming the
// outside issuer and subject in ext.
func TestFederatedRequestForms(t *testing.T) {
	f := newFedWorld(t)
	tests := []struct {
		name, gty, issuedType string
		req                   oauth.TokenRequest
	}{
		{"jwt-bearer", "jwt-bearer", "", oauth.TokenRequest{GrantType: oauth.GrantJWTBearer, Assertion: f.ghToken("acme/deploy", "refs/heads/main"), Audience: platform}},
		{"token exchange, jwt", "token-exchange", oauth.TokenTypeAccess, oauth.TokenRequest{GrantType: oauth.GrantTokenExchange,
			SubjectToken: f.ghToken("acme/deploy", "refs/heads/main"), SubjectTokenType: oauth.TokenTypeJWT, Audience: platform}},
		{"token exchange, id_token", "token-exchange", oauth.TokenTypeAccess, oauth.TokenRequest{GrantType: oauth.GrantTokenExchange,
			SubjectToken: f.ghToken("acme/deploy", "refs/heads/main"), SubjectTokenType: oauth.TokenTypeIDToken, Audience: platform}},
		{"client_credentials with a trusted issuer's assertion", "client-credentials", "", oauth.TokenRequest{GrantType: "client_credentials",
			ClientAssertionType: oauth.ClientAssertionJWT, ClientAssertion: f.ghToken("acme/deploy", "refs/heads/main"), Audience: platform}},
		{"client_credentials naming its client", "client-credentials", "", oauth.TokenRequest{GrantType: "client_credentials", ClientID: f.deploy.id,
			ClientAssertionType: oauth.ClientAssertionJWT, ClientAssertion: f.ghToken("acme/deploy", "refs/heads/main"), Audience: platform}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.iss.Token(t.Context(), tt.req, "", "192.0.2.1")
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if out.Response.IssuedTokenType != tt.issuedType || out.Response.Scope != "read write" || out.Response.ExpiresIn != 86400 {
				t.Errorf("got issued_token_type %q scope %q expires_in %d, want %q, read write, 86400",
					out.Response.IssuedTokenType, out.Response.Scope, out.Response.ExpiresIn, tt.issuedType)
			}
			c := f.claimsOf(t, out.Response.AccessToken, platform)
			ext, _ := c.Raw["ext"].(map[string]any)
			if c.ClientID != f.deploy.id || c.Subject != f.deploy.id+"@clients" || c.Raw["gty"] != tt.gty {
				t.Errorf("got client %q sub %q gty %v, want %q, its @clients, %q", c.ClientID, c.Subject, c.Raw["gty"], f.deploy.id, tt.gty)
			}
			if ext["iss"] != f.gh.URL || ext["sub"] != "repo:acme/deploy:ref:refs/heads/main" || ext["trust"] != f.trustKey || ext["rule"] != "deploy" {
				t.Errorf("got ext %v, want the outside iss and sub, trust %s, rule deploy", ext, f.trustKey)
			}
		})
	}
}

// A rule's caps bound scopes and lifetime; refusals are a generic
// invalid_grant whose cause says why.
func TestFederatedCapsAndRefusals(t *testing.T) {
	f := newFedWorld(t)
	bearer := func(raw string, kv ...string) oauth.TokenRequest {
		return withParams(oauth.TokenRequest{GrantType: oauth.GrantJWTBearer, Assertion: raw, Audience: platform}, kv...)
	}
	out, err := f.iss.Token(t.Context(), bearer(f.ghToken("acme/tools", "refs/heads/x")), "", "")
	if err != nil || out.Response.Scope != "read" || out.Response.ExpiresIn != 300 {
		t.Fatalf("capped rule: got %+v, %v; want scope read for 300 s", out.Response, err)
	}
	_, err = f.iss.Token(t.Context(), bearer(f.ghToken("acme/tools", "refs/heads/x"), "scope", "read write"), "", "")
	wantError(t, err, 400, "invalid_scope", "rule capped")

	tests := []struct {
		name, raw, clientID, desc, cause string
	}{
		{"no rule matches", f.ghToken("acme/unknown", "refs/heads/main"), "", "The token was not accepted.", "no rule matched"},
		{"two rules match", f.ghToken("acme/tools", "refs/heads/release"), "", "must name its client with client_id", "2 rules matched"},
		{"a rule naming another tenant's client", f.ghToken("acme/foreign", "refs/heads/main"), "", "The token was not accepted.", "another tenant"},
		{"unknown issuer", fedtest.NewStatic("https://nobody.example", "ES256").Sign(fedtest.SPIFFE("https://nobody.example", "spiffe://x/y", issuerURL, f.life)), "", "The token was not accepted.", "no trust accepts this issuer"},
		{"garbage", "garbage", "", "The token was not accepted.", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.iss.Token(t.Context(), bearer(tt.raw, "client_id", tt.clientID), "", "")
			wantError(t, err, 400, "invalid_grant", tt.desc)
			var ref *federation.Refusal
			if !errors.As(err, &ref) || !strings.Contains(err.Error(), tt.cause) {
				t.Errorf("got cause %v, want a *federation.Refusal containing %q", err, tt.cause)
			}
		})
	}
	t.Run("two rules match, client_id picks one", func(t *testing.T) {
		out, err := f.iss.Token(t.Context(), bearer(f.ghToken("acme/tools", "refs/heads/release"), "client_id", f.deploy.id), "", "")
		if err != nil || out.Grant.Client.ID != f.deploy.id || out.Grant.External.Rule != "also-tools" {
			t.Fatalf("got %+v, %v; want rule also-tools for %s", out.Grant, err, f.deploy.id)
		}
	})
	t.Run("a disabled client", func(t *testing.T) {
		yes := true
		if _, err := f.admin.UpdateClient(t.Context(), f.capped.id, admin.ClientPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		_, err := f.iss.Token(t.Context(), bearer(f.ghToken("acme/tools", "refs/heads/x")), "", "")
		wantError(t, err, 400, "invalid_grant", "not accepted")
	})
	t.Run("a trusted issuer's client assertion with a secret too", func(t *testing.T) {
		_, err := f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: "client_credentials", ClientID: f.deploy.id, ClientSecret: f.deploy.secret,
			ClientAssertionType: oauth.ClientAssertionJWT, ClientAssertion: f.ghToken("acme/deploy", "refs/heads/main"), Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", "not both")
		_, err = f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: "client_credentials", ClientAssertionType: "urn:x",
			ClientAssertion: f.ghToken("acme/deploy", "refs/heads/main"), Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", "client_assertion_type")
	})
	t.Run("credentials beside an outside token are checked", func(t *testing.T) {
		good := f.ghToken("acme/deploy", "refs/heads/main")
		_, err := f.iss.Token(t.Context(), bearer(good, "client_id", f.deploy.id, "client_secret", "wrong"), "", "")
		wantError(t, err, 401, "invalid_client", "")
		_, err = f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: oauth.GrantTokenExchange, ClientID: f.deploy.id, ClientSecret: "wrong",
			SubjectToken: good, SubjectTokenType: oauth.TokenTypeJWT, Audience: platform}, "", "")
		wantError(t, err, 401, "invalid_client", "")
		out, err := f.iss.Token(t.Context(), bearer(good, "client_id", f.deploy.id, "client_secret", f.deploy.secret), "", "")
		if err != nil || out.Grant.Client.ID != f.deploy.id {
			t.Fatalf("jwt-bearer with the mapped client's own secret: got %+v, %v", out.Grant, err)
		}
		// Authenticated as a client no matching rule names: refused.
		_, err = f.iss.Token(t.Context(), bearer(f.ghToken("acme/tools", "refs/heads/x"), "client_id", f.deploy.id, "client_secret", f.deploy.secret), "", "")
		wantError(t, err, 400, "invalid_grant", "not accepted")
	})
	t.Run("missing parameters", func(t *testing.T) {
		_, err := f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: oauth.GrantJWTBearer, Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", "assertion is required")
		_, err = f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: oauth.GrantTokenExchange, SubjectToken: "x", Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", "subject_token_type is required")
		_, err = f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: oauth.GrantTokenExchange, SubjectToken: "x", SubjectTokenType: "urn:x", Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", "not supported")
		// The description names every accepted requested_token_type.
		_, err = f.iss.Token(t.Context(), oauth.TokenRequest{GrantType: oauth.GrantTokenExchange, SubjectToken: "x", SubjectTokenType: oauth.TokenTypeJWT,
			RequestedTokenType: "urn:ietf:params:oauth:token-type:refresh_token", Audience: platform}, "", "")
		wantError(t, err, 400, "invalid_request", oauth.TokenTypeAccess+" or "+oauth.TokenTypeJWT)
	})
}

// Over HTTP: the form request and the answer's fields, and the refusal's
// body carries nothing of the refusal's reasons.
func TestFederatedOverHTTP(t *testing.T) {
	f := newFedWorld(t)
	e := f.serve(t, Config{IssuerURL: issuerURL, JWKS: fedOptions(f.gh)}, nil)
	a := e.postForm(form("grant_type", oauth.GrantTokenExchange, "subject_token", f.ghToken("acme/deploy", "refs/heads/main"),
		"subject_token_type", oauth.TokenTypeJWT, "audience", platform), nil)
	got := a.fields()
	if a.status != http.StatusOK || got["issued_token_type"] != oauth.TokenTypeAccess || got["token_type"] != "Bearer" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %v, want 200 with issued_token_type and no-store", a.status, a.body)
	}
	a = e.postForm(form("grant_type", oauth.GrantJWTBearer, "assertion", f.ghToken("acme/unknown", "refs/heads/main"), "audience", platform), nil)
	if a.status != 400 || a.body != `{"error":"invalid_grant","error_description":"The token was not accepted."}`+"\n" {
		t.Errorf("got %d %s, want 400 with the generic invalid_grant", a.status, a.body)
	}
	if _, refused := e.obs.last(); refused != "invalid_grant" {
		t.Errorf("observer: got refusal %q, want invalid_grant", refused)
	}
	if !strings.Contains(e.logs.String(), "no rule matched") {
		t.Error("the log does not say why the token was refused")
	}
}

// fedOptions fetch the test issuer's documents with its own client.
func fedOptions(is *fedtest.Issuer) jwks.RemoteOptions {
	return jwks.RemoteOptions{HTTPClient: is.Client(), MinRefresh: -1}
}
