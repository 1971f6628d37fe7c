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

	now func() time.Time

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
// off from 1 s to 5 min, on the clock now (nil: time.Now).
func NewThrottle(threshold int, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{Threshold: threshold, Window: time.Minute, MinBackoff: time.Second, MaxBackoff: 5 * time.Minute,
		now: now, entries: map[string]*failures{}}
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

// Failing reports whether key failed within the last Window.
func (t *Throttle) Failing(key string) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entries[key]
	return f != nil && now.Sub(f.last) <= t.Window
}

// AuthThrottle is the failed-authentication rule, the one place the token
// endpoint, introspection, revocation and console sign-in count guesses.
// Client ids are not secret, so failures for an id must not lock its real
// owner out: they are counted per client id and address together (10 a
// minute), and per address (100 a minute). While an id is under attack
// (10 failures a minute from anywhere), an address that failed for it at
// all is refused until its failures age out, so spreading guesses over
// many addresses stays slow; an address that never failed, the real
// client's, is never refused for what others did.
type AuthThrottle struct{ byPair, byAddr, byClient *Throttle }

// NewAuthThrottle returns the throttle on the clock now (nil: time.Now).
func NewAuthThrottle(now func() time.Time) *AuthThrottle {
	return &AuthThrottle{byPair: NewThrottle(10, now), byAddr: NewThrottle(100, now), byClient: NewThrottle(10, now)}
}

// maxCountedID bounds the client ids kept: no client id is longer, so a
// longer one is counted under its first maxCountedID bytes and callers
// cannot grow the throttle's memory with long made-up ids.
const maxCountedID = 128

// countedID is the part of a client id the throttle counts under.
func countedID(clientID string) string { return clientID[:min(len(clientID), maxCountedID)] }

func pairKey(clientID, addr string) string {
	return countedID(clientID) + "\x00" + addr
}

// Blocked reports how long a request for clientID from addr must still
// wait, or 0.
func (a *AuthThrottle) Blocked(clientID, addr string) time.Duration {
	pair := pairKey(clientID, addr)
	wait := max(a.byPair.Blocked(pair), a.byAddr.Blocked(addr))
	if clientID != "" {
		if attacked := a.byClient.Blocked(countedID(clientID)); attacked > 0 && a.byPair.Failing(pair) {
			wait = max(wait, attacked)
		}
	}
	return wait
}

// Failed counts a failed authentication for clientID ("" when the request
// named none) from addr.
func (a *AuthThrottle) Failed(clientID, addr string) {
	if clientID != "" {
		a.byPair.Failed(pairKey(clientID, addr))
		a.byClient.Failed(countedID(clientID))
	}
	a.byAddr.Failed(addr)
}
