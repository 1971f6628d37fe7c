// Package mtls holds the certificate side of RFC 8705: where a client's
// certificate comes from (Source: the TLS connection, or a header set by
// a trusted TLS-terminating proxy), how it is checked (Authority and
// VerifyChain for tls_client_auth, Subject for the one name a client is
// registered with, MatchesKey for self_signed_tls_client_auth). The
// x5t#S256 thumbprint a certificate-bound token carries is
// binding.Thumbprint, the one the resource side compares.
//
// The server builds one Source and one Authority per node from its
// configuration (--client-cert-header, --trusted-proxy, --client-ca) and
// hands them to the token endpoint:
//
//	src := mtls.Source{Header: cfg.ClientCertHeader, Proxies: proxies}
//	ca, err := cfg.ClientAuthority()            // LoadAuthority, once, in config.Validate; nil: no bundle
//	...
//	leaf, chain, err := src.Certificate(r)      // nil leaf: no certificate
//	err = ca.Verify(leaf, chain, now)           // tls_client_auth
//	ok := subject.Matches(leaf)                 // the client's registered name
//
// Behind a proxy, the proxy must set the header on every request and drop
// one sent by the client, and pass self-signed certificates through:
// nginx with `ssl_verify_client optional_no_ca;` and
// `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;`, Envoy
// with forward_client_cert_details: SANITIZE_SET at the edge and
// set_current_client_cert_details {cert: true, chain: true}. Envoy proxies
// between the edge and gatehouse should use FORWARD_ONLY so that the
// element the edge added stays the last one (see Source).
//
// It must not know about clients, the store or token policy (which method
// a client uses, whether a token is bound): it answers questions about
// certificates only, and never writes an HTTP response.
package mtls
