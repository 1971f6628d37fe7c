package wellknown

import (
	"slices"
	"testing"
)

func TestMetadataSaysWhatTheServerDoes(t *testing.T) {
	m := NewMetadata("https://auth.example.io/")
	checks := []struct {
		name      string
		got, want any
	}{
		{"issuer verbatim", m.Issuer, "https://auth.example.io/"},
		{"token endpoint", m.TokenEndpoint, "https://auth.example.io/oauth/token"},
		{"jwks_uri", m.JWKSURI, "https://auth.example.io/.well-known/jwks.json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if !slices.Contains(m.GrantTypesSupported, "client_credentials") {
		t.Errorf("grant_types_supported: got %v, want client_credentials among them", m.GrantTypesSupported)
	}
	for _, want := range []string{"client_secret_basic", "client_secret_post"} {
		if !slices.Contains(m.TokenEndpointAuthMethodsSupported, want) {
			t.Errorf("token_endpoint_auth_methods_supported: got %v, want %s among them", m.TokenEndpointAuthMethodsSupported, want)
		}
	}
}
