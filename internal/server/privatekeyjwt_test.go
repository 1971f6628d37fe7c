package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// assertionConfig is how a Go user of private_key_jwt asks for a token
// with x/oauth2: no secret, the assertion in EndpointParams.
func assertionConfig(tokenURL, clientID, audience, assertion string, style oauth2.AuthStyle) clientcredentials.Config {
	return clientcredentials.Config{
		ClientID: clientID, TokenURL: tokenURL, AuthStyle: style,
		EndpointParams: url.Values{
			"audience":              {audience},
			"client_assertion_type": {oauth.ClientAssertionJWT},
			"client_assertion":      {assertion},
		},
	}
}

// TestPrivateKeyJWTWithClientCredentials gets tokens through the real
// listener with golang.org/x/oauth2/clientcredentials carrying a client
// assertion (RFC 7523 §2.2) in EndpointParams: with and without client_id,
// with the issuer or the token endpoint as aud, with x/oauth2's default
// auth style, and with keys from a jwks_uri. A replayed assertion and the
// client's old secret are refused.
func TestPrivateKeyJWTWithClientCredentials(t *testing.T) {
	keysDoc := httptest.NewTLSServer(nil) // serves the jwks_uri client's keys; handler set below
	defer keysDoc.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{OutboundHTTP: keysDoc.Client()})
	h.seedKeyAPIs()
	key := newECKey(t)
	c := h.registerClient("signer", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwksOf(t, key.Public(), "k1", "ES256")})
	tokenURL := h.ts.URL + "/oauth/token"
	ctx := context.Background()

	for _, tt := range []struct {
		name     string
		clientID string // sent as client_id ("" leaves it to the assertion's sub)
		aud      string
		style    oauth2.AuthStyle
	}{
		{"client_id in the body, issuer as aud", c.ClientID, h.cfg.Issuer, oauth2.AuthStyleInParams},
		{"no client_id, token endpoint as aud", "", tokenURL, oauth2.AuthStyleInParams},
		{"x/oauth2's default auth style", c.ClientID, h.cfg.Issuer, oauth2.AuthStyleAutoDetect},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cc := assertionConfig(tokenURL, tt.clientID, keyAPI, assertion(t, key, c.ClientID, tt.aud), tt.style)
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			h.secrets = append(h.secrets, tok.AccessToken)
			if tok.TokenType != "Bearer" {
				t.Errorf("token_type: got %q, want Bearer", tok.TokenType)
			}
			_, claims := h.verified(tok.AccessToken, keyAPI)
			if claims["sub"] != c.ClientID+"@clients" || claims["client_id"] != c.ClientID || claims["cnf"] != nil {
				t.Errorf("claims: got sub %v client_id %v cnf %v, want %s's and no cnf", claims["sub"], claims["client_id"], claims["cnf"], c.ClientID)
			}
			// The same assertion again, as a client that built its Config
			// once would send it: refused (jti single use).
			_, err = cc.Token(ctx)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
				t.Errorf("the same assertion again: got %v, want 401 invalid_client", err)
			}
		})
	}

	t.Run("keys from a jwks_uri", func(t *testing.T) {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keysDoc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(jwksOf(t, rsaKey.Public(), "r1", "PS256")))
		})
		remote := h.registerClient("remote keys", store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKSURI: keysDoc.URL + "/jwks.json"})
		a := signed(t, rsaKey, "PS256", "r1", assertionClaims(remote.ClientID, h.cfg.Issuer))
		cc := assertionConfig(tokenURL, remote.ClientID, opaqueAPI, a, oauth2.AuthStyleInParams)
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("token with keys from jwks_uri: %v", err)
		}
		h.secrets = append(h.secrets, tok.AccessToken)
		if len(tok.AccessToken) != 32 {
			t.Errorf("got %q, want an opaque token", tok.AccessToken)
		}
	})

	t.Run("introspection and revocation", func(t *testing.T) {
		cc := assertionConfig(tokenURL, c.ClientID, keyAPI, assertion(t, key, c.ClientID, h.cfg.Issuer), oauth2.AuthStyleInParams)
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.secrets = append(h.secrets, tok.AccessToken)
		for _, ep := range []string{"/oauth/introspect", "/oauth/revoke"} {
			a := assertion(t, key, c.ClientID, h.cfg.Issuer+ep) // aud: the endpoint itself
			body := form("client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", a, "token", tok.AccessToken)
			if status, _, resp := h.post(ep, formType, body, nil); status != 200 {
				t.Errorf("%s with an assertion: got %d %s, want 200", ep, status, resp)
			}
			status, header, resp := h.post(ep, formType, body, nil)
			wantError(t, ep+" with the same assertion again", status, header, resp, http.StatusUnauthorized, "invalid_client")
		}
	})

	t.Run("the client's secret no longer works", func(t *testing.T) {
		status, header, body := h.post("/oauth/token", formType, form("grant_type", "client_credentials",
			"client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", keyAPI), nil)
		wantError(t, "secret of a private_key_jwt client", status, header, body, http.StatusUnauthorized, "invalid_client")
	})
}

// TestClientAssertionRefusals sends bad client assertions through the
// listener: each is the protocol's JSON error (401 invalid_client, or 400
// invalid_request for two credentials, 413 for an oversized body), never
// a 500. Each case has its own client, so the failed-authentication
// throttle (10 a minute per client) never answers instead.
func TestClientAssertionRefusals(t *testing.T) {
	h := start(t, nil)
	h.seedKeyAPIs()
	key := newECKey(t)
	otherKey := newECKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	jwks := jwksOf(t, key.Public(), "k1", "ES256")
	secretClient := h.newClient(adminClientInput("secret holder"))
	iss := h.cfg.Issuer
	now := time.Now()

	tests := []struct {
		name string
		// body builds the request body for client id (registered with key).
		body       func(id string) string
		wantStatus int
		wantCode   string
	}{
		{"expired", func(id string) string {
			c := assertionClaims(id, iss)
			c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-9*time.Minute).Unix()
			return assertionForm(id, signed(t, key, "ES256", "k1", c))
		}, 401, "invalid_client"},
		{"lives longer than 5 minutes", func(id string) string {
			c := assertionClaims(id, iss)
			c["exp"] = now.Add(time.Hour).Unix()
			return assertionForm(id, signed(t, key, "ES256", "k1", c))
		}, 401, "invalid_client"},
		{"another audience", func(id string) string {
			return assertionForm(id, assertion(t, key, id, "https://elsewhere.example.io"))
		}, 401, "invalid_client"},
		{"no jti", func(id string) string {
			c := assertionClaims(id, iss)
			delete(c, "jti")
			return assertionForm(id, signed(t, key, "ES256", "k1", c))
		}, 401, "invalid_client"},
		{"iss is not the client", func(id string) string {
			c := assertionClaims(id, iss)
			c["iss"] = "someone-else"
			return assertionForm(id, signed(t, key, "ES256", "k1", c))
		}, 401, "invalid_client"},
		{"signed by another key", func(id string) string {
			return assertionForm(id, assertion(t, otherKey, id, iss))
		}, 401, "invalid_client"},
		{"HMAC", func(id string) string {
			return assertionForm(id, signed(t, []byte("0123456789abcdef0123456789abcdef"), "HS256", "k1", assertionClaims(id, iss)))
		}, 401, "invalid_client"},
		{"an algorithm the key does not fit", func(id string) string {
			return assertionForm(id, signed(t, rsaKey, "RS256", "k1", assertionClaims(id, iss)))
		}, 401, "invalid_client"},
		{"ES384", func(id string) string {
			return assertionForm(id, signed(t, p384, "ES384", "k1", assertionClaims(id, iss)))
		}, 401, "invalid_client"},
		{"alg none", func(id string) string {
			return assertionForm(id, unsignedJWT(assertionClaims(id, iss)))
		}, 401, "invalid_client"},
		{"not a JWT", func(id string) string { return assertionForm(id, "not.a.jwt") }, 401, "invalid_client"},
		{"wrong assertion type", func(id string) string {
			return form("grant_type", "client_credentials", "audience", keyAPI, "client_id", id,
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
				"client_assertion", assertion(t, key, id, iss))
		}, 401, "invalid_client"},
		{"client_id names another client", func(id string) string {
			return form("grant_type", "client_credentials", "audience", keyAPI, "client_id", secretClient.ClientID,
				"client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", assertion(t, key, id, iss))
		}, 401, "invalid_client"},
		{"an assertion and a secret", func(id string) string {
			return assertionForm(id, assertion(t, key, id, iss)) + "&client_secret=" + url.QueryEscape(secretClient.ClientSecret)
		}, 400, "invalid_request"},
		{"an assertion for a client with a secret", func(string) string {
			return assertionForm(secretClient.ClientID, assertion(t, key, secretClient.ClientID, iss))
		}, 401, "invalid_client"},
		{"an assertion for an unknown client", func(string) string {
			return assertionForm("nobody", assertion(t, key, "nobody", iss))
		}, 401, "invalid_client"},
		{"oversized", func(id string) string {
			return assertionForm(id, strings.Repeat("a", 20<<10))
		}, 413, "invalid_request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.registerClient("case "+string(rune('a'+i)), store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: jwks})
			status, header, body := h.post("/oauth/token", formType, tt.body(c.ClientID), nil)
			wantError(t, tt.name, status, header, body, tt.wantStatus, tt.wantCode)
		})
	}
}

// assertionForm is a token request authenticated by assertion a alone.
func assertionForm(clientID, a string) string {
	return form("grant_type", "client_credentials", "audience", keyAPI, "client_id", clientID,
		"client_assertion_type", oauth.ClientAssertionJWT, "client_assertion", a)
}

// unsignedJWT is an alg "none" JWT of claims.
func unsignedJWT(claims map[string]any) string {
	return b64JSON(map[string]any{"alg": "none", "typ": "JWT"}) + "." + b64JSON(claims) + "."
}
