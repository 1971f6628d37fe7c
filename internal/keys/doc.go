// Package keys holds gatehouse's signing keys: generating them, sealing their
// private parts with the key-encryption key (KEK), loading the key-encryption
// key itself, and the in-memory Set that signs tokens and publishes the JWKS.
//
// It must not know about HTTP or about token claims: it signs bytes it is given.
package keys
