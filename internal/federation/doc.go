// Package federation holds workload identity federation (DESIGN §9): which
// outside tokens a tenant's trusts accept and which gatehouse client each
// becomes, by rules written in CEL over the token's claims.
//
// It must not fetch keys on the hot path (trusts' key sets are cached and
// refreshed in the background) nor compile an expression per request.
package federation
