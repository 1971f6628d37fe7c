package gateway

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/verify"
)

// metadataURL is the URL of the RFC 9728 document of the resource m
// matched, or "" when the gateway serves none.
func (g *Gateway) metadataURL(m match) string {
	if !g.cfg.ResourceMetadata {
		return ""
	}
	return g.cfg.PublicURL + verify.ResourceMetadataPath + m.prefix
}

// serveResourceMetadata answers a request for the RFC 9728 document of a
// route: the well-known path followed by exactly the route's prefix (its
// path without the trailing slash, or /{service}/v1/{apiKey}), so the
// document's resource is the URL it was asked for (RFC 9728 §3.3). It
// reports false for paths that are not such a request.
func (g *Gateway) serveResourceMetadata(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, verify.ResourceMetadataPath)
	if !ok || !g.cfg.ResourceMetadata || (rest != "" && rest[0] != '/') {
		return false
	}
	p := rest
	if p == "" {
		p = "/"
	}
	m, found := g.router.match(p)
	if !found || m.tokenRequest || m.prefix != strings.TrimSuffix(rest, "/") {
		writeError(w, http.StatusNotFound, "not_found", "No protected resource here.")
		return true
	}
	rt := m.route
	verify.ResourceMetadata{
		Resource:                              g.cfg.PublicURL + m.prefix,
		AuthorizationServers:                  []string{g.issuer},
		ScopesSupported:                       rt.cfg.Scopes,
		BearerMethodsSupported:                []string{"header"},
		ResourceName:                          rt.cfg.Name,
		DPoPSigningAlgValuesSupported:         dpop.Algorithms(),
		DPoPBoundAccessTokensRequired:         rt.cfg.RequireDPoP,
		TLSClientCertificateBoundAccessTokens: g.seesCertificates(),
	}.ServeHTTP(w, r)
	return true
}

// seesCertificates reports whether the gateway can learn a client's
// certificate, and so check certificate-bound tokens: from its own TLS
// listener, a trusted proxy's header, or the caller of New.
func (g *Gateway) seesCertificates() bool {
	return g.opts.ClientCertificate != nil || g.tls != nil || g.cfg.ClientCertHeader != ""
}
