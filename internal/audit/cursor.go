package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// A reader of the spool keeps its place in a cursor file next to the
// segments, "<name>.cursor", written atomically (temporary file, fsync,
// rename, fsync of the directory) after each delivered batch. A crash
// between a delivery and the cursor write delivers that batch again:
// delivery is at least once, and the store ignores event ids it holds.

func (s *Spool) cursorPath(name string) string { return filepath.Join(s.dir, name+".cursor") }

// LoadCursor returns a reader's saved position; ok is false when it has none.
func (s *Spool) LoadCursor(name string) (p Position, ok bool, err error) {
	data, err := os.ReadFile(s.cursorPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("audit spool cursor %s: %w", name, err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return Position{}, false, fmt.Errorf("audit spool cursor %s: %w", name, err)
	}
	return p, true, nil
}

// SaveCursor durably records a reader's position.
func (s *Spool) SaveCursor(name string, p Position) error {
	data, _ := json.Marshal(p)
	path := s.cursorPath(name)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("audit spool cursor: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("audit spool cursor: %w", err)
	}
	return syncDir(s.dir)
}

// reader delivers spooled records in order from its durable cursor.
type reader struct {
	name    string
	sp      *Spool
	max     int
	deliver func(ctx context.Context, payloads [][]byte) error
	log     *slog.Logger

	mu        sync.Mutex
	pos       Position
	delivered atomic.Int64
}

// newReader opens the reader called name at its saved cursor. Without one
// it starts at start; with a damaged one, at the oldest segment (delivering
// again rather than losing).
func newReader(sp *Spool, name string, start Position, max int, log *slog.Logger,
	deliver func(context.Context, [][]byte) error) *reader {
	r := &reader{name: name, sp: sp, max: max, deliver: deliver, log: log}
	p, ok, err := sp.LoadCursor(name)
	switch {
	case err != nil:
		log.Warn("audit spool: cursor unreadable; starting from the oldest segment", "reader", name, "err", err)
		p = sp.Oldest()
	case !ok:
		p = start
	case sp.First().before(p):
		// Past anything a past process wrote: the segments it names were
		// lost (a machine crash). Start again from what is there.
		log.Warn("audit spool: cursor is past the spool's end; starting from the oldest segment", "reader", name)
		p = sp.Oldest()
	}
	r.pos = p
	sp.Track(name, p)
	return r
}

// step delivers one batch; it returns how many records it delivered.
func (r *reader) step(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	payloads, next, err := r.sp.Read(r.pos, r.max)
	if err != nil {
		return 0, err
	}
	if next == r.pos {
		return 0, nil
	}
	if len(payloads) > 0 {
		if err := r.deliver(ctx, payloads); err != nil {
			return 0, err
		}
		r.delivered.Add(int64(len(payloads)))
	}
	r.pos = next
	if err := r.sp.SaveCursor(r.name, next); err != nil {
		// Delivered but not recorded: a restart delivers it again.
		return len(payloads), err
	}
	r.sp.Release(r.name, next)
	return len(payloads), nil
}

// drain delivers until it has caught up with the writer.
func (r *reader) drain(ctx context.Context) error {
	for {
		n, err := r.step(ctx)
		if err != nil || n < r.max {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
