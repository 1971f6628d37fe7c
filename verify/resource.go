package verify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/dpop"
)

// resource is what the middleware needs beyond checking tokens: the
// binding rules of Config and the metadata they imply.
type resource struct {
	binding     *binding.Checker
	publicURL   string
	metadataURL string
}

// initResource reads the binding fields of cfg.
func (v *Verifier) initResource(cfg Config) error {
	b, err := binding.New(binding.Config{
		PublicURL: cfg.PublicURL, RequestURL: cfg.RequestURL, ClientCertificate: cfg.ClientCertificate,
		RequireDPoP: cfg.RequireDPoP, Now: v.now,
	})
	if err != nil {
		return fmt.Errorf("verify: Config.PublicURL: %w", err)
	}
	if m := cfg.ResourceMetadataURL; m != "" {
		if u, err := url.Parse(m); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("verify: Config.ResourceMetadataURL %q is not an absolute http(s) URL", m)
		}
	}
	v.resource = &resource{binding: b, publicURL: strings.TrimSuffix(cfg.PublicURL, "/"), metadataURL: cfg.ResourceMetadataURL}
	return nil
}

// ResourceMetadataPath is where RFC 9728 §3 puts a protected resource's
// metadata: right below the host, followed by the resource identifier's
// path, if it has one.
const ResourceMetadataPath = "/.well-known/oauth-protected-resource"

// ResourceMetadata is an RFC 9728 protected resource metadata document.
// It is an http.Handler that serves itself; mount it at
// ResourceMetadataPath (followed by the path of Resource, if any) and name
// that URL in Config.ResourceMetadataURL.
type ResourceMetadata struct {
	// Resource is the API's resource identifier: the https URL that
	// clients name as the RFC 8707 resource (for gatehouse, the
	// audience), which RFC 9728 §3.3 requires to match the URL the
	// document is served under.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuers whose tokens the API takes.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported are the scopes the API checks, if it says.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported are the ways a token may be sent: "header".
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceName is a name for people.
	ResourceName string `json:"resource_name,omitempty"`
	// DPoPSigningAlgValuesSupported are the DPoP proof algorithms
	// accepted.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired says that only DPoP-bound tokens are
	// accepted.
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
	// TLSClientCertificateBoundAccessTokens says that certificate-bound
	// tokens (RFC 8705) are accepted, and held to their certificate.
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
}

// ResourceMetadata returns the metadata of the API this Verifier guards:
// the audience as the resource (PublicURL when the audience is a
// template), the issuer, the header as the one way to send a token, the
// DPoP algorithms, and whether DPoP is required. Change fields (such as
// ScopesSupported) before serving it.
func (v *Verifier) ResourceMetadata() ResourceMetadata {
	res := v.audience
	if res == "" || strings.Contains(res, "{tenant}") {
		res = v.resource.publicURL
	}
	return ResourceMetadata{
		Resource:                              res,
		AuthorizationServers:                  []string{v.issuer},
		BearerMethodsSupported:                []string{"header"},
		DPoPSigningAlgValuesSupported:         dpop.Algorithms(),
		DPoPBoundAccessTokensRequired:         v.resource.binding.RequireDPoP(),
		TLSClientCertificateBoundAccessTokens: true,
	}
}

// ServeHTTP answers GET and HEAD with the document as JSON (RFC 9728
// §3.2), cacheable for five minutes; other methods get 405.
func (m ResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := json.Marshal(m)
	if err != nil {
		http.Error(w, "cannot encode the metadata", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method == http.MethodGet {
		_, _ = w.Write(append(body, '\n'))
	}
}
