// Package wellknown serves what a resource server or client discovers
// about gatehouse: the JWKS (RFC 7517) and the authorization server
// metadata (RFC 8414, also at the OpenID discovery path). The metadata
// says only what the server really does.
package wellknown

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/assertion"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/token"
)

// Metadata is the RFC 8414 document.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// The algorithms of private_key_jwt assertions (RFC 8414 §2).
	TokenEndpointAuthSigningAlgs []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	// DPoP (RFC 9449 §5.1) and certificate-bound tokens (RFC 8705 §3.3);
	// mtls_endpoint_aliases is absent: the endpoints are the same URLs.
	DPoPSigningAlgs           []string `json:"dpop_signing_alg_values_supported"`
	TLSCertificateBoundTokens bool     `json:"tls_client_certificate_bound_access_tokens"`
	SigningAlgValuesSupported []string `json:"access_token_signing_alg_values_supported"`
	IntrospectionEndpoint     string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint        string   `json:"revocation_endpoint,omitempty"`
}

// NewMetadata describes a gatehouse whose issuer is issuer.
func NewMetadata(issuer string) Metadata {
	base := strings.TrimSuffix(issuer, "/")
	return Metadata{
		Issuer:                            issuer,
		TokenEndpoint:                     base + "/oauth/token",
		JWKSURI:                           base + "/.well-known/jwks.json",
		GrantTypesSupported:               token.GrantTypes(),
		ResponseTypesSupported:            []string{},
		TokenEndpointAuthMethodsSupported: token.AuthMethods(),
		TokenEndpointAuthSigningAlgs:      assertion.AdvertisedAlgs(),
		DPoPSigningAlgs:                   dpop.Algorithms(),
		TLSCertificateBoundTokens:         true,
		SigningAlgValuesSupported:         store.SigningAlgs,
		IntrospectionEndpoint:             base + "/oauth/introspect",
		RevocationEndpoint:                base + "/oauth/revoke",
	}
}

// Mount adds the well-known routes to mux.
func Mount(mux *http.ServeMux, md Metadata, set *keys.Set) {
	metadata := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		oauth.WriteJSON(w, http.StatusOK, md)
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", metadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", metadata)
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		body := set.JWKS()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(keys.JWKSMaxAge.Seconds())))
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(body)
	})
}
