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

// Limiter applies per-client rate limits and per-client and per-tenant
// hourly and daily quotas, and counts every client's tokens for display.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*counters
	tenants map[string]*counters
}

// counters are one subject's fixed windows.
type counters struct {
	second, hour, day windowCount
}

type windowCount struct {
	start time.Time
	n     int64
}

// at returns the count in the window of size that holds now.
func (w *windowCount) at(now time.Time, size time.Duration) int64 {
	start := now.Truncate(size)
	if !w.start.Equal(start) {
		w.start, w.n = start, 0
	}
	return w.n
}

// NewLimiter returns an empty limiter on the clock now (nil: time.Now).
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, clients: map[string]*counters{}, tenants: map[string]*counters{}}
}

// check is one limit to test.
type check struct {
	name  string
	limit int64
	w     *windowCount
	size  time.Duration
}

// Admit counts one token for client (and its tenant) unless a limit is
// reached. ok is false when refused; the budget is reported either way
// when any limit applies (applies is false when none does).
func (l *Limiter) Admit(client *store.Client, tenant store.Limits) (b Budget, applies, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.subject(l.clients, client.ID)
	// Tenants are counted whether or not they have a quota, so a quota set
	// later counts the tokens already issued in its window.
	var t *counters
	if client.Tenant != "" {
		t = l.subject(l.tenants, client.Tenant)
	}
	checks := []check{
		{"rate limit", client.Limits.RatePerSecond, &c.second, time.Second},
		{"hourly quota", client.Limits.QuotaHour, &c.hour, time.Hour},
		{"daily quota", client.Limits.QuotaDay, &c.day, 24 * time.Hour},
	}
	if t != nil {
		checks = append(checks,
			check{"tenant hourly quota", tenant.QuotaHour, &t.hour, time.Hour},
			check{"tenant daily quota", tenant.QuotaDay, &t.day, 24 * time.Hour})
	}
	ok = true
	first := true
	for _, ch := range checks {
		used := ch.w.at(now, ch.size)
		if ch.limit <= 0 {
			continue
		}
		applies = true
		rem := ch.limit - used
		reset := ch.w.start.Add(ch.size).Sub(now)
		if rem <= 0 && ok {
			ok = false
			b = Budget{Limit: ch.limit, Remaining: 0, Reset: reset, Exceeded: ch.name}
		}
		if ok && (first || rem-1 < b.Remaining) {
			b = Budget{Limit: ch.limit, Remaining: rem - 1, Reset: reset}
			first = false
		}
	}
	if !ok {
		return b, applies, false
	}
	// Count the token everywhere, limited or not (the console shows use).
	c.second.n++
	c.hour.n++
	c.day.n++
	if t != nil {
		t.hour.n++
		t.day.n++
	}
	return b, applies, true
}

func (l *Limiter) subject(m map[string]*counters, id string) *counters {
	c := m[id]
	if c == nil {
		c = &counters{}
		m[id] = c
	}
	return c
}

// ClientUsage returns the tokens client got this hour and today (UTC) on this node.
func (l *Limiter) ClientUsage(clientID string) (hour, day int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[clientID]
	if c == nil {
		return 0, 0
	}
	return c.hour.at(now, time.Hour), c.day.at(now, 24*time.Hour)
}

// ExceededError names the limit that refused a request: the cause of its
// 429, for metrics and logs.
type ExceededError struct{ Limit string }

func (e ExceededError) Error() string { return e.Limit + " reached" }

// Describe explains a refusal in plain words.
func (b Budget) Describe() string {
	return fmt.Sprintf("Token %s reached (%d); try again in %d s.", b.Exceeded, b.Limit, int64((b.Reset+time.Second-1)/time.Second))
}
