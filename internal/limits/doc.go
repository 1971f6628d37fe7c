// Package limits holds the token endpoint's abuse controls: the throttle
// on failed authentication (per client id and per address, checked before
// any secret is hashed) and the per-client rate limits and per-client or
// per-tenant hourly and daily quotas, with the IETF RateLimit headers.
//
// Limits and quotas are global: every node counts in shared counters in
// the store (store.CounterStore), leasing budget in chunks in the
// background, so the hot path never waits on the database (lease.go says
// how, and how far a limit can be passed). A limit either refuses what
// goes over it (enforce) or lets it through and reports it (log-only).
// The failed-authentication throttle counts in each node's memory.
package limits
