// Package secret makes client ids and secrets and checks presented secrets
// against stored hashes.
//
// Generated secrets carry 256 random bits, so a single SHA-256 is the right
// hash for them and keeps the token endpoint fast. Secrets imported from
// another system may be weak, so they get bcrypt, with successful checks
// cached in memory. Every check does the same work whether or not the client
// exists (client ids are not secret; secrets are).
//
// The package must not log: it sees secrets in the clear.
package secret
