// Package client is the Go client side of gatehouse: an HTTP transport for
// programs that call APIs protected by gatehouse access tokens.
//
// Tokens come from golang.org/x/oauth2/clientcredentials, the client
// credentials grant (RFC 6749 §4.4) that gatehouse serves at
// POST /oauth/token. [Transport] adds the token to every request, reuses
// it until shortly before it expires, and, when an API answers 401 (the
// token was revoked, or the API stopped trusting its signing key), fetches
// a new token once and retries the request once.
//
// The package is imported by code outside gatehouse: it must depend on
// nothing under internal/, and only on golang.org/x/oauth2 and
// golang.org/x/sync beyond the standard library.
package client
