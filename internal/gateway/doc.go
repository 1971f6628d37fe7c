// Package gateway is `gatehouse gateway`: a reverse proxy in front of
// product APIs that admits a request only with a valid gatehouse access
// token for the route's API.
//
// JWTs are checked offline with package verify (signature, iss, aud, exp)
// and against the revoked JWT ids the gateway polls from gatehouse's
// POST /oauth/revocations. Opaque tokens are checked by RFC 7662
// introspection at gatehouse, with a short cache keyed by the token's hash
// (inactive answers are cached briefly too, to blunt floods). A route is a
// path prefix, or a service: /{service}/v1/{apiKey}/... admits only tokens
// issued at that service's per-service endpoint for the environment whose
// api_key is in the path. Refusals are RFC 6750 answers written by the
// gateway; admitted requests reach the upstream with the caller's
// X-Gatehouse-* headers removed and the token holder's client id, tenant,
// environment and scopes in X-Gatehouse-Client-Id, X-Gatehouse-Tenant,
// X-Gatehouse-Environment and X-Gatehouse-Scopes.
//
// Tokens bound to their holder are held to it, JWTs (cnf claim) and opaque
// tokens (cnf in the introspection answer) alike, by the rules of package
// binding that verify applies too: a DPoP-bound token passes only as
// "Authorization: DPoP" with a proof of its key for this request, whose
// htu is public_url followed by the path, used once on this gateway; sent
// as Bearer it is refused; a certificate-bound token needs its client
// certificate: the one presented to the gateway's own TLS listener (tls:
// it asks every client for one, requiring none), or behind a
// TLS-terminating proxy the one in client_cert_header, read only from
// trusted_proxies and stripped from anyone else's request. A route with
// require_dpop admits DPoP-bound
// tokens only. With resource_metadata, each route's RFC 9728 document is
// served at /.well-known/oauth-protected-resource followed by the route's
// prefix and named in every challenge.
//
// A revoked JWT stops working within the revocation poll interval. A
// revoked opaque token stops when its cached introspection answer expires
// (the introspection cache TTL), or within the poll interval if gatehouse
// lists its jti among the revocations.
//
// The package talks to gatehouse over HTTP only, like any resource server:
// it must not import the server's packages (token, keys, the store's
// implementations; it takes only the service-name rule from package
// store), so that it can run on another machine. Its logs name paths and client
// ids, never tokens, secrets or query strings.
package gateway
