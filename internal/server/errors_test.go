package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// TestTokenErrors checks every error of DESIGN.md section 2: status, error
// code, WWW-Authenticate where due, the JSON body, and that no answer
// echoes the secret.
func TestTokenErrors(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	grants := &map[string][]string{"https://api.sitecorecloud.io": {"cdp.audience_exports:r"}}
	c := h.newClient(admin.ClientInput{Name: ptr("ok"), Tenant: "acme", Grants: grants})
	disabled := h.newClient(admin.ClientInput{Name: ptr("disabled"), Tenant: "acme", Grants: grants})
	h.do("POST", "/admin/v1/clients/"+disabled.ClientID+"/disable", nil, nil)
	deleted := h.newClient(admin.ClientInput{Name: ptr("deleted"), Tenant: "acme", Grants: grants})
	h.do("DELETE", "/admin/v1/clients/"+deleted.ClientID, nil, nil)
	rotated := h.newClient(admin.ClientInput{Name: ptr("rotated"), Tenant: "acme", Grants: grants})
	var after admin.ClientView
	h.do("POST", "/admin/v1/clients/"+rotated.ClientID+"/rotate-secret", map[string]string{"keep_old": "0s"}, &after)
	h.secrets = append(h.secrets, after.ClientSecret)

	const aud = "https://api.sitecorecloud.io"
	const formType = "application/x-www-form-urlencoded"
	basic := func(id, secret string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
	}
	ok := func(extra ...string) string {
		return form(append([]string{"grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", aud}, extra...)...)
	}
	tests := []struct {
		name      string
		path      string
		ctype     string
		body      string
		header    http.Header
		status    int
		code      string
		challenge bool
	}{
		{"wrong secret", "", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", "gatehouse_wrong", "audience", aud), nil, 401, "invalid_client", false},
		{"wrong secret by Basic", "", formType, form("grant_type", "client_credentials", "audience", aud), basic(c.ClientID, "gatehouse_wrong"), 401, "invalid_client", true},
		{"unknown client", "", formType, form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", c.ClientSecret, "audience", aud), nil, 401, "invalid_client", false},
		{"disabled client", "", formType, form("grant_type", "client_credentials", "client_id", disabled.ClientID, "client_secret", disabled.ClientSecret, "audience", aud), nil, 401, "invalid_client", false},
		{"deleted client", "", formType, form("grant_type", "client_credentials", "client_id", deleted.ClientID, "client_secret", deleted.ClientSecret, "audience", aud), nil, 401, "invalid_client", false},
		{"expired secret after rotation", "", formType, form("grant_type", "client_credentials", "client_id", rotated.ClientID, "client_secret", rotated.ClientSecret, "audience", aud), nil, 401, "invalid_client", false},
		{"no client id", "", formType, form("grant_type", "client_credentials", "audience", aud), nil, 401, "invalid_client", false},
		{"malformed Basic", "", formType, form("grant_type", "client_credentials", "audience", aud), http.Header{"Authorization": {"Basic !!!"}}, 401, "invalid_client", true},
		{"missing grant_type", "", formType, form("client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", aud), nil, 400, "invalid_request", false},
		{"password grant", "", formType, form("grant_type", "password", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", aud), nil, 400, "unsupported_grant_type", false},
		{"missing audience", "", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret), nil, 400, "invalid_request", false},
		{"unknown audience", "", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://nowhere.example"), nil, 403, "access_denied", false},
		{"audience not granted", "", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://delivery.sitecore.cloud/acme"), nil, 403, "access_denied", false},
		{"scope not granted", "", formType, ok("scope", "personalize.flows:manage"), nil, 400, "invalid_scope", false},
		{"resource not absolute", "", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "resource", "api.sitecorecloud.io"), nil, 400, "invalid_target", false},
		{"resource and audience differ", "", formType, ok("resource", "https://other.example"), nil, 400, "invalid_request", false},
		{"two secrets: Basic and body", "", formType, ok(), basic(c.ClientID, c.ClientSecret), 400, "invalid_request", false},
		{"Basic and another client_id", "", formType, form("grant_type", "client_credentials", "client_id", "someone-else", "audience", aud), basic(c.ClientID, c.ClientSecret), 400, "invalid_request", false},
		{"repeated parameter", "", formType, ok("audience", aud), nil, 400, "invalid_request", false},
		{"unknown content type", "", "text/plain", ok(), nil, 400, "invalid_request", false},
		{"body without content type", "", "", ok(), nil, 400, "invalid_request", false},
		{"malformed form", "", formType, "grant_type=%zz", nil, 400, "invalid_request", false},
		{"malformed JSON", "", "application/json", `{"grant_type": "client_credentials",`, nil, 400, "invalid_request", false},
		{"JSON number value", "", "application/json", `{"grant_type": "client_credentials", "client_id": 42}`, nil, 400, "invalid_request", false},
		{"JSON array", "", "application/json", `["client_credentials"]`, nil, 400, "invalid_request", false},
		{"oversized body", "", formType, ok("padding", strings.Repeat("x", 20<<10)), nil, 413, "invalid_request", false},
		{"secret in the URL", "?client_secret=" + c.ClientSecret, formType, ok(), nil, 400, "invalid_request", false},
	}
	var unknownBody, wrongBody string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := h.post("/oauth/token"+tt.path, tt.ctype, tt.body, tt.header)
			if status != tt.status {
				t.Errorf("status: got %d, want %d (%s)", status, tt.status, body)
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body is not JSON: %s", body)
			}
			if e.Error != tt.code || e.Description == "" {
				t.Errorf("error: got %q (%q), want %q with a description", e.Error, e.Description, tt.code)
			}
			if got := strings.HasPrefix(header.Get("WWW-Authenticate"), "Basic"); got != tt.challenge {
				t.Errorf("WWW-Authenticate: got %q, want a Basic challenge: %v", header.Get("WWW-Authenticate"), tt.challenge)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q", ct)
			}
			for _, s := range []string{c.ClientSecret, disabled.ClientSecret, rotated.ClientSecret} {
				if strings.Contains(string(body), s) {
					t.Errorf("the answer echoes a secret: %s", body)
				}
			}
			switch tt.name {
			case "unknown client":
				unknownBody = string(body)
			case "wrong secret":
				wrongBody = string(body)
			}
		})
	}
	if unknownBody != wrongBody {
		t.Errorf("unknown client and wrong secret answer differently:\n%s\n%s", unknownBody, wrongBody)
	}

	t.Run("405 on GET", func(t *testing.T) {
		resp, err := http.Get(h.ts.URL + "/oauth/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %d Allow %q Content-Type %q, want 405, POST, JSON", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"))
		}
	})
	t.Run("access_denied names the audience like the hosted vendor", func(t *testing.T) {
		_, _, body := h.post("/oauth/token", formType, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://nowhere.example"), nil)
		if !strings.Contains(string(body), `Client is not authorized to access \"https://nowhere.example\"`) {
			t.Errorf("got %s", body)
		}
	})
	t.Run("a scope subset is granted as asked", func(t *testing.T) {
		two := h.newClient(admin.ClientInput{Name: ptr("two"), Tenant: "acme",
			Grants: &map[string][]string{aud: {"cdp.audience_exports:r", "personalize.flows:manage"}}})
		status, _, body := h.post("/oauth/token", formType, form("grant_type", "client_credentials", "client_id", two.ClientID, "client_secret", two.ClientSecret, "audience", aud, "scope", "personalize.flows:manage"), nil)
		var resp tokenResponse
		json.Unmarshal(body, &resp)
		h.secrets = append(h.secrets, resp.AccessToken)
		if status != 200 || resp.Scope != "personalize.flows:manage" {
			t.Errorf("got %d scope %q, want 200 personalize.flows:manage", status, resp.Scope)
		}
	})
	t.Run("the new secret works after rotation", func(t *testing.T) {
		status, _, body := h.post("/oauth/token", formType, form("grant_type", "client_credentials", "client_id", rotated.ClientID, "client_secret", after.ClientSecret, "audience", aud), nil)
		if status != 200 {
			t.Errorf("got %d %s, want 200", status, body)
		}
		var resp tokenResponse
		json.Unmarshal(body, &resp)
		h.secrets = append(h.secrets, resp.AccessToken)
	})
}
