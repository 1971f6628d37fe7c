// Package federation holds workload identity federation (DESIGN §9): which
// outside tokens a tenant's trusts accept and which gatehouse client each
// becomes, by rules written in CEL over the token's claims.
//
// Compile checks and prepares one rule's expression (the admin rules call
// it when a rule is saved); CompileTrust prepares a stored trust, once,
// when the catalog loads or refreshes it. An Engine verifies an outside
// token against every trust of its issuer (signature by a key the issuer
// publishes, iss, aud, exp, nbf, max_age, single-use jti), runs the rules,
// and returns the one decision or a Refusal saying, per trust and rule,
// why; Test explains one trust's verdicts for `gatehouse trust test`.
//
// It must not fetch keys on the hot path (trusts' key sets are cached and
// refreshed in the background, and a cold cache is waited for only
// briefly) nor compile an expression per request, and it knows nothing of
// HTTP, clients' grants or token formats: package token maps a decision
// to a token.
package federation
