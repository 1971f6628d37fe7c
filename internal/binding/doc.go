// Package binding enforces sender-constrained access tokens at a
// resource: a token whose cnf claim binds it to a DPoP key (cnf.jkt,
// RFC 9449 §7) or to a client certificate (cnf.x5t#S256, RFC 8705 §3) is
// admitted only from a request that proves possession of that key or
// certificate, and a DPoP-bound token sent as a plain Bearer token is
// refused. It also says which WWW-Authenticate challenges such a resource
// answers with. Package verify and the gateway both enforce bindings
// through it, so a product API behind either sees the same rules.
//
// It checks the request, not the token: the caller has already verified
// the token (offline or by introspection) and hands over its cnf, read
// with FromClaim, which refuses a cnf that binds by no method enforced
// here rather than let it pass as unbound.
//
// verify, a public package, imports it: it may import only the standard
// library, internal/bearer, internal/dpop and internal/replay (proofs
// single-use in memory, the cache the token endpoint uses too; itself
// the standard library only), never the server's packages, and it must
// not log.
package binding
