package limits

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestThrottleBacksOffAndForgives(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	th := NewThrottle(3, c.now)
	steps := []struct {
		name     string
		failures int
		advance  time.Duration
		want     time.Duration
	}{
		{"under the threshold", 2, 0, 0},
		{"the threshold starts a 1 s backoff", 1, 0, time.Second},
		{"the backoff runs out", 0, time.Second, 0},
		{"failures going on double it", 3, 0, 2 * time.Second},
		{"and again", 3, 2 * time.Second, 4 * time.Second},
		{"a quiet window forgives", 0, 2 * time.Minute, 0},
		{"back to 1 s after forgiveness", 3, 0, time.Second},
	}
	for _, s := range steps {
		c.t = c.t.Add(s.advance)
		for i := 0; i < s.failures; i++ {
			th.Failed("client-a")
		}
		if got := th.Blocked("client-a"); got != s.want {
			t.Errorf("%s: blocked for %v, want %v", s.name, got, s.want)
		}
	}
	if got := th.Blocked("client-b"); got != 0 {
		t.Errorf("another key: blocked for %v, want 0", got)
	}
	for i := 0; i < 100; i++ {
		th.Failed("attacker")
		c.t = c.t.Add(time.Second)
	}
	if got := th.Blocked("attacker"); got > 5*time.Minute {
		t.Errorf("backoff grew to %v, want at most 5 min", got)
	}
}

func TestLimiterBudgets(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)}
	l := NewLimiter(nil, c.now)
	client := &store.Client{ID: "c", Tenant: "acme", Limits: store.Limits{RatePerSecond: 2, QuotaHour: 3}}
	free := &store.Client{ID: "f", Tenant: "other"}

	type result struct {
		ok        bool
		limit     int64
		remaining int64
	}
	admit := func(cl *store.Client, tenant store.Limits) result {
		b, applies, ok := l.Admit(cl, tenant)
		if !applies {
			return result{ok: ok, limit: -1}
		}
		return result{ok, b.Limit, b.Remaining}
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    result
	}{
		{"first of 2 a second", 0, result{true, 2, 1}},
		{"second of 2", 0, result{true, 2, 0}},
		{"third in the second", 0, result{false, 2, 0}},
		{"next second: the hourly quota is tighter", time.Second, result{true, 3, 0}},
		{"hour used up", 0, result{false, 3, 0}},
		{"next hour", time.Hour, result{true, 2, 1}},
	}
	for _, s := range steps {
		c.t = c.t.Add(s.advance)
		if got := admit(client, store.Limits{}); got != s.want {
			t.Errorf("%s: got %+v, want %+v", s.name, got, s.want)
		}
	}
	if got := admit(free, store.Limits{}); got != (result{ok: true, limit: -1}) {
		t.Errorf("a client without limits: got %+v, want admitted with no budget", got)
	}
	tenant := store.Limits{QuotaDay: 2}
	if a, b := admit(free, tenant), admit(free, tenant); !a.ok || b.ok {
		t.Errorf("a tenant day quota of 2 with one earlier token: got %+v then %+v, want admitted then refused", a, b)
	}
	if hour, day := l.ClientUsage("f"); hour != 2 || day != 2 {
		t.Errorf("ClientUsage: got %d/h %d/d, want 2 and 2", hour, day)
	}
	b, _, _ := l.Admit(client, store.Limits{})
	if h := b.Headers(); h["RateLimit-Limit"] == "" || h["RateLimit-Reset"] == "" {
		t.Errorf("headers: got %v", h)
	}
}

func TestAuthThrottleCountsByClientAndAddress(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	a := NewAuthThrottle(c.now)
	for i := 0; i < 10; i++ {
		a.Failed("client-a", "10.0.0.1")
	}
	if got := a.Blocked("client-a", "10.0.0.1"); got != time.Second {
		t.Errorf("the failing id and address after 10 failures: blocked for %v, want 1s", got)
	}
	if got := a.Blocked("client-a", "10.0.0.9"); got != 0 {
		t.Errorf("the same id from an address that never failed (its owner): blocked for %v, want 0", got)
	}
	if got := a.Blocked("client-b", "10.0.0.1"); got != 0 {
		t.Errorf("another id from the failing address: blocked for %v, want 0 (the address threshold is 100)", got)
	}
	long := strings.Repeat("x", 500)
	for i := 0; i < 10; i++ {
		a.Failed(long+string(rune('a'+i)), "10.0.0.2")
	}
	if got := a.Blocked(long, "10.0.0.2"); got != time.Second {
		t.Errorf("ids longer than 128 bytes count under their prefix: blocked for %v, want 1s", got)
	}
	for i := 0; i < 90; i++ {
		a.Failed("", "10.0.0.1")
	}
	if got := a.Blocked("client-c", "10.0.0.1"); got != time.Second {
		t.Errorf("address after 100 failures: blocked for %v, want 1s", got)
	}
}

// TestAuthThrottleUnderSpreadAttack: guesses for one id spread over many
// addresses never refuse its owner, and each guessing address is refused
// after its first failure while the attack goes on.
func TestAuthThrottleUnderSpreadAttack(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	a := NewAuthThrottle(c.now)
	const owner = "192.0.2.1"
	guesses, owners := 0, 0
	for second := 0; second < 60; second++ {
		for i := 0; i < 200; i++ {
			addr := fmt.Sprintf("198.51.100.%d", i)
			if a.Blocked("victim", addr) == 0 {
				guesses++
				a.Failed("victim", addr)
			}
		}
		if a.Blocked("victim", owner) == 0 {
			owners++
		}
		c.t = c.t.Add(time.Second)
	}
	if owners != 60 {
		t.Errorf("the owner's requests let through: got %d of 60, want all", owners)
	}
	if guesses > 200*3 {
		t.Errorf("guesses let through in a minute from 200 addresses: got %d, want at most %d", guesses, 200*3)
	}
}
