// Package interop holds tests that drive gatehouse with other people's
// clients, unmodified, to catch what gatehouse's own tests, written
// against gatehouse's own reading of the RFCs, cannot: node/ is
// openid-client (Node.js) authenticating with private_key_jwt and asking
// for DPoP-bound tokens. It has no code of its own.
package interop
