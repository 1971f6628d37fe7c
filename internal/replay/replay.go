package replay

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrReplayed is returned for an id that was used before.
var ErrReplayed = errors.New("replay: already used")

// Shared is the table every node claims ids in (the store).
type Shared interface {
	// ClaimIDs records each id until its expiry and reports, in order,
	// which of them were not recorded before.
	ClaimIDs(ctx context.Context, ids []ID) (fresh []bool, err error)
}

// ID is one identifier and when it stops mattering (the expiry of what it
// identifies; past it the thing is refused anyway).
type ID struct {
	Key       string
	ExpiresAt time.Time
}

// maxBatch bounds one shared claim.
const maxBatch = 256

// maxEntries bounds the memory; past it, expired entries are swept and,
// if still full, new ids are refused rather than forgotten.
const maxEntries = 1_000_000

// Cache remembers used ids until they expire.
type Cache struct {
	shared  Shared
	timeout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	swept time.Time

	pending chan claim
}

type claim struct {
	id    ID
	reply chan error
}

// New returns a Cache. shared may be nil (one node: memory is the truth);
// timeout bounds a shared claim, after which the id counts as used on this
// node only; now is the clock (nil: time.Now). With a shared table, Run
// must be running for Use to get answers.
func New(shared Shared, timeout time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{shared: shared, timeout: timeout, now: now, seen: map[string]time.Time{}, pending: make(chan claim, maxBatch)}
}

// Use marks id used. It returns ErrReplayed when id was used before (on
// this node, or on another that shares the table), or ctx's error.
func (c *Cache) Use(ctx context.Context, id ID) error {
	now := c.now()
	if !now.Before(id.ExpiresAt) {
		return ErrReplayed // expired ids are never accepted, so never remembered
	}
	if err := c.local(id, now); err != nil {
		return err
	}
	if c.shared == nil {
		return nil
	}
	cl := claim{id: id, reply: make(chan error, 1)}
	select {
	case c.pending <- cl:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-cl.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// local records id in memory, or reports it seen.
func (c *Cache) local(id ID, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[id.Key]; ok && now.Before(exp) {
		return ErrReplayed
	}
	if len(c.seen) >= maxEntries || now.Sub(c.swept) > time.Minute {
		c.sweep(now)
		if len(c.seen) >= maxEntries {
			return ErrReplayed
		}
	}
	c.seen[id.Key] = id.ExpiresAt
	return nil
}

func (c *Cache) sweep(now time.Time) {
	c.swept = now
	for k, exp := range c.seen {
		if !now.Before(exp) {
			delete(c.seen, k)
		}
	}
}

// Run claims pending ids in the shared table in batches until ctx is done.
func (c *Cache) Run(ctx context.Context) {
	if c.shared == nil {
		return
	}
	batch := make([]claim, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case cl := <-c.pending:
			batch = append(batch[:0], cl)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case cl := <-c.pending:
				batch = append(batch, cl)
			default:
				break drain
			}
		}
		c.flush(ctx, batch)
	}
}

// flush claims one batch. An id the table already held is a replay; when
// the table cannot be reached, the memory's answer stands.
func (c *Cache) flush(ctx context.Context, batch []claim) {
	ids := make([]ID, len(batch))
	for i, cl := range batch {
		ids[i] = cl.id
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	fresh, err := c.shared.ClaimIDs(cctx, ids)
	cancel()
	if err == nil && len(fresh) != len(ids) {
		err = errors.New("replay: shared table answered for the wrong number of ids")
	}
	for i, cl := range batch {
		switch {
		case err != nil:
			cl.reply <- nil
		case !fresh[i]:
			cl.reply <- ErrReplayed
		default:
			cl.reply <- nil
		}
	}
}
