package limits

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Budget is what a caller has left under the tightest limit that applies;
// it becomes the IETF RateLimit-* headers.
type Budget struct {
	Limit     int64
	Remaining int64
	Reset     time.Duration
	// Exceeded names the limit that refused the request, or "".
	Exceeded string
}

// Headers returns the RateLimit-Limit, -Remaining and -Reset values.
func (b Budget) Headers() map[string]string {
	return map[string]string{
		"RateLimit-Limit":     strconv.FormatInt(b.Limit, 10),
		"RateLimit-Remaining": strconv.FormatInt(b.Remaining, 10),
		"RateLimit-Reset":     strconv.FormatInt(int64((b.Reset+time.Second-1)/time.Second), 10),
	}
}

// Over reports a limit that a request went over: refused when Enforced,
// let through (log-only) otherwise. It is reported once per subject,
// limit and window on each node.
type Over struct {
	Subject  string // "client ID" or "tenant ID"
	Limit    string // "hourly quota", ...
	Max      int64
	Enforced bool
}

// Limiter applies per-client rate limits and per-client and per-tenant
// hourly and daily quotas across every node that shares the store, and
// counts every client's tokens for display. See lease.go for how the
// shared counts are kept without the hot path waiting on the store.
type Limiter struct {
	now      func() time.Time
	counters store.CounterStore // nil: this node alone, counted locally
	// OnOver, when set before use, hears of limits gone over (it is called
	// without the limiter's lock held).
	OnOver func(Over)

	// syncMu lets one sync run at a time.
	syncMu sync.Mutex

	mu      sync.Mutex
	entries map[entryKey]*entry
	scratch [5]check // Admit's checks, l.mu held
	// down is set while the store cannot be reached: spending goes on
	// by local counting (see allows).
	down  bool
	wake  chan struct{}
	swept time.Time
}

// NewLimiter returns a limiter counting in counters (nil: in this node's
// memory only) on the clock now (nil: time.Now).
func NewLimiter(counters store.CounterStore, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, counters: counters, entries: map[entryKey]*entry{}, down: counters == nil,
		wake: make(chan struct{}, 1)}
}

// window is one kind of counting window.
type window struct {
	suffix string
	size   time.Duration
}

var (
	perSecond = window{"s", time.Second}
	perHour   = window{"h", time.Hour}
	perDay    = window{"d", 24 * time.Hour}
)

// check is one limit to test.
type check struct {
	name      string
	scope, id string // whose: "client" or "tenant", and its id
	limit     int64
	enforce   bool
	e         *entry
}

// subject names whose limit it is in an Over: "client ID".
func (c check) subject() string { return c.scope + " " + c.id }

// Admit counts one token for client (and its tenant) unless an enforced
// limit is reached. ok is false when refused; the budget is reported
// either way when any limit applies (applies is false when none does).
// It never waits on the store.
func (l *Limiter) Admit(client *store.Client, tenant store.Limits) (b Budget, applies, ok bool) {
	now := l.now()
	var overs []Over
	defer func() {
		if l.OnOver != nil {
			for _, o := range overs {
				l.OnOver(o)
			}
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	checks := l.checks(now, client, tenant)
	ok = true
	first := true
	for _, ch := range checks {
		if ch.limit <= 0 {
			continue
		}
		applies = true
		e := ch.e
		rem := e.remaining()
		reset := e.start.Add(e.size).Sub(now)
		if !e.allows(l.down) {
			e.lastUse = now
			if e.total+e.owed < e.limit {
				// Room is left but this node's lease is spent and its
				// top-up is on the way: worth asking again at once.
				reset = time.Second
			} else if !e.reported {
				e.reported = true
				overs = append(overs, Over{Subject: ch.subject(), Limit: ch.name, Max: ch.limit, Enforced: ch.enforce})
			}
			if ch.enforce && ok {
				ok = false
				b = Budget{Limit: ch.limit, Remaining: 0, Reset: reset, Exceeded: ch.name}
			}
		}
		if ok && (first || rem-1 < b.Remaining) {
			b = Budget{Limit: ch.limit, Remaining: max(rem-1, 0), Reset: reset}
			first = false
		}
	}
	if !ok {
		return b, applies, false
	}
	// Count the token everywhere, limited or not (the console shows use).
	for _, ch := range checks {
		if ch.e.spend(now) {
			l.signal()
		}
	}
	return b, applies, true
}

// checks are the limits on client and its tenant, with their entries.
// Windows without a limit are counted too (hours and days: the console
// shows them, and a quota set later counts what came before it); seconds
// only where a rate limit is set. l.mu is held.
func (l *Limiter) checks(now time.Time, client *store.Client, tenant store.Limits) []check {
	enforce := func(m string) bool { return m != store.LimitLogOnly }
	cs := l.scratch[:0]
	if client.Limits.RatePerSecond > 0 {
		cs = append(cs, check{"rate limit", "client", client.ID, client.Limits.RatePerSecond, enforce(client.Limits.Mode),
			l.entry(now, "client", client.ID, perSecond, client.Limits.RatePerSecond)})
	}
	cs = append(cs,
		check{"hourly quota", "client", client.ID, client.Limits.QuotaHour, enforce(client.Limits.Mode), l.entry(now, "client", client.ID, perHour, client.Limits.QuotaHour)},
		check{"daily quota", "client", client.ID, client.Limits.QuotaDay, enforce(client.Limits.Mode), l.entry(now, "client", client.ID, perDay, client.Limits.QuotaDay)})
	if client.Tenant != "" {
		cs = append(cs,
			check{"tenant hourly quota", "tenant", client.Tenant, tenant.QuotaHour, enforce(tenant.Mode), l.entry(now, "tenant", client.Tenant, perHour, tenant.QuotaHour)},
			check{"tenant daily quota", "tenant", client.Tenant, tenant.QuotaDay, enforce(tenant.Mode), l.entry(now, "tenant", client.Tenant, perDay, tenant.QuotaDay)})
	}
	return cs
}

// sweep drops, once a minute, entries of windows that ended with nothing
// left to charge (all of them without a store); l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, e := range l.entries {
		if !now.Before(e.start.Add(e.size)) && (e.owed == 0 || l.counters == nil) {
			delete(l.entries, k)
		}
	}
}

// signal wakes the lease loop without waiting.
func (l *Limiter) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// ClientUsage returns the tokens client got this hour and today (UTC)
// across the nodes, as far as this node knows: the shared counts at its
// last lease (less the leases other nodes hold unspent) plus its own
// tokens not yet counted there.
func (l *Limiter) ClientUsage(clientID string) (hour, day int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	used := func(w window) int64 {
		e := l.entries[entryKey{scope: "client", id: clientID, window: w.suffix, start: now.Truncate(w.size).UnixNano()}]
		if e == nil {
			return 0
		}
		return e.used()
	}
	return used(perHour), used(perDay)
}

// ExceededError names the limit that refused a request: the cause of its
// 429, for metrics and logs.
type ExceededError struct{ Limit string }

func (e ExceededError) Error() string { return e.Limit + " reached" }

// Describe explains a refusal in plain words.
func (b Budget) Describe() string {
	return fmt.Sprintf("Token %s reached (%d); try again in %d s.", b.Exceeded, b.Limit, int64((b.Reset+time.Second-1)/time.Second))
}
