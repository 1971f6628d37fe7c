package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/snapshot"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

const snapshotPurpose = "gatehouse snapshot v1"

// A node serving from its snapshot tries the database every snapshotRetry.
const snapshotRetry = 2 * time.Second

// openSnapshot is New's way out when the database cannot be reached at
// start: the store opened without connecting, behind the snapshot in the
// data directory. Any other failure to open, or no snapshot to start
// from, is the error openErr, as before.
func openSnapshot(ctx context.Context, cfg config.Config, dsn string, openErr error, log *slog.Logger) (*snapshot.Store, error) {
	if !sqlstore.IsPostgres(dsn) {
		return nil, openErr
	}
	db, err := sqlstore.OpenUnprepared(ctx, dsn)
	if err != nil {
		return nil, openErr
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.Ping(pctx); !errors.Is(err, store.ErrUnavailable) {
		db.Close()
		return nil, openErr // the database answers: the failure was something else
	}
	kek, err := keys.LoadKEK(cfg.KEK, cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	data, err := snapshot.Read(cfg.DataDir, kek.DeriveKey(snapshotPurpose))
	if err != nil {
		db.Close()
		if errors.Is(err, snapshot.ErrCorrupt) {
			return nil, fmt.Errorf("%w\n  and the snapshot in %s cannot be used: %v", openErr, cfg.DataDir, err)
		}
		return nil, fmt.Errorf("%w\n  and there is no snapshot in %s to start from (a node writes one once it has reached the database)", openErr, cfg.DataDir)
	}
	log.Warn("the database cannot be reached: starting from the snapshot; admin writes are refused until it answers",
		"snapshot_written_at", data.WrittenAt, "clients", len(data.Clients), "err", openErr)
	return snapshot.NewStore(db, data), nil
}

// keepSnapshot runs on a node of a shared database until ctx ends: first,
// if the node started from its snapshot, it waits for the database and
// switches to it; then it writes a new snapshot whenever the change feed
// has moved, waiting after a write at least cfg.SnapshotEvery, or ten
// times the write's duration if that is longer, so that a large catalog
// under steady changes costs the database a bounded share of its time.
func (s *Server) keepSnapshot(ctx context.Context) {
	if s.fromSnapshot != nil && !s.waitForDatabase(ctx) {
		return
	}
	every := s.cfg.SnapshotEvery
	if every <= 0 {
		return
	}
	written := int64(-1)
	var next time.Time
	tick := time.NewTicker(min(every, 10*time.Second))
	defer tick.Stop()
	for {
		if time.Now().After(next) {
			latest, err := s.store.LatestChange(ctx)
			if err == nil && latest != written {
				start := time.Now()
				if err = s.writeSnapshot(ctx); err == nil {
					written = latest
					next = start.Add(max(every, 10*time.Since(start)))
				}
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("writing the snapshot failed; the previous one stays", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) writeSnapshot(ctx context.Context) error {
	d, err := snapshot.Copy(ctx, s.store, time.Now())
	if err != nil {
		return err
	}
	return snapshot.Write(s.cfg.DataDir, s.snapshotKey, d)
}

// waitForDatabase tries the database until it answers and its migrations
// are applied, then sends every read to it: the change follower, which
// could not read the feed meanwhile, then reloads everything from it.
func (s *Server) waitForDatabase(ctx context.Context) bool {
	db, ok := s.fromSnapshot.Store.(*sqlstore.Store)
	if !ok {
		return false
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := db.Prepare(pctx)
		cancel()
		if err == nil {
			s.fromSnapshot.Live()
			s.log.Info("the database answers again: serving from it, no longer from the snapshot")
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(snapshotRetry):
		}
	}
}
