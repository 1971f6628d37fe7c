package changes

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Defaults of a Follower's timing.
const (
	DefaultPoll       = time.Second
	DefaultBatch      = 500
	DefaultKeep       = time.Hour
	DefaultPruneEvery = 10 * time.Minute
)

// Follower applies the store's changes to a node's copies, in order.
type Follower struct {
	Feed store.ChangeFeed
	// Apply brings the node's copies up to date with a batch of changes,
	// in id order. An error leaves the follower where it was: the batch is
	// read and applied again (so applying must be idempotent, as reading
	// an entry again is).
	Apply func(ctx context.Context, batch []store.Change) error
	// Reload reads everything again.
	Reload func(ctx context.Context) error
	Log    *slog.Logger

	// Poll is how often the feed is read without a notice (DefaultPoll).
	Poll time.Duration
	// Batch bounds one read of the feed (DefaultBatch).
	Batch int
	// Keep is how long changes stay in the feed (DefaultKeep): a node away
	// for longer reloads everything. Pruning runs every PruneEvery.
	Keep, PruneEvery time.Duration
	// From, when above zero, is a feed position the node's copies are
	// already current with (read before they were loaded): Run then
	// catches up from there instead of starting with a full reload, which
	// a node that has just loaded a million clients need not repeat.
	From int64

	cursor   atomic.Int64
	lastRead atomic.Int64 // unix nanoseconds of the last successful read
	failing  bool         // the last read failed (logged once, not every poll)
	relisten chan struct{}
}

// Cursor is the id of the last change applied.
func (f *Follower) Cursor() int64 { return f.cursor.Load() }

// LastRead is when the feed was last read successfully (zero: never).
func (f *Follower) LastRead() time.Time {
	if n := f.lastRead.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run follows the feed until ctx ends. It starts with a full reload (or
// from From), so that nothing committed before it started is missed.
func (f *Follower) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	f.relisten = make(chan struct{}, 1)
	listening := make(chan struct{})
	go func() { defer close(listening); f.listen(ctx, wake) }()
	defer func() { <-listening }()
	poll := time.NewTicker(or(f.Poll, DefaultPoll))
	defer poll.Stop()
	prune := time.NewTicker(or(f.PruneEvery, DefaultPruneEvery))
	defer prune.Stop()
	synced := false
	if f.From > 0 {
		f.cursor.Store(f.From)
		synced = true
	}
	for {
		synced = f.step(ctx, synced)
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-wake:
		case <-f.relisten:
			synced = false
		case <-prune.C:
			f.prune(ctx)
		}
	}
}

// Bounds of one step, so that a database that stops answering without
// closing the connection cannot hold the follower for long.
const (
	catchUpTimeout = 30 * time.Second
	reloadTimeout  = 2 * time.Minute
)

// step catches up, or reloads everything when not synced (or when catching
// up finds it must), and reports whether the node is now in step.
func (f *Follower) step(ctx context.Context, synced bool) bool {
	var err error
	if synced {
		sctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
		synced, err = f.catchUp(sctx)
		cancel()
	}
	if !synced && err == nil {
		sctx, cancel := context.WithTimeout(ctx, reloadTimeout)
		err = f.resync(sctx)
		cancel()
		synced = err == nil
	}
	f.report(ctx, err)
	return synced
}

// resync reloads everything and continues from the feed's end as it was
// before the reload began: changes committed meanwhile are applied again,
// harmlessly; none is skipped.
func (f *Follower) resync(ctx context.Context) error {
	latest, err := f.Feed.LatestChange(ctx)
	if err != nil {
		return err
	}
	if err := f.Reload(ctx); err != nil {
		return err
	}
	f.cursor.Store(latest)
	return nil
}

// catchUp applies every change after the cursor. It reads the feed's end
// first: an idle poll costs that one read, and since changes become visible
// in id order, every change up to that end is readable by the time the
// feed itself is read. So when the next one is missing it was pruned while
// this node could not read it, and catchUp reports false: a full reload is
// needed. So it is when the feed's end is behind the cursor (a database
// restored from a backup).
func (f *Follower) catchUp(ctx context.Context) (bool, error) {
	batch := or(f.Batch, DefaultBatch)
	for {
		after := f.cursor.Load()
		latest, err := f.Feed.LatestChange(ctx)
		if err != nil || latest == after {
			return true, err
		}
		if latest < after {
			f.Log.Warn("the store's changes end before this node's position (a restored database?); reloading everything", "cursor", after, "latest", latest)
			return false, nil
		}
		cs, err := f.Feed.ChangesSince(ctx, after, batch)
		if err != nil {
			return true, err
		}
		if len(cs) == 0 || cs[0].ID != after+1 {
			f.Log.Warn("changes were pruned before this node read them; reloading everything", "cursor", after, "latest", latest)
			return false, nil
		}
		if err := f.Apply(ctx, cs); err != nil {
			return true, err
		}
		f.cursor.Store(cs[len(cs)-1].ID)
		if cs[len(cs)-1].ID >= latest {
			return true, nil
		}
	}
}

// report records a read's outcome, logging only when it starts or stops failing.
func (f *Follower) report(ctx context.Context, err error) {
	switch {
	case err == nil:
		if f.failing {
			f.Log.Info("following the store's changes again", "cursor", f.cursor.Load())
		}
		f.failing = false
		f.lastRead.Store(time.Now().UnixNano())
	case ctx.Err() != nil:
	case !f.failing:
		f.failing = true
		f.Log.Warn("cannot read the store's changes; serving from memory until it answers", "err", err)
	}
}

func (f *Follower) prune(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	n, err := f.Feed.PruneChanges(pctx, time.Now().Add(-or(f.Keep, DefaultKeep)))
	if err != nil && ctx.Err() == nil {
		f.Log.Warn("pruning old changes failed", "err", err)
	} else if n > 0 {
		f.Log.Debug("pruned old changes", "rows", n)
	}
}

// listen holds a notification subscription open, waking Run on each
// notice. After a lost subscription comes back it asks Run for a full
// reload, in case notices and (after a long gap) changes were missed.
func (f *Follower) listen(ctx context.Context, wake chan<- struct{}) {
	nudge := func(ch chan<- struct{}) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	backoff, connected := time.Duration(0), false
	for ctx.Err() == nil {
		l, err := f.Feed.ListenChanges(ctx)
		if errors.Is(err, store.ErrNotSupported) {
			return // polling alone
		}
		if err != nil {
			backoff = min(max(2*backoff, 500*time.Millisecond), 15*time.Second)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		if connected {
			f.Log.Info("change notifications are back; reloading everything")
			nudge(f.relisten)
		}
		backoff, connected = 0, true
		for {
			if err := l.Wait(ctx); err != nil {
				break
			}
			nudge(wake)
		}
		l.Close()
	}
}
