package jwks

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	// meta serves metadata at the given paths; issuer "" means its own URL.
	meta := func(issuer, jwksURI string, paths ...string) *httptest.Server {
		var srv *httptest.Server
		srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, p := range paths {
				if r.URL.Path == p {
					iss := issuer
					if iss == "" {
						iss = srv.URL
					}
					_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": jwksURI})
					return
				}
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	const keys = "https://keys.example.com/jwks.json"
	both := meta("", keys, "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
	oidcOnly := meta("", keys, "/.well-known/openid-configuration")
	other := meta("https://other.example.com", keys, "/.well-known/oauth-authorization-server")
	relative := meta("", "/jwks.json", "/.well-known/oauth-authorization-server")
	none := meta("", keys)
	tests := []struct {
		name    string
		srv     *httptest.Server
		issuer  string
		wantErr string
	}{
		{"RFC 8414 metadata", both, both.URL, ""},
		{"issuer with a trailing slash is exact", both, both.URL + "/", "metadata issuer"},
		{"OpenID Connect fallback", oidcOnly, oidcOnly.URL, ""},
		{"metadata of another issuer", other, other.URL, "metadata issuer"},
		{"relative jwks_uri", relative, relative.URL, "jwks_uri"},
		{"no metadata", none, none.URL, "status 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Discover(t.Context(), tt.srv.Client(), tt.issuer)
			switch {
			case tt.wantErr == "" && (err != nil || got != keys):
				t.Errorf("Discover: got (%q, %v), want (%q, nil)", got, err, keys)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Discover: got (%q, %v), want an error containing %q", got, err, tt.wantErr)
			}
		})
	}
	if _, err := Discover(t.Context(), nil, "http://127.0.0.1:1"); err == nil {
		t.Error("Discover of an unreachable issuer: got nil error, want one")
	}
}
