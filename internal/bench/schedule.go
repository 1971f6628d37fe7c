package bench

import (
	"sync/atomic"
	"time"
)

// schedule hands out the send times of an open-loop run: slot i is due at
// start + i/rate, whatever happened to the slots before it, so a slow
// server cannot slow the arrivals down (coordinated omission).
type schedule struct {
	start time.Time
	end   time.Time
	rate  float64
	slots uint64
	next  atomic.Uint64
}

// newSchedule returns the schedule of rate sends per second over d from
// start, or nil when rate is zero (closed loop).
func newSchedule(start time.Time, d time.Duration, rate float64) *schedule {
	if rate <= 0 {
		return nil
	}
	return &schedule{start: start, end: start.Add(d), rate: rate, slots: uint64(d.Seconds() * rate)}
}

// at returns slot i's intended send time.
func (s *schedule) at(i uint64) time.Time {
	return s.start.Add(time.Duration(float64(i) / s.rate * float64(time.Second)))
}

// take claims the next slot and returns its time; false when every slot
// has been taken.
func (s *schedule) take() (time.Time, bool) {
	i := s.next.Add(1) - 1
	if i >= s.slots {
		return time.Time{}, false
	}
	return s.at(i), true
}
