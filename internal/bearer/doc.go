// Package bearer holds the wire rules an API guarded by gatehouse tokens
// shares with every other such API: reading the access token from the
// Authorization header (RFC 6750 §2.1), the WWW-Authenticate challenge of a
// refusal (RFC 6750 §3) and gatehouse's JSON error body
// {"error","error_description"}. Package verify and the gateway both answer
// through it, so a product API behind either sees the same refusals.
//
// Every call names its schemes ([SchemeBearer], and RFC 9449's
// [SchemeDPoP]), so that a caller accepts DPoP only where it checks the
// proof; a resource that accepts both answers with both challenges
// ([WriteChallenges]).
//
// The package must not check tokens, choose status codes or the words of a
// refusal (its callers do), or log. It must import nothing but the standard
// library: verify, a public package, imports it.
package bearer
