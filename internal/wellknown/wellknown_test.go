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
	if !m.TLSCertificateBoundTokens || !slices.Contains(m.DPoPSigningAlgs, "ES256") || !slices.Contains(m.TokenEndpointAuthSigningAlgs, "PS256") {
		t.Errorf("DPoP and mTLS metadata: got %+v", m)
	}
	if slices.Contains(m.TokenEndpointAuthSigningAlgs, "HS256") || slices.Contains(m.DPoPSigningAlgs, "none") {
		t.Errorf("metadata offers a symmetric or no algorithm: got %+v", m)
	}
	for _, want := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"} {
		if !slices.Contains(m.TokenEndpointAuthMethodsSupported, want) {
			t.Errorf("token_endpoint_auth_methods_supported: got %v, want %s among them", m.TokenEndpointAuthMethodsSupported, want)
		}
	}
}
