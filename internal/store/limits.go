package store

import (
	"context"
	"fmt"
	"time"
)

// CounterLease is one node's request against a shared limit counter, the
// count of one subject (a client's or a tenant's tokens) in one window.
// Charge is added as it is: tokens the node let through on credit, or a
// negative count to give back a lease it did not spend. Then up to Want
// more are granted to the node, as far as the count stays within Limit
// (0: no limit, all of Want is granted).
type CounterLease struct {
	Key       string
	Window    time.Time // the window's start
	ExpiresAt time.Time // when the counter may be purged (the window's end)
	Limit     int64
	Charge    int64
	Want      int64
}

// CounterGrant answers one CounterLease: what was granted and the count
// after it (every node's leases and charges).
type CounterGrant struct {
	Granted int64
	Total   int64
}

// Counter is one shared limit counter.
type Counter struct {
	Key    string
	Window time.Time
	Total  int64
}

// CounterStore holds the shared counters behind global limits and quotas.
type CounterStore interface {
	// LeaseCounters applies each lease atomically (concurrent callers on
	// any node never together get more than Limit granted) and answers
	// them in order. PurgeExpired removes expired counters.
	LeaseCounters(ctx context.Context, leases []CounterLease) ([]CounterGrant, error)
	// ListCounters returns the counters not expired at t.
	ListCounters(ctx context.Context, t time.Time) ([]Counter, error)
}

// Validate checks limits: none negative, and a known mode.
func (l Limits) Validate() error {
	if l.RatePerSecond < 0 || l.QuotaHour < 0 || l.QuotaDay < 0 {
		return fmt.Errorf("limits must not be negative")
	}
	if l.Mode != "" && l.Mode != LimitEnforce && l.Mode != LimitLogOnly {
		return fmt.Errorf("limits.mode %q is not %q or %q", l.Mode, LimitEnforce, LimitLogOnly)
	}
	return nil
}
