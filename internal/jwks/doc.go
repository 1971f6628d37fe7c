// Package jwks holds gatehouse's rules for RFC 7517 JSON Web Key Sets of
// public verification keys, wherever they come from: the issuer's own
// JWKS read by package verify, a client's registered jwks or jwks_uri
// (RFC 7523 private_key_jwt), and the keys of an outside issuer trusted
// for workload identity federation.
//
// [Parse] decides which keys of a document can verify signatures (one copy
// of those rules: the key type, RSA of at least 2048 bits, an "alg" that
// fits the key) and refuses a document holding private or symmetric key
// material. [Remote] is a JWKS fetched from a URL and cached: bounded
// fetches, Cache-Control max-age, one rate-limited refresh shared by
// concurrent callers on an unknown key, stale keys serving while a
// refresh runs. [Discover] finds an issuer's jwks_uri in its RFC 8414 or
// OpenID Connect metadata.
//
// The package must not check tokens (package verify and
// internal/assertion do), know about clients, trusts or storage, or log.
// Package verify, which code outside gatehouse imports, depends on it, so
// it may import only the standard library, go-jose and golang.org/x/sync,
// never the server's packages.
package jwks
