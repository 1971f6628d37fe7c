// Package limits holds the token endpoint's abuse controls: the throttle
// on failed authentication (per client id and per address, checked before
// any secret is hashed) and the per-client rate limits and per-client or
// per-tenant hourly and daily quotas, with the IETF RateLimit headers.
//
// Counts live in this node's memory: across nodes they are approximate,
// so the hot path never waits on the database.
package limits
