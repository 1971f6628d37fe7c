// Package fakeclock is a settable clock for tests: constructors across
// gatehouse take a clock (func() time.Time), and tests pass a Clock's Now
// to move time by hand instead of sleeping. It holds nothing else.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a settable clock, safe for handlers on other goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
