// Package dpop holds RFC 9449 proof-of-possession: checking a DPoP proof
// (the JWT a client sends in the DPoP header), making one, the RFC 7638
// thumbprint that binds a token to the proof's key (cnf.jkt), and
// stateless server nonces.
//
// [Verify] checks one proof against what the request was: its typ, an
// asymmetric alg, a public jwk that verifies the signature, and the jti,
// htm, htu, iat, ath and nonce claims. Every refusal matches
// [ErrInvalidProof] (answer invalid_dpop_proof) and names its reason,
// except [ErrUseNonce] (answer use_dpop_nonce with a fresh DPoP-Nonce).
// Verify does not make a jti single-use: the caller does, with
// internal/replay (memory only on a resource server, through
// internal/binding; the shared table at the token endpoint), keyed by
// [Proof.JKT] and [Proof.JTI] until [Proof.ExpiresAt]. One replay cache
// serves both, so this package keeps none of its own.
//
// The public verify package imports this one, so it must depend only on
// the standard library, go-jose, internal/jwks (itself the standard
// library and go-jose) and internal/jwtclaim (iat as a NumericDate, read
// as verify and assertion read theirs), never on the server's packages; it
// must not read configuration, log, or choose status codes.
package dpop
