package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/store"
)

// changesChannel is the PostgreSQL NOTIFY channel that wakes nodes.
const changesChannel = "gatehouse_changes"

// recordChange appends one change inside tx, as its last statement. The id
// comes from the one-row counter, which tx then holds locked until it
// commits or rolls back: so ids have no gaps (a rollback undoes the
// increment) and no later id is visible before an earlier one. Taking the
// counter last keeps the lock short and the lock order the same in every
// transaction (the entity's row, then the counter), so writers cannot
// deadlock on it.
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, kind, key string) error {
	var id int64
	if err := tx.QueryRowContext(ctx, `UPDATE change_counter SET last_id = last_id + 1 WHERE one = 1 RETURNING last_id`).Scan(&id); err != nil {
		return s.wrap(fmt.Errorf("recording the change: %w", err))
	}
	if _, err := tx.ExecContext(ctx, s.f.rebind(`INSERT INTO changes (id, kind, entity_key, at) VALUES (?, ?, ?, ?)`),
		id, kind, key, time.Now().UnixMicro()); err != nil {
		return s.wrap(fmt.Errorf("recording the change: %w", err))
	}
	if s.f.notify != "" {
		// Delivered at commit, and only if tx commits.
		if _, err := tx.ExecContext(ctx, s.f.notify, changesChannel); err != nil {
			return s.wrap(fmt.Errorf("notifying the change: %w", err))
		}
	}
	return nil
}

// execChange runs one INSERT, UPDATE or DELETE and records its change, in
// one transaction. A DELETE that removes nothing is store.ErrNotFound.
func (s *Store) execChange(ctx context.Context, what, kind, key, query string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.f.rebind(query), args...)
		if err != nil {
			return s.writeErr(what, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.wrap(err)
		} else if n == 0 {
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		}
		return s.recordChange(ctx, tx, kind, key)
	})
}

func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	return listRows(ctx, s, scanChange, `SELECT id, kind, entity_key, at FROM changes WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func scanChange(r row) (store.Change, error) {
	var c store.Change
	var at int64
	err := r.Scan(&c.ID, &c.Kind, &c.Key, &at)
	c.At = fromMicros(at)
	return c, err
}

func (s *Store) LatestChange(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT last_id FROM change_counter WHERE one = 1`).Scan(&id)
	return id, s.wrap(err)
}

func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM changes WHERE at < ?`, micros(before))
	if err != nil {
		return 0, s.wrap(err)
	}
	n, err := res.RowsAffected()
	return n, s.wrap(err)
}

// listenHeartbeat is how long a quiet subscription waits before it checks
// that its connection is still alive (a silently dropped connection would
// otherwise never deliver a notice again, nor an error).
const listenHeartbeat = 30 * time.Second

// ListenChanges opens a dedicated connection (outside the pool) that
// LISTENs on the changes channel. SQLite has no notifications.
func (s *Store) ListenChanges(ctx context.Context) (store.ChangeListener, error) {
	if s.f.notify == "" {
		return nil, fmt.Errorf("listening for changes on %s: %w", s.f.name, store.ErrNotSupported)
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return nil, s.wrap(err)
	}
	var schema string
	err = conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema)
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+changesChannel)
	}
	if err != nil {
		conn.Close(context.Background())
		return nil, s.wrap(err)
	}
	return &pgListener{s: s, conn: conn, schema: schema, heartbeat: listenHeartbeat}, nil
}

type pgListener struct {
	s         *Store
	conn      *pgx.Conn
	schema    string // notices from other schemas are not ours
	heartbeat time.Duration
}

func (l *pgListener) Wait(ctx context.Context) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.heartbeat)
		n, err := l.conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil && n.Payload == l.schema:
			return nil
		case err == nil:
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() == nil:
			return lost(l.s.wrap(err))
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = l.conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return lost(err)
		}
	}
}

func (l *pgListener) Close() error { return l.conn.Close(context.Background()) }

// lost marks a failed subscription as the database being unreachable.
func lost(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: listening for changes: %v", store.ErrUnavailable, err)
}
