// Package token is the token endpoint: it owns the steps every token request
// passes through (parse, authenticate the client, apply the audience and
// scope policy, mint, answer) so that no path can skip one, and it verifies
// the JWTs gatehouse itself issued (for its admin API).
//
// Protocol errors come from package oauth; keys from package keys; the
// clients and APIs it reads come from the in-memory catalog, never the store.
package token
