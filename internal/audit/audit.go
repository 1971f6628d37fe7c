package audit

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
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
	// ExportEvery is how often the exporter looks for new events;
	// ExportBackoff its first wait after a failure (doubling to a minute).
	ExportEvery, ExportBackoff time.Duration

	mu    sync.Mutex
	queue []store.AuditEvent
	// dropped counts events dropped from the queue's front, so a flush
	// that raced with drops removes only what it wrote.
	dropped int
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	started atomic.Bool

	// spool, when set, holds every event durably before Record returns;
	// ship carries spooled events to the store, export to the sink.
	spool     *Spool
	ship      *reader
	export    *exporter
	spoolErrs atomic.Int64
	appended  atomic.Int64
}

// New returns a Recorder over st; Start runs its writer.
func New(st store.AuditStore, log *slog.Logger) *Recorder {
	return &Recorder{
		st: st, log: log, now: time.Now,
		FlushEvery: 500 * time.Millisecond, MaxBatch: 1000, MaxQueued: 1_000_000,
		ExportEvery: time.Second, ExportBackoff: time.Second,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// NewDurable returns a Recorder whose events are appended to sp before
// Record returns, shipped from there to st in batches (a restart ships
// what a crashed process left), and, with a sink, exported to it.
func NewDurable(st store.AuditStore, sp *Spool, sink Sink, log *slog.Logger) *Recorder {
	r := New(st, log)
	r.spool = sp
	r.ship = newReader(sp, "store", sp.Oldest(), r.MaxBatch, log, func(ctx context.Context, payloads [][]byte) error {
		return st.AppendAudit(ctx, decodeEvents(payloads, log))
	})
	if sink != nil {
		r.export = newExporter(sp, sink, log)
	}
	return r
}

// Record keeps one event: with a spool it returns once the event is in
// the spool file; it never waits on the database. A detail that is a
// DetailAppender writes its own JSON; any other goes through encoding/json.
func (r *Recorder) Record(kind, actor, clientID, target string, detail any) {
	at := r.now().UTC()
	var idBuf [eventIDMax]byte
	id := appendEventID(idBuf[:0], at)
	rb := getRecordBuffer()
	defer putRecordBuffer(rb)
	d := rb.encodeDetail(detail)
	if r.spool != nil {
		rb.line = appendEvent(rb.line[:0], id, at, kind, actor, clientID, target, d)
		err := r.spool.Append(rb.line)
		if err == nil {
			r.appended.Add(1)
			return
		}
		// Keep it in memory (shipped like before) rather than lose it or
		// refuse the request; the metric and the log say so.
		if n := r.spoolErrs.Add(1); n == 1 || n%1000 == 0 {
			r.log.Error("audit spool not writable; keeping events in memory", "err", err, "events", n)
		}
	}
	e := store.AuditEvent{
		ID: string(id), At: at, Kind: kind, Actor: actor,
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

// eventIDMax bounds an event id's length: a base-36 int64 and the tail.
const eventIDMax = 14 + 10

// appendEventID appends an event id: time-ordered (so new rows append to
// the primary key's index) and unique (a random tail).
func appendEventID(b []byte, at time.Time) []byte {
	b = strconv.AppendInt(b, at.UnixMicro(), 36)
	return secret.AppendRandomAlnum(b, 10)
}

// Start runs the writer (and the exporter) until Close.
func (r *Recorder) Start() {
	if r.export != nil {
		r.export.start(r.ExportEvery, r.ExportBackoff)
	}
	r.started.Store(true)
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

// Len is how many events wait to be written to the store (of those
// recorded since this process started).
func (r *Recorder) Len() int {
	r.mu.Lock()
	n := len(r.queue)
	r.mu.Unlock()
	if r.ship != nil {
		n += int(max(r.appended.Load()-r.ship.delivered.Load(), 0))
	}
	return n
}

// Spool is the recorder's spool, or nil when it keeps events in memory.
func (r *Recorder) Spool() *Spool { return r.spool }

// SpoolErrors is how many events were kept in memory because the spool
// could not be written.
func (r *Recorder) SpoolErrors() int64 { return r.spoolErrs.Load() }

// Exported is how many events reached the export sink, and how many
// deliveries to it failed.
func (r *Recorder) Exported() (events, failures int64) {
	if r.export == nil {
		return 0, 0
	}
	return r.export.r.delivered.Load(), r.export.failures.Load()
}

// Flush writes spooled and queued events in batches; on error the
// unwritten ones stay where they are.
func (r *Recorder) Flush(ctx context.Context) error {
	if r.ship != nil {
		if err := r.ship.drain(ctx); err != nil {
			return err
		}
	}
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

// Close stops the writer and writes what is queued, trying until ctx
// ends; spooled events it cannot write stay in the spool for the next
// start. The exporter gets one last try.
func (r *Recorder) Close(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	if r.started.Load() {
		<-r.stopped
	}
	if r.spool != nil {
		r.spool.Close()
	}
	if r.export != nil {
		defer r.export.close(ctx)
	}
	for {
		err := r.Flush(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if r.spool != nil {
				r.log.Warn("audit events not in the store yet; the spool keeps them for the next start", "err", err)
			} else {
				r.log.Error("audit events lost at shutdown", "err", err, "queued", r.Len())
			}
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}
