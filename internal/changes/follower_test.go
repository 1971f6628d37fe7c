package changes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// feed is a real (SQLite) feed whose notices the test sends by hand.
type feed struct {
	*sqlstore.Store
	listeners chan *listener // nil: no notifications, as SQLite
}

func (f *feed) ListenChanges(ctx context.Context) (store.ChangeListener, error) {
	if f.listeners == nil {
		return f.Store.ListenChanges(ctx)
	}
	l := &listener{notices: make(chan struct{}), lost: make(chan struct{})}
	select {
	case f.listeners <- l:
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type listener struct{ notices, lost chan struct{} }

func (l *listener) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-l.notices:
		return nil
	case <-l.lost:
		return fmt.Errorf("%w: connection lost", store.ErrUnavailable)
	}
}

func (l *listener) Close() error { return nil }

// node is what a follower keeps up to date: it records what it was told.
type node struct {
	mu      sync.Mutex
	applied []int64
	reloads int
	failing int // Apply calls still to fail
}

func (n *node) Apply(ctx context.Context, batch []store.Change) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failing > 0 {
		n.failing--
		return errors.New("refresh failed")
	}
	for _, c := range batch {
		n.applied = append(n.applied, c.ID)
	}
	return nil
}

func (n *node) Reload(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reloads++
	return nil
}

func (n *node) state() ([]int64, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.applied), n.reloads
}

// run starts a follower over f and stops it when the test ends.
func run(t *testing.T, f store.ChangeFeed, poll time.Duration, edit func(*Follower)) (*Follower, *node) {
	t.Helper()
	n := &node{}
	fl := &Follower{Feed: f, Apply: n.Apply, Reload: n.Reload, Poll: poll, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(fl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return fl, n
}

// eventually polls cond for up to 3 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newFeed(t *testing.T, notices bool) *feed {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: got %v, want nil", err)
	}
	t.Cleanup(func() { st.Close() })
	f := &feed{Store: st}
	if notices {
		f.listeners = make(chan *listener)
	}
	return f
}

func write(t *testing.T, f *feed, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := f.CreateTenant(t.Context(), store.Tenant{ID: id, Name: id}); err != nil {
			t.Fatalf("CreateTenant: got %v, want nil", err)
		}
	}
}

func TestFollowerAppliesInOrder(t *testing.T) {
	f := newFeed(t, false)
	write(t, f, "before1", "before2")
	fl, n := run(t, f, 10*time.Millisecond, nil)
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 && fl.Cursor() == 2 })
	write(t, f, "a", "b", "c")
	eventually(t, "changes 3-5 applied", func() bool { a, _ := n.state(); return len(a) == 3 })
	if applied, reloads := n.state(); !slices.Equal(applied, []int64{3, 4, 5}) || reloads != 1 {
		t.Errorf("got applied %v and %d reloads, want [3 4 5] and 1 (the start's)", applied, reloads)
	}
	if fl.LastRead().IsZero() {
		t.Errorf("LastRead: got zero, want the last poll's time")
	}
}

func TestFollowerBatches(t *testing.T) {
	f := newFeed(t, false)
	fl, n := run(t, f, 10*time.Millisecond, func(fl *Follower) { fl.Batch = 2 })
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 })
	write(t, f, "a", "b", "c", "d", "e")
	eventually(t, "five changes applied", func() bool { return fl.Cursor() == 5 })
	if applied, _ := n.state(); !slices.Equal(applied, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("applied: got %v, want [1 2 3 4 5]", applied)
	}
}

func TestFollowerRetriesFailedApply(t *testing.T) {
	f := newFeed(t, false)
	fl, n := run(t, f, 10*time.Millisecond, nil)
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 })
	n.mu.Lock()
	n.failing = 2
	n.mu.Unlock()
	write(t, f, "a")
	eventually(t, "the change applied after two failures", func() bool { return fl.Cursor() == 1 })
	if applied, _ := n.state(); !slices.Equal(applied, []int64{1}) {
		t.Errorf("applied: got %v, want [1]", applied)
	}
}

// TestFollowerWakesOnNotice: with polling all but off, a notice alone
// brings the change in.
func TestFollowerWakesOnNotice(t *testing.T) {
	f := newFeed(t, true)
	fl, n := run(t, f, time.Hour, nil)
	l := <-f.listeners
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 })
	write(t, f, "a")
	start := time.Now()
	l.notices <- struct{}{}
	eventually(t, "the change applied after a notice", func() bool { return fl.Cursor() == 1 })
	if d := time.Since(start); d > time.Second {
		t.Errorf("a notice to applied: got %s, want well under the poll period", d)
	}
}

// TestFollowerReloadsAfterGap: changes pruned before the node read them
// are noticed, and everything is reloaded.
func TestFollowerReloadsAfterGap(t *testing.T) {
	f := newFeed(t, true)
	fl, n := run(t, f, time.Hour, nil)
	l := <-f.listeners
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 })
	write(t, f, "a", "b")
	if _, err := f.PruneChanges(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	l.notices <- struct{}{}
	eventually(t, "a second reload", func() bool { _, r := n.state(); return r == 2 })
	if applied, _ := n.state(); len(applied) != 0 || fl.Cursor() != 2 {
		t.Errorf("after the gap: got applied %v, cursor %d; want none applied, cursor 2", applied, fl.Cursor())
	}
}

// TestFollowerReloadsAfterRelisten: a lost notification connection is
// opened again, and everything is reloaded.
func TestFollowerReloadsAfterRelisten(t *testing.T) {
	f := newFeed(t, true)
	_, n := run(t, f, time.Hour, nil)
	l := <-f.listeners
	eventually(t, "the start's reload", func() bool { _, r := n.state(); return r == 1 })
	close(l.lost)
	select {
	case l = <-f.listeners:
	case <-time.After(3 * time.Second):
		t.Fatal("no new subscription within 3s of losing one")
	}
	eventually(t, "a reload after listening again", func() bool { _, r := n.state(); return r == 2 })
}

func TestFollowerPrunes(t *testing.T) {
	f := newFeed(t, false)
	write(t, f, "a", "b")
	run(t, f, 10*time.Millisecond, func(fl *Follower) { fl.Keep, fl.PruneEvery = time.Nanosecond, 10*time.Millisecond })
	eventually(t, "old changes pruned", func() bool {
		cs, err := f.ChangesSince(t.Context(), 0, 10)
		return err == nil && len(cs) == 0
	})
}

// TestFollowerStartsFrom: a node that loaded everything after reading the
// feed's end at 2 goes on from there: no second full reload, and the
// changes after 2 (made while it loaded, or after) are applied.
func TestFollowerStartsFrom(t *testing.T) {
	f := newFeed(t, false)
	write(t, f, "before1", "before2", "during")
	fl, n := run(t, f, 10*time.Millisecond, func(fl *Follower) { fl.From = 2 })
	write(t, f, "after")
	eventually(t, "changes 3 and 4 applied", func() bool { a, _ := n.state(); return len(a) == 2 })
	if applied, reloads := n.state(); !slices.Equal(applied, []int64{3, 4}) || reloads != 0 {
		t.Errorf("got applied %v and %d reloads, want [3 4] and none", applied, reloads)
	}
	if got := fl.Cursor(); got != 4 {
		t.Errorf("cursor: got %d, want 4", got)
	}
}
