package limits

import (
	"sync"
	"time"
)

// Throttle slows down repeated failed authentication. A key (a client id
// or an address) that fails Threshold times within Window is refused for
// a backoff that starts at MinBackoff and doubles while failures go on,
// up to MaxBackoff; a quiet Window forgives it. A correct request is
// refused only while a backoff runs, so the real client is not locked out
// for long.
type Throttle struct {
	Threshold  int
	Window     time.Duration
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	entries map[string]*failures
	swept   time.Time
}

type failures struct {
	count        int
	windowStart  time.Time
	backoff      time.Duration
	blockedUntil time.Time
	last         time.Time
}

// NewThrottle returns a throttle for threshold failures a minute, backing
// off from 1 s to 5 min.
func NewThrottle(threshold int) *Throttle {
	return &Throttle{Threshold: threshold, Window: time.Minute, MinBackoff: time.Second, MaxBackoff: 5 * time.Minute,
		entries: map[string]*failures{}}
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Blocked reports how long key must still wait, or 0.
func (t *Throttle) Blocked(key string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entries[key]
	if f == nil || !now.Before(f.blockedUntil) {
		return 0
	}
	return f.blockedUntil.Sub(now)
}

// Failed counts a failure for key.
func (t *Throttle) Failed(key string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	f := t.entries[key]
	if f == nil {
		f = &failures{windowStart: now}
		t.entries[key] = f
	}
	if now.Sub(f.last) > t.Window {
		// A quiet window forgives everything.
		*f = failures{windowStart: now}
	}
	if now.Sub(f.windowStart) > t.Window {
		f.count, f.windowStart = 0, now
	}
	f.count++
	f.last = now
	if f.count >= t.Threshold {
		f.backoff = min(max(2*f.backoff, t.MinBackoff), t.MaxBackoff)
		f.blockedUntil = now.Add(f.backoff)
		f.count = 0
		f.windowStart = now
	}
}

// sweep drops keys quiet for longer than the longest backoff; t.mu is held.
func (t *Throttle) sweep(now time.Time) {
	if now.Sub(t.swept) < time.Minute {
		return
	}
	t.swept = now
	for k, f := range t.entries {
		if now.Sub(f.last) > t.MaxBackoff+t.Window && !now.Before(f.blockedUntil) {
			delete(t.entries, k)
		}
	}
}
