// Package replay makes one-time identifiers single-use: the jti of a
// client assertion (RFC 7523 §3), of a DPoP proof (RFC 9449 §11.1) at the
// token endpoint and at a resource (verify and the gateway, through
// internal/binding, with memory only), of a federated subject token where
// its trust asks for it.
//
// A Cache answers from this node's memory first. Where several nodes share
// a database, it also claims each new id in a shared table, and it does
// so in batches: concurrent requests wait for one multi-row INSERT ... ON
// CONFLICT DO NOTHING, so the database sees one statement per batch, not
// one per request. With no shared table (the embedded SQLite store serves
// one node) memory is the whole truth and no request waits on anything.
//
// While the shared table cannot be reached, the Cache keeps answering from
// memory, so single use then holds per node only; the table lives in the
// store, so the node's readiness already reports the store unavailable.
//
// It must not know what the ids are for: callers namespace their keys.
// The public verify package imports it (through internal/binding, whose
// TestImports checks this), so it imports only the standard library,
// never the server's packages.
package replay
