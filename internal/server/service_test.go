package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

type introspection struct {
	Active      bool   `json:"active"`
	ClientID    string `json:"client_id"`
	Scope       string `json:"scope"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Tenant      string `json:"tenant"`
	APIKey      string `json:"api_key"`
	Audience    string `json:"aud"`
	Exp         int64  `json:"exp"`
}

func (h *harness) introspect(caller admin.ClientView, tok string) introspection {
	h.t.Helper()
	status, _, body := h.post("/oauth/introspect", "application/x-www-form-urlencoded",
		form("client_id", caller.ClientID, "client_secret", caller.ClientSecret, "token", tok), nil)
	if status != 200 {
		h.t.Fatalf("introspect: got %d %s", status, body)
	}
	var out introspection
	json.Unmarshal(body, &out)
	return out
}

func (h *harness) revoke(caller admin.ClientView, tok string) (int, string) {
	h.t.Helper()
	status, _, body := h.post("/oauth/revoke", "application/x-www-form-urlencoded",
		form("client_id", caller.ClientID, "client_secret", caller.ClientSecret, "token", tok), nil)
	return status, string(body)
}

// TestPerServiceEndpoint sends the gateway document's request verbatim
// (parameters in the query string, no body, no Content-Type) and checks
// the opaque token it gets: bound to the service and the environment,
// visible to introspection, gone after revocation.
func TestPerServiceEndpoint(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	var envs []store.Environment
	h.do("GET", "/admin/v1/environments?tenant=acme", nil, &envs)
	qa := envs[0]
	h.do("POST", "/admin/v1/apis", map[string]any{"audience": "https://streaming.example.io/property", "service": "streaming-property",
		"token_format": "opaque", "token_ttl": "1h", "scopes": []map[string]string{{"name": "property:write"}}}, nil)
	h.do("POST", "/admin/v1/apis", map[string]any{"audience": "https://streaming.example.io/catalog", "service": "streaming-catalog",
		"token_ttl": "1h", "scopes": []map[string]string{{"name": "catalog:write"}}}, nil)
	grants := &map[string][]string{"https://streaming.example.io/property": {"property:write"}, "https://streaming.example.io/catalog": {"catalog:write"}}
	site := h.newClient(admin.ClientInput{Name: ptr("site group qa"), Tenant: "acme", Environment: "qa", Grants: grants})
	org := h.newClient(admin.ClientInput{Name: ptr("org-wide"), Tenant: "acme", Grants: grants})
	stranger := h.newClient(admin.ClientInput{Name: ptr("stranger"), Tenant: "acme", Environment: "qa", Grants: grants})
	gateway := h.newClient(admin.ClientInput{Name: ptr("gateway"), Tenant: "acme",
		Grants: &map[string][]string{store.IntrospectAudience: {store.ScopeIntrospect}}})

	query := "grant_type=client_credentials&client_id=" + site.ClientID + "&client_secret=" + site.ClientSecret
	status, header, body := h.post("/streaming-property/v1/oauth2/token?"+query, "", "", nil)
	if status != 200 {
		t.Fatalf("document request: got %d %s", status, body)
	}
	if header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q", header.Get("Cache-Control"))
	}
	var resp tokenResponse
	json.Unmarshal(body, &resp)
	h.secrets = append(h.secrets, resp.AccessToken)
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(resp.AccessToken) {
		t.Errorf("opaque token: got %q, want 32 characters of [A-Za-z0-9]", resp.AccessToken)
	}
	if resp.ExpiresIn != 3600 || resp.Scope != "property:write" || resp.TokenType != "Bearer" {
		t.Errorf("got %+v", resp)
	}
	if strings.Contains(h.logs.String(), site.ClientSecret) || strings.Contains(h.logs.String(), "client_secret=") {
		t.Errorf("the query string reached the log")
	}

	got := h.introspect(site, resp.AccessToken)
	want := introspection{Active: true, ClientID: site.ClientID, Scope: "property:write", Service: "streaming-property",
		Environment: "qa", Tenant: "acme", APIKey: qa.APIKey, Audience: "https://streaming.example.io/property", Exp: got.Exp}
	if got != want {
		t.Errorf("introspection by the owner:\ngot  %+v\nwant %+v", got, want)
	}
	if got := h.introspect(stranger, resp.AccessToken); got.Active {
		t.Errorf("another client saw the token: %+v", got)
	}
	if got := h.introspect(gateway, resp.AccessToken); !got.Active || got.APIKey != qa.APIKey {
		t.Errorf("the introspection grant did not see the token: %+v", got)
	}

	t.Run("form body, JWT service", func(t *testing.T) {
		status, _, body := h.post("/streaming-catalog/v1/oauth2/token", "application/x-www-form-urlencoded",
			form("grant_type", "client_credentials", "client_id", site.ClientID, "client_secret", site.ClientSecret), nil)
		var resp tokenResponse
		json.Unmarshal(body, &resp)
		if status != 200 {
			t.Fatalf("got %d %s", status, body)
		}
		_, claims := h.verified(resp.AccessToken, "https://streaming.example.io/catalog")
		if claims["service"] != "streaming-catalog" || claims["environment"] != "qa" || claims["api_key"] != qa.APIKey {
			t.Errorf("claims: %v", claims)
		}
		if s, _ := h.revoke(site, resp.AccessToken); s != 200 {
			t.Errorf("revoke: got %d", s)
		}
		if got := h.introspect(site, resp.AccessToken); got.Active {
			t.Errorf("a revoked JWT is still active")
		}
	})
	t.Run("refusals", func(t *testing.T) {
		cases := []struct {
			name, path string
			status     int
			code       string
		}{
			{"unknown service", "/nothing/v1/oauth2/token?" + query, 404, "invalid_request"},
			{"organization client", "/streaming-property/v1/oauth2/token?grant_type=client_credentials&client_id=" + org.ClientID + "&client_secret=" + url.QueryEscape(org.ClientSecret), 403, "access_denied"},
			{"wrong secret", "/streaming-property/v1/oauth2/token?grant_type=client_credentials&client_id=" + site.ClientID + "&client_secret=nope", 401, "invalid_client"},
			{"another audience", "/streaming-property/v1/oauth2/token?" + query + "&audience=https://streaming.example.io/catalog", 400, "invalid_target"},
			{"repeated across query and body", "/streaming-property/v1/oauth2/token?" + query, 400, "invalid_request"},
		}
		for _, c := range cases {
			body := ""
			ctype := ""
			if c.name == "repeated across query and body" {
				body, ctype = "grant_type=client_credentials", "application/x-www-form-urlencoded"
			}
			status, _, out := h.post(c.path, ctype, body, nil)
			var e struct{ Error string }
			json.Unmarshal(out, &e)
			if status != c.status || e.Error != c.code {
				t.Errorf("%s: got %d %s, want %d %s", c.name, status, out, c.status, c.code)
			}
		}
		resp, _ := http.Get(h.ts.URL + "/streaming-property/v1/oauth2/token")
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET: got %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("revocation", func(t *testing.T) {
		if s, body := h.revoke(stranger, resp.AccessToken); s != 400 || !strings.Contains(body, "unauthorized_client") {
			t.Errorf("another client revoking: got %d %s, want 400 unauthorized_client", s, body)
		}
		if s, _ := h.revoke(site, "not-a-token"); s != 200 {
			t.Errorf("revoking garbage: got %d, want 200 (RFC 7009 §2.2)", s)
		}
		if s, _ := h.revoke(site, resp.AccessToken); s != 200 {
			t.Errorf("revoke: got %d", s)
		}
		if got := h.introspect(site, resp.AccessToken); got.Active {
			t.Errorf("a revoked opaque token is still active")
		}
	})
}
