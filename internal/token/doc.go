// Package token is the token endpoint: it owns the steps every token request
// passes through (parse, find the grant type, authenticate and throttle the
// client, apply the audience and scope policy, count limits, mint, answer)
// so that no grant can skip one. A grant type is one value in grantTypes
// (grants.go); a client authentication method is one value in authMethods
// (clientauth.go); the audience and scope policy is policy.go. It also
// answers introspection and revocation, checking its own JWTs with package
// verify, the same code product APIs use.
//
// Protocol errors come from package oauth; keys from package keys; the
// clients and APIs it reads come from the in-memory catalog, never the store.
package token
