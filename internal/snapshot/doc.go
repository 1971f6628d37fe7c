// Package snapshot lets a node start while its database is down.
//
// A node on a shared database (PostgreSQL) keeps, in its data directory,
// an encrypted copy of what it needs to issue tokens: tenants,
// environments, APIs, clients (with their secrets' hashes), trusts,
// signing keys (their private halves stay sealed by the KEK) and
// unexpired revocations. When the database cannot be reached at start, the
// node serves those from the snapshot (Store), reports degraded, and
// answers writes with the store's unavailability (the admin API's 503),
// until the database answers again.
//
// The file is sealed with AES-256-GCM under a key derived from the KEK, in
// chunks (so a large catalog is streamed, never held twice in memory),
// each chunk's nonce binding its position and whether it is the last, so
// that a truncated or reordered file is refused, not half-read.
//
// It must not decide when a node is degraded beyond what it is told
// (Store.Live), nor hold rules about the entities it copies.
package snapshot
