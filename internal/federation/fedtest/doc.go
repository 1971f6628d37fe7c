// Package fedtest is a local identity issuer for tests of workload
// identity federation: it serves OIDC discovery and a JWKS over httptest,
// rotates its keys, can go down or serve a broken JWKS, and mints tokens
// with the claim shapes of Kubernetes service-account tokens, GitHub
// Actions OIDC tokens and SPIFFE JWT-SVIDs.
//
// Tests and `gatehouse bench` only: production code must not import it.
package fedtest
