package audit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// flakyStore fails its first failures writes, then keeps what it gets.
type flakyStore struct {
	mu       sync.Mutex
	failures int
	events   []store.AuditEvent
}

func (f *flakyStore) AppendAudit(ctx context.Context, events []store.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("database restarting")
	}
	f.events = append(f.events, events...)
	return nil
}
func (f *flakyStore) ListAudit(context.Context, store.AuditFilter) ([]store.AuditEvent, error) {
	return nil, nil
}
func (f *flakyStore) PurgeAudit(context.Context, time.Time) (int64, error) { return 0, nil }

func (f *flakyStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

func TestRecorderHoldsAndRetries(t *testing.T) {
	st := &flakyStore{failures: 2}
	r := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.FlushEvery, r.MaxBatch = 10*time.Millisecond, 7
	r.Start()
	for i := 0; i < 50; i++ {
		r.Record("token.issued", "c1", "c1", "https://a", map[string]int{"i": i})
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.count(); got != 50 {
		t.Fatalf("after two failed writes and Close: %d events stored, want 50", got)
	}
	seen := map[string]bool{}
	for i, e := range st.events {
		if seen[e.ID] {
			t.Errorf("event %d: id %s written twice", i, e.ID)
		}
		seen[e.ID] = true
		// Ids order events to the microsecond.
		if i > 0 && e.ID < st.events[i-1].ID && e.At.Truncate(time.Microsecond).After(st.events[i-1].At.Truncate(time.Microsecond)) {
			t.Errorf("ids are not time-ordered: %s after %s", e.ID, st.events[i-1].ID)
		}
	}
}

func TestRecorderDropsOldestPastTheBound(t *testing.T) {
	st := &flakyStore{failures: 1 << 30}
	r := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.MaxQueued = 10
	dropped := 0
	r.OnDrop = func(n int) { dropped += n }
	for i := 0; i < 25; i++ {
		r.Record("k", "a", "", "", nil)
	}
	if r.Len() != 10 || dropped != 15 {
		t.Errorf("got %d queued and %d dropped, want 10 and 15", r.Len(), dropped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r.Start()
	if err := r.Close(ctx); err == nil {
		t.Errorf("Close with an unreachable store: got nil, want the error once ctx ends")
	}
}

func TestEventIDKeepsItsForm(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 47, 45, 123456789, time.UTC)
	var buf [eventIDMax]byte
	id := string(appendEventID(buf[:0], at))
	if want := strconv.FormatInt(at.UnixMicro(), 36); len(id) != len(want)+10 || id[:len(want)] != want || !isAlnum(id[len(want):]) {
		t.Errorf("got %q, want %s and 10 characters of [A-Za-z0-9]", id, want)
	}
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
