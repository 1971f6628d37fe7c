// Package audit records who did what and when: admin changes and token
// issuance. Events are queued in memory and written to the store in
// batches off the request path, so the token endpoint never waits on the
// database; a failed batch is kept and retried (the database may be
// restarting), and Close writes everything still queued.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Recorder queues events and writes them in batches.
type Recorder struct {
	st  store.AuditStore
	log *slog.Logger
	now func() time.Time

	// FlushEvery bounds how long an event waits before it is written.
	FlushEvery time.Duration
	// MaxBatch bounds one write.
	MaxBatch int
	// MaxQueued bounds memory while the store is unreachable; past it the
	// oldest events are dropped (and counted).
	MaxQueued int
	// OnDrop, when set, hears how many events were dropped.
	OnDrop func(n int)

	mu    sync.Mutex
	queue []store.AuditEvent
	// dropped counts events dropped from the queue's front, so a flush
	// that raced with drops removes only what it wrote.
	dropped int
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// New returns a Recorder over st; Start runs its writer.
func New(st store.AuditStore, log *slog.Logger) *Recorder {
	return &Recorder{
		st: st, log: log, now: time.Now,
		FlushEvery: 500 * time.Millisecond, MaxBatch: 1000, MaxQueued: 1_000_000,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// Record queues one event. It never blocks on the database.
func (r *Recorder) Record(kind, actor, clientID, target string, detail any) {
	d, err := json.Marshal(detail)
	if err != nil {
		d = []byte(`{}`)
	}
	at := r.now().UTC()
	e := store.AuditEvent{
		ID: eventID(at), At: at, Kind: kind, Actor: actor,
		ClientID: clientID, Target: target, Detail: string(d),
	}
	r.mu.Lock()
	r.queue = append(r.queue, e)
	full := len(r.queue) >= r.MaxBatch
	if over := len(r.queue) - r.MaxQueued; over > 0 {
		r.queue = r.queue[over:]
		r.dropped += over
		if r.OnDrop != nil {
			r.OnDrop(over)
		}
	}
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// eventID is time-ordered (so new rows append to the primary key's index)
// and unique (a random tail).
func eventID(at time.Time) string {
	return strconv.FormatInt(at.UnixMicro(), 36) + secret.RandomAlnum(10)
}

// Start runs the writer until Close.
func (r *Recorder) Start() {
	go func() {
		defer close(r.stopped)
		t := time.NewTicker(r.FlushEvery)
		defer t.Stop()
		backoff := time.Duration(0)
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			case <-r.kick:
			}
			if backoff > 0 {
				select {
				case <-r.stop:
					return
				case <-time.After(backoff):
				}
			}
			if err := r.Flush(context.Background()); err != nil {
				backoff = min(max(2*backoff, time.Second), 30*time.Second)
				r.log.Warn("audit events not written yet; will retry", "err", err, "queued", r.Len())
			} else {
				backoff = 0
			}
		}
	}()
}

// Len is how many events wait to be written.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Flush writes queued events in batches; on error the unwritten ones stay queued.
func (r *Recorder) Flush(ctx context.Context) error {
	for {
		r.mu.Lock()
		n := min(len(r.queue), r.MaxBatch)
		batch := append([]store.AuditEvent(nil), r.queue[:n]...)
		droppedBefore := r.dropped
		r.mu.Unlock()
		if n == 0 {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.st.AppendAudit(wctx, batch)
		cancel()
		if err != nil {
			return err
		}
		r.mu.Lock()
		// Record only appends, or drops from the front past MaxQueued: what
		// is left of the batch at the front is what was written.
		written := max(n-(r.dropped-droppedBefore), 0)
		r.queue = r.queue[min(written, len(r.queue)):]
		r.mu.Unlock()
	}
}

// Close stops the writer and writes what is queued, trying until ctx ends.
func (r *Recorder) Close(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	<-r.stopped
	for {
		err := r.Flush(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			r.log.Error("audit events lost at shutdown", "err", err, "queued", r.Len())
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}
