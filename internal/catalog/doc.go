// Package catalog keeps the node's in-memory copy of what the token
// endpoint reads on every request: clients, APIs, environments and
// tenants. The hot path reads only from here, never from the store; admin
// writes and the store's change feed (Apply, driven by every node's change
// follower) refresh single entries, and a periodic full reload is the
// safety net.
//
// It holds no HTTP and no policy: it answers lookups.
package catalog
