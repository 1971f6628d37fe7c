package limits

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// How the counts are shared. Each subject and window (a client's hour,
// a tenant's day) has one counter in the store. A node leases budget from
// it in chunks and spends the lease in memory, so a token request never
// waits on the store; a lease running low is topped up in the background.
// What a node lets through without a lease (a window's first request, a
// burst faster than a top-up) is credit, charged to the counter at the
// next sync, and at most one chunk of it is allowed while the node
// believes there is room: so while the store answers, a limit is passed
// by at most one chunk per node process in a window. While the store
// cannot be reached, a node goes on counting locally against the last
// count it saw, and charges what it let through when the store is back.

// Tuning of the lease loop.
const (
	// syncEvery is how often counts without a limit are written, and
	// leases retried after a failure.
	syncEvery = time.Second
	// idleReturn is how long an unused lease is kept before it is given
	// back, so that a client moving between nodes is not refused for
	// budget another node holds.
	idleReturn = 10 * time.Second
	// maxBatch bounds one call to the store.
	maxBatch = 500
)

// Chunk is the smallest lease for a limit: a 16th of it, at least 2
// (but never more than the limit) and at most 1000. It is also the most a
// node lets through on credit in a window, so a limit is passed by at
// most one Chunk per node process that served the subject in the window.
func Chunk(limit int64) int64 { return min(max((limit+15)/16, 2), 1000, max(limit, 1)) }

// leaseSize is how much to ask for: a chunk, or twice what was spent
// since the last sync when that is more (a busy subject is topped up less
// often), but never more than a quarter of the limit (leases are never
// granted past the limit, but budget leased to one node is not there for
// the others).
func leaseSize(limit, recent int64) int64 {
	return max(Chunk(limit), min(2*recent, limit/4))
}

// entryKey names an entry without building its counter key: a lookup on
// the hot path allocates nothing.
type entryKey struct {
	scope, id string // "client" or "tenant", and its id
	window    string // perSecond.suffix, ...
	start     int64  // the window's start, Unix nanoseconds
}

// counterKey is the shared counter's key in the store: "client:ID:h".
func (k entryKey) counterKey() string { return k.scope + ":" + k.id + ":" + k.window }

// parseCounterKey reads a store counter's key back; ok is false for a key
// this node does not count.
func parseCounterKey(key string, start int64) (k entryKey, w window, ok bool) {
	scope, rest, ok1 := strings.Cut(key, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok1 || i < 0 {
		return entryKey{}, window{}, false
	}
	w = windowOf(rest[i+1:])
	if w.size == 0 {
		return entryKey{}, window{}, false
	}
	return entryKey{scope: scope, id: rest[:i], window: w.suffix, start: start}, w, true
}

// entry is this node's view of one shared counter.
type entry struct {
	key   string
	start time.Time
	size  time.Duration
	limit int64 // the latest limit checked against it; 0: counted only
	// held is leased to this node and not yet spent (it is in total).
	held int64
	// owed was let through here and not yet charged to the counter.
	owed int64
	// total is the shared count at the last sync: every node's leases and
	// charges.
	total int64
	// recent counts the tokens spent since the last sync.
	recent int64
	// asked is the size of the last lease asked for.
	asked int64
	// lastUse is when a request last asked for it; synced, when the
	// store last answered for it.
	lastUse, synced time.Time
	reported        bool // an Over was reported for it
}

// entry returns the entry of key's window that holds now; l.mu is held.
func (l *Limiter) entry(now time.Time, scope, id string, w window, limit int64) *entry {
	start := now.Truncate(w.size)
	k := entryKey{scope: scope, id: id, window: w.suffix, start: start.UnixNano()}
	e := l.entries[k]
	if e == nil {
		e = &entry{key: k.counterKey(), start: start, size: w.size}
		l.entries[k] = e
	}
	if e.limit != limit {
		e.limit, e.reported = limit, false
	}
	return e
}

// allows reports whether one more token fits: from the lease; else on
// credit, at most a chunk and only while the last known count leaves
// room; or, while the store is down, by local counting alone.
func (e *entry) allows(storeDown bool) bool {
	if e.limit <= 0 || e.held > 0 {
		return true
	}
	if e.total+e.owed >= e.limit {
		return false
	}
	return storeDown || e.owed < Chunk(e.limit)
}

// remaining is what is left under the limit as this node sees it.
func (e *entry) remaining() int64 { return max(e.limit-e.used(), 0) }

// used is the count less leases unspent here.
func (e *entry) used() int64 { return e.total - e.held + e.owed }

// spend counts one token and reports whether the lease loop should run
// now (a lease running low, or credit used).
func (e *entry) spend(now time.Time) bool {
	e.lastUse = now
	e.recent++
	if e.held > 0 {
		e.held--
	} else {
		e.owed++
	}
	if e.limit <= 0 {
		return false
	}
	return e.needsLease() || e.owed >= Chunk(e.limit)
}

// needsLease reports whether the lease is down to half the last one
// asked for (or half a chunk) while the counter still has room: topping
// up before the lease runs out keeps a steady stream of requests off
// credit.
func (e *entry) needsLease() bool {
	return e.limit > 0 && e.held*2 <= max(Chunk(e.limit), e.asked) && e.total < e.limit
}

// recheck reports whether a counter seen full is worth asking again: it
// was asked for lately, and a second has passed since the store last
// answered (budget given back by other nodes, or a raised limit, shows).
func (e *entry) recheck(now time.Time) bool {
	return e.limit > 0 && e.held == 0 && e.total >= e.limit &&
		now.Sub(e.lastUse) < idleReturn && now.Sub(e.synced) >= syncEvery
}

// pending is one entry's part of a sync.
type pending struct {
	e        *entry
	charge   int64 // owed charged
	returned int64 // lease given back
}

// Load reads the shared counts of the windows open now, so that a node
// that (re)starts knows what the others let through: call it before
// serving. Entries already counting are left alone.
func (l *Limiter) Load(ctx context.Context) error {
	if l.counters == nil {
		return nil
	}
	counters, err := l.counters.ListCounters(ctx, l.now())
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range counters {
		k, w, ok := parseCounterKey(c.Key, c.Window.UnixNano())
		if !ok {
			continue
		}
		if e := l.entries[k]; e != nil {
			continue // already counting: its next sync brings the count
		}
		l.entries[k] = &entry{key: c.Key, start: c.Window, size: w.size, total: c.Total}
	}
	return nil
}

// windowOf is the window of a counter key's suffix.
func windowOf(suffix string) window {
	for _, w := range []window{perSecond, perHour, perDay} {
		if suffix == w.suffix {
			return w
		}
	}
	return window{}
}

// Run keeps the leases topped up and the counts written until ctx ends,
// then gives back unspent leases and writes what is owed.
func (l *Limiter) Run(ctx context.Context) {
	if l.counters == nil {
		return
	}
	tick := time.NewTicker(syncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			l.sync(final, true)
			cancel()
			return
		case <-l.wake:
		case <-tick.C:
		}
		l.sync(ctx, false)
	}
}

// Down reports whether the last sync failed: limits are then counted on
// this node only.
func (l *Limiter) Down() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// sync charges what is owed, tops up leases running low and gives back
// idle ones (all of them when closing), in batches.
func (l *Limiter) sync(ctx context.Context, closing bool) error {
	if l.counters == nil {
		return nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	leases, parts := l.collect(closing)
	var errs []error
	for len(leases) > 0 {
		n := min(len(leases), maxBatch)
		grants, err := l.counters.LeaseCounters(ctx, leases[:n])
		l.apply(parts[:n], grants, err)
		errs = append(errs, err)
		leases, parts = leases[n:], parts[n:]
	}
	return errors.Join(errs...)
}

// collect takes what to send from every entry, dropping entries of
// windows that ended with nothing owed.
func (l *Limiter) collect(closing bool) ([]store.CounterLease, []pending) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var leases []store.CounterLease
	var parts []pending
	for k, e := range l.entries {
		end := e.start.Add(e.size)
		ended := !now.Before(end)
		if ended && e.owed == 0 {
			delete(l.entries, k) // an unspent lease lapses with its window
			continue
		}
		p := pending{e: e, charge: e.owed}
		var want int64
		switch {
		case closing || (ended && e.held > 0) || (e.held > 0 && now.Sub(e.lastUse) > idleReturn):
			p.returned, e.held = e.held, 0
		case !ended && (e.needsLease() || e.recheck(now)):
			e.asked = leaseSize(e.limit, e.recent)
			want = max(e.asked-e.held, 0)
		}
		e.recent = 0
		if p.charge == 0 && p.returned == 0 && want == 0 {
			continue
		}
		leases = append(leases, store.CounterLease{Key: e.key, Window: e.start, ExpiresAt: end,
			Limit: e.limit, Charge: p.charge - p.returned, Want: want})
		parts = append(parts, p)
	}
	return leases, parts
}

// apply records the store's answers (or, on err, puts back what was taken
// so that it is sent again).
func (l *Limiter) apply(parts []pending, grants []store.CounterGrant, err error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = err != nil
	for i, p := range parts {
		if err != nil {
			p.e.held += p.returned
			continue
		}
		p.e.owed -= p.charge
		p.e.held += grants[i].Granted
		p.e.total = grants[i].Total
		p.e.synced = now
	}
}
