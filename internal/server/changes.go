package server

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/changes"
	"github.com/gatehouse/gatehouse/internal/store"
)

// watchChanges keeps this node's copies (catalog, signing keys, revoked
// JWT ids) in step with changes made through any node, by following the
// store's change feed (internal/changes), and promotes a next signing key
// the moment its publish delay ends. It runs until ctx ends.
func (s *Server) watchChanges(ctx context.Context) {
	keysChanged := make(chan struct{}, 1)
	kick := func() {
		select {
		case keysChanged <- struct{}{}:
		default:
		}
	}
	f := &changes.Follower{
		Feed: s.store,
		Log:  s.log,
		Apply: func(ctx context.Context, batch []store.Change) error {
			return s.applyChanges(ctx, batch, kick)
		},
		Reload: func(ctx context.Context) error {
			if err := s.catalog.Reload(ctx); err != nil {
				return err
			}
			if err := s.rotator.Load(ctx); err != nil {
				return err
			}
			kick()
			return s.issuer.Revocations().Sync(ctx, time.Now())
		},
	}
	s.metrics.Gauge("gatehouse_change_feed_age_seconds",
		"Seconds since this node last read the store's change feed; while the store is unreachable it grows, and the node serves from memory.",
		func() float64 {
			if last := f.LastRead(); !last.IsZero() {
				return time.Since(last).Seconds()
			}
			return -1
		})
	done := make(chan struct{})
	go func() { defer close(done); s.promoteOnTime(ctx, keysChanged) }()
	f.Run(ctx)
	<-done
}

// applyChanges refreshes what a batch of changes touched: each catalog
// entry once (reading it again gives its latest state), the key set and
// the revocations once if any of theirs changed.
func (s *Server) applyChanges(ctx context.Context, batch []store.Change, keysChanged func()) error {
	type entry struct{ kind, key string }
	seen := map[entry]bool{}
	keys, revocations := false, false
	for _, c := range batch {
		switch c.Kind {
		case store.ChangeKey:
			keys = true
		case store.ChangeRevocation:
			revocations = true
		default:
			if seen[entry{c.Kind, c.Key}] {
				continue
			}
			seen[entry{c.Kind, c.Key}] = true
			if err := s.catalog.Apply(ctx, c); err != nil {
				return err
			}
			if c.Kind == store.ChangeTrust {
				s.warmTrust(c.Key)
			}
		}
	}
	if keys {
		if err := s.rotator.Load(ctx); err != nil {
			return err
		}
		keysChanged()
	}
	if revocations {
		return s.issuer.Revocations().Sync(ctx, time.Now())
	}
	return nil
}

// promoteOnTime runs a rotation step when the earliest next key's publish
// delay ends, rather than at the next periodic step (up to 30 s later).
// Every node does, and the compare-and-swap lets one promote; the others
// find it done and load it, so all sign with the new key within moments
// of each other. keysChanged says the stored keys may have changed.
func (s *Server) promoteOnTime(ctx context.Context, keysChanged <-chan struct{}) {
	const idle, retry = time.Hour, 5 * time.Second
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		wait, due := idle, false
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ks, err := s.rotator.List(lctx)
		cancel()
		if err != nil {
			wait = retry
		} else if at, ok := nextActivation(ks); ok {
			// Not before a moment has passed, so that a key still due after
			// a step (a stale clock) cannot spin this loop.
			wait, due = max(at.Sub(s.clock()), 100*time.Millisecond), true
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-keysChanged:
			continue
		case <-timer.C:
		}
		if !due {
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = s.rotator.Tick(tctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("signing key promotion failed; will retry", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
		}
	}
}

// nextActivation is when the earliest next key may start signing.
func nextActivation(ks []store.SigningKey) (time.Time, bool) {
	var first time.Time
	for _, k := range ks {
		if k.State == store.KeyNext && (first.IsZero() || k.ActivatesAt.Before(first)) {
			first = k.ActivatesAt
		}
	}
	return first, !first.IsZero()
}

// clock is the node's time (a test's fake clock, if it set one).
func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}
