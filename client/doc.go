// Package client is the Go client side of gatehouse: an HTTP transport for
// programs that call APIs protected by gatehouse access tokens.
//
// Tokens come from the client credentials grant (RFC 6749 §4.4) that
// gatehouse serves at POST /oauth/token, requested with
// golang.org/x/oauth2/clientcredentials. [Transport] adds the token to
// every request, reuses it until shortly before it expires, and, when an
// API answers 401 (the token was revoked, or the API stopped trusting its
// signing key), fetches a new token once and retries the request once.
//
// Two options take the client past shared secrets (gatehouse's DESIGN §8):
//
//   - [WithPrivateKey] authenticates with a [PrivateKey] instead of a
//     secret (private_key_jwt, RFC 7523 §2.2): every token request carries
//     a new client assertion signed with the key, whose public half is
//     registered on the client.
//   - [WithDPoP] binds the tokens to a [DPoP] key (RFC 9449): token
//     requests carry a proof of the key, and [Transport] sends the token
//     with a new proof for every API request, answering a server's
//     use_dpop_nonce once with the nonce it gave.
//
// The package is imported by code outside gatehouse: of gatehouse's
// packages it may import only internal/dpop (RFC 9449 proofs, which
// imports nothing of the server's), and beyond the standard library only
// golang.org/x/oauth2, golang.org/x/sync and go-jose.
package client
