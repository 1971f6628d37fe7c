package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// verified checks a JWT with jwx (gatehouse signs with go-jose) against
// the JWKS the server publishes, and returns its header and claims.
func (h *harness) verified(raw, audience string) (map[string]any, map[string]any) {
	h.t.Helper()
	h.secrets = append(h.secrets, raw)
	resp, err := http.Get(h.ts.URL + "/.well-known/jwks.json")
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	set, err := jwk.Parse(body)
	if err != nil {
		h.t.Fatalf("parsing JWKS: %v", err)
	}
	tok, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithIssuer(h.cfg.Issuer), jwt.WithAudience(audience))
	if err != nil {
		h.t.Fatalf("jwx rejected the token: %v", err)
	}
	claims := map[string]any{}
	for _, k := range tok.Keys() {
		var v any
		if err := tok.Get(k, &v); err == nil {
			claims[k] = v
		}
	}
	header := map[string]any{}
	seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err := json.Unmarshal(seg, &header); err != nil {
		h.t.Fatalf("decoding header: %v", err)
	}
	// Unix times as numbers, the way they are on the wire.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	wire := map[string]any{}
	json.Unmarshal(payload, &wire)
	for _, k := range []string{"iat", "exp"} {
		claims[k] = wire[k]
	}
	return header, claims
}

func TestClientCredentialsEndToEnd(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{
		Name: ptr("personalize"), Tenant: "acme",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"personalize.flows:manage", "personalize.templates:manage"}},
	})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		cc := clientcredentials.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: h.ts.URL + "/oauth/token",
			EndpointParams: url.Values{"audience": {"https://api.sitecorecloud.io"}}, AuthStyle: style,
		}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %v: %v", style, err)
		}
		if tok.TokenType != "Bearer" {
			t.Errorf("token_type: got %q, want Bearer", tok.TokenType)
		}
		header, claims := h.verified(tok.AccessToken, "https://api.sitecorecloud.io")
		if header["typ"] != "at+jwt" || header["alg"] != "RS256" || header["kid"] == "" {
			t.Errorf("header: got %v, want typ at+jwt, alg RS256 and a kid", header)
		}
		want := map[string]any{
			"iss": h.cfg.Issuer, "sub": c.ClientID + "@clients", "client_id": c.ClientID, "azp": c.ClientID,
			"scope": "personalize.flows:manage personalize.templates:manage", "gty": "client-credentials", "tenant": "acme",
		}
		for k, v := range want {
			if claims[k] != v {
				t.Errorf("claim %s: got %v, want %v", k, claims[k], v)
			}
		}
		if aud, _ := claims["aud"].([]string); len(aud) != 1 || aud[0] != "https://api.sitecorecloud.io" {
			t.Errorf("aud: got %v", claims["aud"])
		}
		if _, ok := claims["environment"]; ok {
			t.Errorf("an organization client's token has an environment claim")
		}
		if jti, _ := claims["jti"].(string); len(jti) < 16 {
			t.Errorf("jti: got %q, want a unique id", jti)
		}
		iat, exp := claims["iat"].(float64), claims["exp"].(float64)
		if exp-iat != 86400 {
			t.Errorf("exp - iat: got %v, want 86400", exp-iat)
		}
		if got := time.Until(tok.Expiry).Round(time.Hour); got != 24*time.Hour {
			t.Errorf("x/oauth2 saw expiry in %v, want 24h", got)
		}
	}
}

// TestDocumentRequests sends each request shape of the five documents,
// as curl would, and checks the documents' answers.
func TestDocumentRequests(t *testing.T) {
	h := start(t, func(c *config.Config) {
		c.LegacyHosts = []string{"one-sc-production.eu.auth0.com"}
		c.LegacySunset = "2027-06-30"
	})
	h.seedCatalog()
	h.do("POST", "/admin/v1/environments", map[string]string{"tenant": "acme", "id": "production"}, nil)
	personalize := h.newClient(admin.ClientInput{
		Name: ptr("personalize key"), Tenant: "acme", TokenTTL: ptr(admin.Duration(15 * time.Minute)),
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {
			"personalize.decision_models:manage", "personalize.templates:manage",
			"personalize.external_webservices:manage", "personalize.flows:manage"}},
	})
	cdp := h.newClient(admin.ClientInput{
		Name: ptr("cdp key"), Tenant: "acme",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}},
	})
	deploy := h.newClient(admin.ClientInput{
		Name: ptr("org automation"), Tenant: "acme",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"xmclouddeploy.organizations:manage", "xmclouddeploy.projects:manage", "xmclouddeploy.environments:manage"}},
	})
	envClient := h.newClient(admin.ClientInput{
		Name: ptr("env automation"), Tenant: "acme", Environment: "production",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"xmclouddeploy.environments:manage"}},
	})
	edge := h.newClient(admin.ClientInput{
		Name: ptr("edge"), Tenant: "acme",
		Grants: &map[string][]string{"https://delivery.sitecore.cloud/{tenant}": {"delivery:read"}, "https://api.sitecorecloud.io": {}},
	})

	// curl --data-urlencode: every value percent-encoded.
	urlencoded := func(c admin.ClientView, aud string) string {
		return "client_id=" + url.QueryEscape(c.ClientID) + "&client_secret=" + url.QueryEscape(c.ClientSecret) +
			"&grant_type=client_credentials&audience=" + url.QueryEscape(aud)
	}
	// curl --data: values sent as typed, the audience's ':' and '/' raw.
	raw := func(c admin.ClientView, aud string) string {
		return "audience=" + aud + "&grant_type=client_credentials&client_id=" + c.ClientID + "&client_secret=" + c.ClientSecret
	}
	jsonBody := func(c admin.ClientView, aud string) string {
		b, _ := json.Marshal(map[string]string{"audience": aud, "grant_type": "client_credentials", "client_id": c.ClientID, "client_secret": c.ClientSecret})
		return string(b)
	}
	const form, js = "application/x-www-form-urlencoded", "application/json"
	tests := []struct {
		name, ctype, body, aud, scope string
		host                          string
		expiresIn                     int64
		env                           string
	}{
		{"000 personalize, --data-urlencode", form, urlencoded(personalize, "https://api.sitecorecloud.io"), "https://api.sitecorecloud.io",
			"personalize.decision_models:manage personalize.templates:manage personalize.external_webservices:manage personalize.flows:manage", "", 900, ""},
		{"001 cdp, --data-urlencode", form, urlencoded(cdp, "https://api.sitecorecloud.io"), "https://api.sitecorecloud.io", "cdp.audience_exports:r", "", 86400, ""},
		{"002 deploy organization client, --data", form, raw(deploy, "https://api.sitecorecloud.io"), "https://api.sitecorecloud.io",
			"xmclouddeploy.organizations:manage xmclouddeploy.projects:manage xmclouddeploy.environments:manage", "", 86400, ""},
		{"002 environment automation client, --data", form, raw(envClient, "https://api.sitecorecloud.io"), "https://api.sitecorecloud.io",
			"xmclouddeploy.environments:manage", "", 86400, "production"},
		{"004 edge new tenant, JSON", js, jsonBody(edge, "https://api.sitecorecloud.io"), "https://api.sitecorecloud.io", "", "", 86400, ""},
		{"004 edge old tenant, --data", form, raw(edge, "https://delivery.sitecore.cloud/acme"), "https://delivery.sitecore.cloud/acme", "delivery:read", "", 86400, ""},
		{"004 edge old endpoint host", form, raw(edge, "https://delivery.sitecore.cloud/acme"), "https://delivery.sitecore.cloud/acme", "delivery:read", "one-sc-production.eu.auth0.com", 86400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := h.postHost(tt.host, tt.ctype, tt.body)
			if status != http.StatusOK {
				t.Fatalf("status: got %d, want 200: %s", status, body)
			}
			if cc := header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", cc)
			}
			var fields map[string]any
			json.Unmarshal(body, &fields)
			if len(fields) != 4 {
				t.Errorf("answer has fields %v, want exactly access_token, scope, expires_in, token_type", fields)
			}
			var resp tokenResponse
			json.Unmarshal(body, &resp)
			if resp.Scope != tt.scope || resp.ExpiresIn != tt.expiresIn || resp.TokenType != "Bearer" {
				t.Errorf("got scope %q expires_in %d type %q, want %q %d Bearer", resp.Scope, resp.ExpiresIn, resp.TokenType, tt.scope, tt.expiresIn)
			}
			if !strings.HasPrefix(resp.AccessToken, "eyJhbGciOi") {
				t.Errorf("access_token is not a JWT: %.20s", resp.AccessToken)
			}
			_, claims := h.verified(resp.AccessToken, tt.aud)
			if got := claims["exp"].(float64) - claims["iat"].(float64); int64(got) != resp.ExpiresIn {
				t.Errorf("exp - iat = %v, expires_in = %d: want equal", got, resp.ExpiresIn)
			}
			if env, _ := claims["environment"].(string); env != tt.env {
				t.Errorf("environment claim: got %q, want %q", env, tt.env)
			}
			if claims["iss"] != h.cfg.Issuer {
				t.Errorf("iss: got %v, want %s whatever the host", claims["iss"], h.cfg.Issuer)
			}
			legacy := tt.host != ""
			if got := header.Get("Deprecation") != "" && header.Get("Sunset") == "Wed, 30 Jun 2027 00:00:00 GMT"; got != legacy {
				t.Errorf("Deprecation %q, Sunset %q: legacy host is %v", header.Get("Deprecation"), header.Get("Sunset"), legacy)
			}
		})
	}

}

// postHost posts to /oauth/token with the Host header set to host (when given).
func (h *harness) postHost(host, ctype, body string) (int, http.Header, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+"/oauth/token", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}
