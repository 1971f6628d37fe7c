// Package verify checks gatehouse's JWT access tokens offline, inside a
// product API.
//
// A [Verifier] reads the issuer's RFC 8414 metadata once, caches the
// issuer's JWKS (honouring Cache-Control max-age), and verifies RFC 9068
// access tokens against it: the signature with a published key whose alg
// matches the token's, the "typ" header, and the iss, aud, exp, nbf and iat
// claims with a small leeway. A token signed with a key the cache does not
// hold causes one refresh of the JWKS, shared by concurrent requests and
// rate-limited, so forged key ids cannot be used to flood the issuer.
//
// [Verifier.Middleware] puts the verified [Claims] into the request context
// and answers RFC 6750 errors; [RequireScope], [RequireEnvironment] and
// [RequireService] narrow a route further.
//
// The middleware holds sender-constrained tokens to their binding
// ([Claims.Confirmation]): a DPoP-bound token (cnf.jkt) passes only with
// the "DPoP" scheme and an RFC 9449 proof of its key for this very request
// (its method, its URL as [Config.PublicURL] builds it, this token), used
// once; a DPoP-bound token sent as Bearer is refused; a certificate-bound
// token (cnf x5t#S256, RFC 8705) passes only over a connection with that
// client certificate ([Config.ClientCertificate]). Unbound tokens pass as
// before, unless [Config.RequireDPoP] is set. [ResourceMetadata] is the
// API's RFC 9728 document, named in challenges by
// [Config.ResourceMetadataURL].
//
// The package never fetches keys from places a token names (the jku, x5u,
// jwk and x5c headers are ignored), never accepts "none" or HMAC
// algorithms, and does no introspection: a token revoked at gatehouse stays
// valid here until it expires. Use the gateway or RFC 7662 introspection
// where revocation must take effect at once.
//
// gatehouse checks its own tokens (admin API, introspection) with this
// package too, handing it the keys it holds through [Config.Keys], so that
// a fix to token checking lands once.
//
// This package is imported by code outside gatehouse: of gatehouse's
// packages it may import only internal/bearer (the RFC 6750 header and
// challenge rules), internal/jwtclaim (the JSON forms of aud and the
// NumericDates, shared with internal/assertion), internal/jwks (which
// keys of a JWKS are usable, the
// JWKS cache and metadata discovery), internal/dpop (RFC 9449 proofs) and
// internal/binding (the binding rules it shares with the gateway; it
// makes proofs single-use with internal/replay, the standard library
// only), which import nothing of the server's; never the server's
// packages.
package verify
