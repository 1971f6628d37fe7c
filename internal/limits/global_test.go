package limits

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/fakeclock"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// openStore opens the SQLite store in dir (closed when t ends).
func openStore(t *testing.T, dir string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// admitN asks n times through l and returns how many were let through.
func admitN(l *Limiter, c *store.Client, tenant store.Limits, n int) int {
	ok := 0
	for range n {
		if _, _, admitted := l.Admit(c, tenant); admitted {
			ok++
		}
	}
	return ok
}

// admitSynced is admitN with the lease loop keeping up: a sync after each
// request.
func admitSynced(t *testing.T, l *Limiter, c *store.Client, tenant store.Limits, n int) int {
	t.Helper()
	ok := 0
	for range n {
		ok += admitN(l, c, tenant, 1)
		if err := l.sync(t.Context(), false); err != nil {
			t.Fatal(err)
		}
	}
	return ok
}

// TestGlobalQuotaAcrossNodes: nodes sharing a store let a quota through
// once between them, within one chunk per node when they run ahead of
// the store, and a restarted node carries on from the shared count.
func TestGlobalQuotaAcrossNodes(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	st := openStore(t, t.TempDir())
	ctx := t.Context()
	const quota = 64 // chunk 4
	c := &store.Client{ID: "c", Tenant: "acme", Limits: store.Limits{QuotaHour: quota}}
	steps := []struct {
		name string
		// syncEach syncs the node after each request (the lease loop keeps
		// up); otherwise the store is not reached until the end.
		syncEach bool
		nodes    int
		requests int // in turn over the nodes
		min, max int
	}{
		{"the lease loop keeps up", true, 3, 200, quota - 3*4, quota},
		{"a burst ahead of the store: one chunk per node", false, 3, 30, 3 * 4, 3 * 4},
	}
	for _, s := range steps {
		clock.Add(time.Hour) // a fresh window
		nodes := make([]*Limiter, s.nodes)
		for i := range nodes {
			nodes[i] = NewLimiter(st, clock.Now)
		}
		got := 0
		for r := range s.requests {
			n := nodes[r%len(nodes)]
			got += admitN(n, c, store.Limits{}, 1)
			if s.syncEach {
				if err := n.sync(ctx, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got < s.min || got > s.max {
			t.Errorf("%s: got %d let through, want %d to %d", s.name, got, s.min, s.max)
		}
		for _, n := range nodes {
			if err := n.sync(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		restarted := NewLimiter(st, clock.Now)
		if err := restarted.Load(ctx); err != nil {
			t.Fatal(err)
		}
		hour, _ := restarted.ClientUsage("c")
		if hour != int64(got) {
			t.Errorf("%s: a restarted node's count: got %d, want %d", s.name, hour, got)
		}
		if more := admitN(restarted, c, store.Limits{}, 10); got+more > quota+4 {
			t.Errorf("%s: a restarted node let %d more through after %d: over the quota by more than one chunk", s.name, more, got)
		}
	}
}

// TestGlobalLimiterConcurrent: nodes admitting at once from many
// goroutines while their lease loops run stay within the stated bound.
func TestGlobalLimiterConcurrent(t *testing.T) {
	st := openStore(t, t.TempDir())
	const quota, nodes = 300, 3 // chunk 19
	c := &store.Client{ID: "hot", Limits: store.Limits{QuotaDay: quota}}
	ctx, cancel := context.WithCancel(t.Context())
	var loops sync.WaitGroup
	var admitted sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range nodes {
		l := NewLimiter(st, nil)
		loops.Go(func() { l.Run(ctx) })
		for range 4 {
			admitted.Go(func() {
				// Ask for a second, as fast as answers come; a refusal
				// waits a moment, as a client backing off does.
				n := 0
				for end := time.Now().Add(time.Second); time.Now().Before(end); {
					if _, _, ok := l.Admit(c, store.Limits{}); ok {
						n++
					} else {
						time.Sleep(time.Millisecond)
					}
				}
				mu.Lock()
				got += n
				mu.Unlock()
			})
		}
	}
	admitted.Wait()
	cancel()
	loops.Wait()
	if bound := quota + nodes*int(Chunk(quota)); got > bound {
		t.Errorf("let through: got %d, want at most %d (the quota and a chunk a node)", got, bound)
	}
	if got < quota*3/4 {
		t.Errorf("let through: got %d, want at least three quarters of the quota of %d", got, quota)
	}
	t.Logf("%d nodes, %d goroutines each asking for a second: %d let through for a quota of %d", nodes, nodes*4, got, quota)
}

// TestLimiterStoreDown: without the store a node keeps its lease and then
// counts locally against the last count it saw, and charges what it let
// through once the store is back.
func TestLimiterStoreDown(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx := t.Context()
	c := &store.Client{ID: "c", Limits: store.Limits{QuotaHour: 20}}
	l := NewLimiter(st, clock.Now)
	if got := admitSynced(t, l, c, store.Limits{}, 5); got != 5 {
		t.Fatalf("before the outage: got %d, want 5", got)
	}
	st.Close()
	if got := admitN(l, c, store.Limits{}, 10); got != 4 {
		t.Errorf("the store gone, before a sync notices: got %d, want 4 (the lease of 2 left, then a chunk of credit)", got)
	}
	if err := l.sync(ctx, false); err == nil || !l.Down() {
		t.Fatalf("sync without the store: got %v, down %v; want an error and down", err, l.Down())
	}
	if got := admitN(l, c, store.Limits{}, 30); got != 11 {
		t.Errorf("counting locally: got %d, want the 11 left of 20", got)
	}
	back := openStore(t, dir)
	l.counters = back
	if err := l.sync(ctx, false); err != nil || l.Down() {
		t.Fatalf("sync with the store back: got %v, down %v", err, l.Down())
	}
	counters, _ := back.ListCounters(ctx, clock.Now())
	for _, ct := range counters {
		if ct.Key == "client:c:h" && ct.Total != 20 {
			t.Errorf("the shared count after the outage: got %d, want 20", ct.Total)
		}
	}
}

// TestLimitModes: a log-only limit lets everything through and reports
// going over once a window; an enforced one refuses.
func TestLimitModes(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name      string
		limits    store.Limits
		tenant    store.Limits
		wantOK    int
		wantOvers []Over
	}{
		{"client enforce", store.Limits{QuotaHour: 3}, store.Limits{}, 3,
			[]Over{{Subject: "client c", Limit: "hourly quota", Max: 3, Enforced: true}}},
		{"client log-only", store.Limits{QuotaHour: 3, Mode: store.LimitLogOnly}, store.Limits{}, 5,
			[]Over{{Subject: "client c", Limit: "hourly quota", Max: 3}}},
		{"tenant log-only under an enforced client limit", store.Limits{QuotaDay: 4}, store.Limits{QuotaHour: 2, Mode: store.LimitLogOnly}, 4,
			[]Over{{Subject: "tenant acme", Limit: "tenant hourly quota", Max: 2}, {Subject: "client c", Limit: "daily quota", Max: 4, Enforced: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(openStore(t, t.TempDir()), clock.Now)
			var overs []Over
			l.OnOver = func(o Over) { overs = append(overs, o) }
			c := &store.Client{ID: "c", Tenant: "acme", Limits: tt.limits}
			if got := admitSynced(t, l, c, tt.tenant, 5); got != tt.wantOK {
				t.Errorf("let through: got %d, want %d", got, tt.wantOK)
			}
			if len(overs) != len(tt.wantOvers) {
				t.Fatalf("reported: got %+v, want %+v", overs, tt.wantOvers)
			}
			for i := range overs {
				if overs[i] != tt.wantOvers[i] {
					t.Errorf("report %d: got %+v, want %+v", i, overs[i], tt.wantOvers[i])
				}
			}
		})
	}
}

// TestCountsSurviveRestart: on the embedded store, a node's counts are
// written when it stops and read when it starts again.
func TestCountsSurviveRestart(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	c := &store.Client{ID: "c", Limits: store.Limits{QuotaHour: 10}}
	for run, want := range []int{7, 3, 0} {
		st, err := sqlstore.Open(t.Context(), filepath.Join(dir, "gatehouse.db"))
		if err != nil {
			t.Fatal(err)
		}
		l := NewLimiter(st, clock.Now)
		ctx, stop := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		if err := l.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := 0
		for range 7 {
			got += admitN(l, c, store.Limits{}, 1)
			l.sync(t.Context(), false)
		}
		stop()
		<-done
		st.Close()
		if got != want {
			t.Errorf("run %d: got %d let through, want %d", run+1, got, want)
		}
	}
}

// TestLeaseGapRetry: a node whose lease and credit are spent before its
// top-up arrives refuses with a retry in a second, not at the window's end.
func TestLeaseGapRetry(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	l := NewLimiter(openStore(t, t.TempDir()), clock.Now)
	c := &store.Client{ID: "c", Limits: store.Limits{QuotaHour: 64}}
	if got := admitN(l, c, store.Limits{}, int(Chunk(64))); got != int(Chunk(64)) {
		t.Fatalf("on credit: got %d, want a chunk, %d", got, Chunk(64))
	}
	b, _, ok := l.Admit(c, store.Limits{})
	if ok || b.Reset != time.Second || b.Exceeded != "hourly quota" {
		t.Errorf("credit spent, top-up on the way: got ok %v, reset %v, exceeded %q; want refused, 1s, hourly quota", ok, b.Reset, b.Exceeded)
	}
	if err := l.sync(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := l.Admit(c, store.Limits{}); !ok {
		t.Errorf("after the top-up: got refused, want let through")
	}
}

// TestBudgetGivenBackIsSeen: a node that saw its counter full learns of
// budget another node gave back (an idle lease), within a sync or two.
func TestBudgetGivenBackIsSeen(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	st := openStore(t, t.TempDir())
	c := &store.Client{ID: "c", Limits: store.Limits{QuotaHour: 8}} // chunk 2
	a, b := NewLimiter(st, clock.Now), NewLimiter(st, clock.Now)
	if got := admitSynced(t, a, c, store.Limits{}, 3); got != 3 {
		t.Fatalf("node a: got %d, want 3", got)
	}
	if got := admitSynced(t, b, c, store.Limits{}, 10); got != 3 {
		t.Fatalf("node b, with a holding a lease: got %d, want the 3 left", got)
	}
	clock.Add(idleReturn + time.Second) // a's lease goes idle and is given back
	if err := a.sync(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	admitN(b, c, store.Limits{}, 1) // refused, but asked for
	if err := b.sync(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if got := admitSynced(t, b, c, store.Limits{}, 5); got != 2 {
		t.Errorf("node b after a gave its lease back: got %d, want the 2 given back", got)
	}
}
