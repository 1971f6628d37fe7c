// Package assertion verifies a JWT signed by a party outside gatehouse: a
// client assertion (RFC 7523 §2.2 and §3, private_key_jwt) signed with a
// client's registered key, or a subject token (RFC 7523 §2.1, RFC 8693)
// signed by an issuer a tenant trusts for workload identity federation
// (a Kubernetes service-account token, a GitHub Actions OIDC token, a
// SPIFFE JWT-SVID).
//
// [Verify] checks the signature with a key from a [KeyFinder] (a
// *jwks.Set or a *jwks.Remote), only with an asymmetric algorithm the
// caller allows, then the claims the caller asks for in [Expect]. Each
// reason for a refusal is its own error (ErrAudience, ErrExpired, ...),
// wrapped with a detail, so that the token endpoint can log why while it
// answers a generic invalid_client or invalid_grant. [Peek] reads iss and
// sub without verifying, only to choose the keys and the Expect to verify
// with.
//
// Keys never come from the token: the jku, x5u, jwk and x5c headers are
// ignored. The package must not know about clients, trusts, CEL rules or
// the replay cache (its callers map a verified assertion to a client and
// mark its jti used), must not answer HTTP, and must not log.
package assertion
