package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// table is an in-memory Shared that counts its calls and can be taken down.
type table struct {
	mu    sync.Mutex
	ids   map[string]time.Time
	calls atomic.Int32
	down  atomic.Bool
	block chan struct{} // when set, a claim waits for it
	first atomic.Int32  // how many ids the first claim held
}

func (t *table) ClaimIDs(ctx context.Context, ids []ID) ([]bool, error) {
	if t.calls.Add(1) == 1 {
		t.first.Store(int32(len(ids)))
	}
	if t.block != nil {
		<-t.block
	}
	if t.down.Load() {
		return nil, errors.New("connection refused")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fresh := make([]bool, len(ids))
	for i, id := range ids {
		if _, ok := t.ids[id.Key]; !ok {
			t.ids[id.Key] = id.ExpiresAt
			fresh[i] = true
		}
	}
	return fresh, nil
}

func (t *table) has(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.ids[key]
	return ok
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func running(t *testing.T, c *Cache) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestUseOnce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New(nil, time.Second, clk.now)
	id := ID{Key: "client-a/jti-1", ExpiresAt: clk.t.Add(time.Minute)}
	steps := []struct {
		name    string
		id      ID
		advance time.Duration
		want    error
	}{
		{"first use", id, 0, nil},
		{"replay", id, 0, ErrReplayed},
		{"another id", ID{Key: "client-a/jti-2", ExpiresAt: clk.t.Add(time.Minute)}, 0, nil},
		{"replay just before expiry", id, 59 * time.Second, ErrReplayed},
		{"expired id is refused, not remembered", id, time.Minute, ErrReplayed},
	}
	for _, s := range steps {
		clk.t = clk.t.Add(s.advance)
		if err := c.Use(context.Background(), s.id); !errors.Is(err, s.want) {
			t.Errorf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
}

func TestUseAcrossNodes(t *testing.T) {
	shared := &table{ids: map[string]time.Time{}}
	a, b := New(shared, time.Second, nil), New(shared, time.Second, nil)
	running(t, a)
	running(t, b)
	id := ID{Key: "k", ExpiresAt: time.Now().Add(time.Minute)}
	if err := a.Use(context.Background(), id); err != nil {
		t.Fatalf("first use on node a: got %v, want nil", err)
	}
	if err := b.Use(context.Background(), id); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay on node b: got %v, want ErrReplayed", err)
	}
}

func TestUseBatchesSharedClaims(t *testing.T) {
	shared := &table{ids: map[string]time.Time{}, block: make(chan struct{})}
	c := New(shared, 5*time.Second, nil)
	running(t, c)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- c.Use(context.Background(), ID{Key: fmt.Sprint("id-", i), ExpiresAt: time.Now().Add(time.Minute)})
		})
	}
	// The first claim is held until every request has queued behind it.
	for shared.calls.Load() == 0 || int(shared.first.Load())+len(c.pending) < n {
		time.Sleep(time.Millisecond)
	}
	close(shared.block)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Use: got %v, want nil", err)
		}
	}
	if calls := shared.calls.Load(); calls > 3 {
		t.Errorf("shared claims for %d concurrent ids: got %d, want at most 3 (batched)", n, calls)
	}
}

func TestUseDuringOutage(t *testing.T) {
	shared := &table{ids: map[string]time.Time{}}
	shared.down.Store(true)
	c := New(shared, time.Second, nil)
	running(t, c)
	id := ID{Key: "k", ExpiresAt: time.Now().Add(time.Minute)}
	if err := c.Use(context.Background(), id); err != nil {
		t.Errorf("first use with the table down: got %v, want nil (memory answers)", err)
	}
	if shared.has("k") {
		t.Errorf("the table holds an id claimed while it was down")
	}
	if err := c.Use(context.Background(), id); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay on the same node during the outage: got %v, want ErrReplayed", err)
	}
	shared.down.Store(false)
	if err := c.Use(context.Background(), ID{Key: "k2", ExpiresAt: time.Now().Add(time.Minute)}); err != nil || !shared.has("k2") {
		t.Errorf("after the outage: got %v, claimed in the table %v; want nil, true", err, shared.has("k2"))
	}
}

// TestUseConcurrent: of many requests racing with one id (a replayed DPoP
// proof at a resource, with memory only), exactly one passes.
func TestUseConcurrent(t *testing.T) {
	c := New(nil, 0, nil)
	id := ID{Key: "dpop:jkt:jti", ExpiresAt: time.Now().Add(time.Minute)}
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c.Use(context.Background(), id) == nil {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if got := passed.Load(); got != 1 {
		t.Errorf("uses that passed: got %d, want 1", got)
	}
}
