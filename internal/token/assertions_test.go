package token

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

// invalidClientBody is the one answer to every failed client
// authentication without Basic.
func invalidClientBody() string {
	rec := httptest.NewRecorder()
	oauth.WriteError(rec, oauth.ErrInvalidClient(false))
	return rec.Body.String()
}

// checkToken verifies a JWT as the API of aud does and checks that it is
// the client's: its id, tenant, environment and scopes, bound to cnf.
func checkToken(t *testing.T, w *world, tok, aud, clientID, env, scope string, cnf verify.Confirmation) {
	t.Helper()
	claims, err := verifierFor(t, w.iss, aud, w.clock.Now()).Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if claims.ClientID != clientID || claims.Subject != clientID+"@clients" || claims.Tenant != "acme" || claims.Environment != env || strings.Join(claims.Scopes, " ") != scope {
		t.Errorf("got client %q sub %q tenant %q environment %q scopes %q, want %q, %q@clients, acme, %q, %q",
			claims.ClientID, claims.Subject, claims.Tenant, claims.Environment, claims.Scopes, clientID, clientID, env, scope)
	}
	if claims.Confirmation != cnf {
		t.Errorf("cnf: got %+v, want %+v", claims.Confirmation, cnf)
	}
}

// TestPrivateKeyJWT is RFC 7523 §2.2 with a registered JWKS: every
// algorithm DESIGN §8 names, with and without kid, client_id in the body
// or not, any registered key (a rotation), and each audience gatehouse
// answers to; the token is the client's and bound to nothing.
func TestPrivateKeyJWT(t *testing.T) {
	w := newWorld(t)
	e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
	c := e.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(t, "rsa", "pss", "ec", "ec2", "ed")},
		admin.NewClient{Environment: "qa", Grants: map[string][]string{platform: {"read", "write"}, catalogue: {"catalog:write"}}})
	const servicePath = "/streaming-catalog/v1/oauth2/token"
	k := testKeys()
	now := w.clock.Now()
	cases := []struct {
		name     string
		key      clientKey
		aud      any
		clientID bool
		path     string // "" is /oauth/token
	}{
		{name: "ES256, aud the issuer", key: k["ec"], aud: issuerURL},
		{name: "ES256 without kid", key: k["ec"].withoutKid(), aud: tokenURL},
		{name: "RS256, client_id in the body", key: k["rsa"], aud: tokenURL, clientID: true},
		{name: "RS256 without kid", key: k["rsa"].withoutKid(), aud: issuerURL},
		{name: "PS256, a key registered without alg", key: k["pss"], aud: tokenURL},
		{name: "PS256 without kid", key: k["pss"].withoutKid(), aud: tokenURL, clientID: true},
		{name: "EdDSA", key: k["ed"], aud: tokenURL},
		{name: "EdDSA without kid", key: k["ed"].withoutKid(), aud: issuerURL},
		{name: "the second key of a rotation", key: k["ec2"], aud: tokenURL},
		{name: "the second key of a rotation without kid", key: k["ec2"].withoutKid(), aud: tokenURL},
		{name: "aud an array holding the token endpoint", key: k["ec"], aud: []string{"https://elsewhere.example", tokenURL}},
		{name: "per-service endpoint, aud its URL", key: k["ec"], aud: issuerURL + servicePath, path: servicePath},
		{name: "per-service endpoint, aud the issuer", key: k["ed"], aud: issuerURL, path: servicePath, clientID: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jwt := signJWT(t, tc.key, with(assertionClaims(c.id, "", now), "aud", tc.aud))
			e.secrets = append(e.secrets, jwt)
			params := []string{"audience", platform}
			aud, scope, env := platform, "read write", "qa"
			if tc.path != "" {
				params, aud, scope = nil, catalogue, "catalog:write"
			}
			if tc.clientID {
				params = append(params, "client_id", c.id)
			}
			path := tc.path
			if path == "" {
				path = "/oauth/token"
			}
			a := e.send("POST", path, formType, assertionForm(jwt, params...), nil)
			if a.status != 200 || a.fields()["token_type"] != "Bearer" {
				t.Fatalf("got %d %s, want 200 and a Bearer token\n%s", a.status, a.body, e.logs)
			}
			checkToken(t, e.world, a.fields()["access_token"].(string), aud, c.id, env, scope, verify.Confirmation{})
		})
	}
}

// TestPrivateKeyJWTRefused: every bad assertion, and every credential a
// private_key_jwt client may not use, is 401 invalid_client with the same
// body as a wrong secret; only the log says why.
func TestPrivateKeyJWTRefused(t *testing.T) {
	w := newWorld(t)
	grants := map[string][]string{platform: {"read"}}
	keyed := store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(t, "rsa", "ec", "ed")}
	c := w.withAuth(keyed, admin.NewClient{Grants: grants})
	twin := w.withAuth(keyed, admin.NewClient{Grants: grants}) // the same keys
	secretClient := w.client(admin.NewClient{Grants: grants})
	disabled := w.withAuth(keyed, admin.NewClient{Grants: grants})
	if _, err := w.st.UpdateClient(t.Context(), disabled.id, func(old store.Client) (store.Client, error) {
		old.Disabled = true
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.cat.RefreshClient(t.Context(), disabled.id); err != nil {
		t.Fatal(err)
	}
	privateJWKS := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(t, testKeys()["ec"].priv)}, admin.NewClient{Grants: grants})
	noKeys := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT}, admin.NewClient{Grants: grants})

	k := testKeys()
	now := w.clock.Now()
	claims := func(id string, kv ...any) map[string]any { return with(assertionClaims(id, tokenURL, now), kv...) }
	signed := func(kv ...any) string { return signJWT(t, k["ec"], claims(c.id, kv...)) }
	body := func(jwt string, kv ...string) string {
		return assertionForm(jwt, append([]string{"audience", platform}, kv...)...)
	}
	der, err := x509.MarshalPKIXPublicKey(k["ec"].priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	reused := signed("jti", "used-once")

	cases := []struct {
		name   string
		first  string // a request that succeeds first, when set
		body   string
		header http.Header
		reason string // in the log
	}{
		{name: "wrong client_assertion_type", body: strings.Replace(body(signed()), "jwt-bearer", "saml2-bearer", 1), reason: `client_assertion_type \"urn:ietf:params:oauth:client-assertion-type:saml2-bearer\"`},
		{name: "no client_assertion_type", body: form("grant_type", "client_credentials", "client_assertion", signed(), "audience", platform), reason: `client_assertion_type \"\"`},
		{name: "not a JWT", body: body("not-a-jwt"), reason: "no client id"},
		{name: "not a JWT, client_id in the body", body: body("not.a.jwt", "client_id", c.id), reason: "assertion: malformed"},
		{name: "alg none", body: body(handMade(t, map[string]string{"alg": "none", "kid": "ec-1"}, claims(c.id), nil)), reason: "assertion: algorithm not allowed"},
		{name: "HS256 keyed with the public key's PEM", body: body(handMade(t, map[string]string{"alg": "HS256", "kid": "ec-1"}, claims(c.id), hmacWith(publicPEM))), reason: "assertion: algorithm not allowed"},
		{name: "HS256 keyed with the public key's DER, no kid", body: body(handMade(t, map[string]string{"alg": "HS256"}, claims(c.id), hmacWith(der))), reason: "assertion: algorithm not allowed"},
		{name: "a foreign key under the client's kid", body: body(signJWT(t, k["foreign"], claims(c.id))), reason: "assertion: invalid signature"},
		{name: "a foreign key without kid", body: body(signJWT(t, k["foreign"].withoutKid(), claims(c.id))), reason: "assertion: invalid signature"},
		{name: "a key the client has not registered", body: body(signJWT(t, k["ec2"], claims(c.id))), reason: "assertion: unknown signing key"},
		{name: "RS256 by a key registered for ES256", body: body(signJWT(t, clientKey{kid: "ec-1", alg: "RS256", priv: k["rsa"].priv}, claims(c.id))), reason: "assertion: unknown signing key"},
		{name: "aud an API", body: body(signed("aud", platform)), reason: "assertion: wrong audience"},
		{name: "aud another endpoint", body: body(signed("aud", issuerURL+"/oauth/introspect")), reason: "assertion: wrong audience"},
		{name: "no aud", body: body(signed("aud", nil)), reason: "assertion: wrong audience"},
		{name: "expired", body: body(signed("iat", now.Add(-5*time.Minute).Unix(), "exp", now.Add(-2*time.Minute).Unix())), reason: "assertion: expired"},
		{name: "exp more than 5 minutes after iat", body: body(signed("exp", now.Add(5*time.Minute+time.Second).Unix())), reason: "assertion: lifetime too long"},
		{name: "no iat", body: body(signed("iat", nil)), reason: "assertion: lifetime too long"},
		{name: "no exp", body: body(signed("exp", nil)), reason: "assertion: malformed"},
		{name: "nbf in the future", body: body(signed("nbf", now.Add(2*time.Minute).Unix())), reason: "assertion: not yet valid"},
		{name: "iat in the future", body: body(signed("iat", now.Add(2*time.Minute).Unix(), "exp", now.Add(3*time.Minute).Unix())), reason: "assertion: not yet valid"},
		{name: "no jti", body: body(signed("jti", nil)), reason: "assertion: no jti"},
		{name: "the same assertion again", first: body(reused), body: body(reused), reason: `jti \"used-once\": replay: already used`},
		{name: "a new assertion with a used jti", first: body(signed("jti", "j-2")), body: body(signed("jti", "j-2", "iat", now.Add(-time.Second).Unix())), reason: "replay: already used"},
		{name: "iss another client", body: body(signed("iss", twin.id)), reason: "assertion: wrong issuer"},
		{name: "sub another client, client_id this one", body: body(signed("sub", twin.id), "client_id", c.id), reason: "assertion: wrong subject"},
		{name: "client_id another client with the same keys", body: body(signed(), "client_id", twin.id), reason: "assertion: wrong issuer"},
		{name: "an unknown client", body: body(signJWT(t, k["ec"], claims("nobody"))), reason: "unknown client"},
		{name: "a disabled client", body: body(signJWT(t, k["ec"], claims(disabled.id))), reason: "client is disabled"},
		{name: "a client whose registered JWKS holds a private key", body: body(signJWT(t, k["ec"].withoutKid(), claims(privateJWKS.id))), reason: "holds private key material"},
		{name: "a client with no registered keys", body: body(signJWT(t, k["ec"], claims(noKeys.id))), reason: "the client has no registered keys"},
		{name: "its secret, in the body", body: form("grant_type", "client_credentials", "client_id", c.id, "client_secret", c.secret, "audience", platform), reason: "another authentication method"},
		{name: "its secret, by Basic", body: form("grant_type", "client_credentials", "audience", platform), header: basic(c.id, c.secret), reason: "another authentication method"},
		{name: "a secret client's assertion", body: body(signJWT(t, k["ec"], claims(secretClient.id))), reason: "another authentication method"},
		{name: "a secret client's assertion, client_id in the body", body: body(signJWT(t, k["ec"], claims(secretClient.id)), "client_id", secretClient.id), reason: "another authentication method"},
	}
	want := invalidClientBody()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
			e.secrets = append(e.secrets, c.secret, secretClient.secret)
			if tc.first != "" {
				if a := e.postForm(tc.first, nil); a.status != 200 {
					t.Fatalf("the first request: got %d %s, want 200", a.status, a.body)
				}
			}
			a := e.postForm(tc.body, tc.header)
			if a.status != 401 || a.body != want {
				t.Errorf("got %d %s, want 401 %s", a.status, a.body, want)
			}
			if _, code := e.obs.last(); code != "invalid_client" {
				t.Errorf("observer heard %q, want invalid_client", code)
			}
			if logs := e.logs.String(); !strings.Contains(logs, `"error":"invalid_client"`) || !strings.Contains(logs, tc.reason) {
				t.Errorf("the log does not say %q:\n%s", tc.reason, logs)
			}
		})
	}

	t.Run("an assertion and a secret together", func(t *testing.T) {
		e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
		e.secrets = append(e.secrets, c.secret)
		for name, a := range map[string]answer{
			"Basic":        e.postForm(body(signed()), basic(c.id, c.secret)),
			"in the body":  e.postForm(body(signed(), "client_id", c.id, "client_secret", c.secret), nil),
			"empty secret": e.postForm(form("grant_type", "client_credentials", "client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", signed(), "audience", platform), basic(c.id, "")),
		} {
			if a.status != 400 || a.fields()["error"] != "invalid_request" || !strings.Contains(a.body, "one client authentication method") {
				t.Errorf("%s: got %d %s, want 400 invalid_request", name, a.status, a.body)
			}
		}
	})
}

// TestPrivateKeyJWTThrottled: failed assertions count against the client
// they name, as failed secrets do, whether or not client_id is in the
// body: the client named only by the assertion is blocked too, from the
// address that failed, and never from an address that did not (its
// owner's: limits.AuthThrottle).
func TestPrivateKeyJWTThrottled(t *testing.T) {
	for _, withID := range []bool{false, true} {
		name := "client named by the assertion only"
		if withID {
			name = "client_id in the body"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			c := w.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(t, "ec")}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
			req := func(key clientKey) oauth.TokenRequest {
				r := assertionReq(signJWT(t, key, assertionClaims(c.id, tokenURL, w.clock.Now())), "audience", platform)
				if withID {
					r.ClientID = c.id
				}
				return r
			}
			for n := range 10 {
				_, err := w.iss.Token(t.Context(), req(testKeys()["foreign"]), "", addr)
				wantError(t, err, 401, "invalid_client", "")
				if t.Failed() {
					t.Fatalf("failure %d", n+1)
				}
			}
			_, err := w.iss.Token(t.Context(), req(testKeys()["ec"]), "", addr)
			wantError(t, err, 429, "too_many_requests", "")
			if _, err := w.iss.Token(t.Context(), req(testKeys()["ec"]), "", "198.51.100.7"); err != nil {
				t.Errorf("the owner, from an address that never failed: got %v, want a token", err)
			}
			w.clock.Add(1100 * time.Millisecond)
			issue(t, w.iss, req(testKeys()["ec"]), "")
		})
	}
}

// TestPrivateKeyJWTAtIntrospection: the same method authenticates at
// introspection and revocation (DESIGN §8), with aud that endpoint's URL
// or the issuer's.
func TestPrivateKeyJWTAtIntrospection(t *testing.T) {
	w := newWorld(t)
	e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
	c := e.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(t, "ec")}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	k := testKeys()["ec"]
	now := w.clock.Now()
	a := e.postForm(assertionForm(signJWT(t, k, assertionClaims(c.id, tokenURL, now)), "audience", platform), nil)
	if a.status != 200 {
		t.Fatalf("token: got %d %s", a.status, a.body)
	}
	tok := a.fields()["access_token"].(string)
	call := func(path, aud string) answer {
		return e.send("POST", path, formType, form("client_assertion_type", oauth.ClientAssertionJWT,
			"client_assertion", signJWT(t, k, assertionClaims(c.id, aud, now)), "token", tok), nil)
	}
	if a := call("/oauth/introspect", issuerURL+"/oauth/introspect"); a.status != 200 || a.fields()["active"] != true || a.fields()["client_id"] != c.id {
		t.Errorf("introspection, aud its URL: got %d %s, want the token active", a.status, a.body)
	}
	if a := call("/oauth/introspect", issuerURL); a.status != 200 || a.fields()["active"] != true {
		t.Errorf("introspection, aud the issuer: got %d %s, want the token active", a.status, a.body)
	}
	if a := call("/oauth/introspect", issuerURL+"/oauth/revoke"); a.status != 401 || a.body != invalidClientBody() {
		t.Errorf("introspection, aud the revocation endpoint: got %d %s, want 401 invalid_client", a.status, a.body)
	}
	if a := call("/oauth/revoke", issuerURL+"/oauth/revoke"); a.status != 200 {
		t.Errorf("revocation: got %d %s, want 200", a.status, a.body)
	}
	if a := call("/oauth/introspect", issuerURL); a.status != 200 || a.fields()["active"] != false {
		t.Errorf("introspection after revocation: got %d %s, want inactive", a.status, a.body)
	}
}

// TestPrivateKeyJWTRefusalLogged: a refused assertion without client_id
// is logged under the client it names, as a refused secret is under its
// client_id, so that an operator sees whose assertions fail.
func TestPrivateKeyJWTRefusalLogged(t *testing.T) {
	w := newWorld(t)
	e := w.serve(t, Config{IssuerURL: issuerURL}, nil)
	c := e.withAuth(store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: registered(t, "ec")}, admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	jwt := signJWT(t, testKeys()["foreign"], assertionClaims(c.id, tokenURL, w.clock.Now()))
	e.secrets = append(e.secrets, jwt)
	if a := e.postForm(assertionForm(jwt, "audience", platform), nil); a.status != 401 {
		t.Fatalf("got %d %s, want 401", a.status, a.body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"client_id":"`+c.id+`"`) {
		t.Errorf("the refusal is not logged under %s:\n%s", c.id, logs)
	}
}
