package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Sizes of the concurrency tests: workers goroutines making perWorker calls each.
const (
	workers   = 8
	perWorker = 25
)

// RunConcurrencyTests checks that concurrent callers lose no update and that
// creates of one key agree on a single winner. newStore is as for RunTests.
func RunConcurrencyTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"UpdateClientLosesNothing", testConcurrentUpdateClient},
		{"CreateTenantOneWinner", testConcurrentCreateTenant},
		{"CreateClientsDistinct", testConcurrentCreateClients},
		{"UpdateKeyOneWinner", testConcurrentUpdateKey},
		{"ChangesFollowWrites", testConcurrentChanges},
		{"OneNextKeyPerAlg", testConcurrentNextKey},
		{"LeasesWithinLimit", testConcurrentLeases},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// errorSet gathers errors from goroutines and reports a count and a sample,
// so that one broken backend does not print a thousand lines.
type errorSet struct {
	mu    sync.Mutex
	n     int
	first error
}

func (e *errorSet) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		e.first = err
	}
	e.n++
}

func (e *errorSet) report(t *testing.T, what string) {
	t.Helper()
	if e.n > 0 {
		t.Errorf("%s: got %d errors, the first: %v; want none", what, e.n, e.first)
	}
}

// testConcurrentUpdateClient has every worker add a grant and a second of
// token lifetime per update while readers check that they never see one
// without the other.
func testConcurrentUpdateClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newClient("busy")
	c.Grants, c.TokenTTL = map[string][]string{}, 0
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: got %v, want nil", err)
	}
	var writeErrs, readErrs errorSet
	var writers, readers sync.WaitGroup
	done := make(chan struct{})
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.GetClient(ctx, "busy")
				if err == nil && time.Duration(len(got.Grants))*time.Second != got.TokenTTL {
					err = fmt.Errorf("reader %d: half an update: %d grants, token_ttl %s", r, len(got.Grants), got.TokenTTL)
				}
				readErrs.add(err)
			}
		})
	}
	for w := range workers {
		writers.Go(func() {
			for i := range perWorker {
				_, err := s.UpdateClient(ctx, "busy", func(old store.Client) (store.Client, error) {
					old.Grants[fmt.Sprintf("https://w%d.example.io/%d", w, i)] = []string{"read"}
					old.TokenTTL += time.Second
					return old, nil
				})
				writeErrs.add(err)
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	writeErrs.report(t, "UpdateClient")
	readErrs.report(t, "GetClient during updates")

	got, err := s.GetClient(ctx, "busy")
	if err != nil {
		t.Fatalf("GetClient: got %v, want nil", err)
	}
	if want := workers * perWorker; len(got.Grants) != want {
		t.Errorf("grants after %d updates: got %d, want %d", want, len(got.Grants), want)
	}
	if want := time.Duration(workers*perWorker) * time.Second; got.TokenTTL != want {
		t.Errorf("token_ttl after %d updates: got %s, want %s", workers*perWorker, got.TokenTTL, want)
	}
}

// race starts n goroutines at once, runs fn in each and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and the rest are loser.
func oneWinner(t *testing.T, what string, errs []error, loser error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s: got %v, want nil or %v", what, err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%s: got %d successes among %d callers, want 1", what, wins, len(errs))
	}
}

func testConcurrentCreateTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	errs := race(2*workers, func(i int) error {
		return s.CreateTenant(ctx, store.Tenant{ID: "acme", Name: fmt.Sprintf("caller %d", i), CreatedAt: t0})
	})
	oneWinner(t, "CreateTenant", errs, store.ErrAlreadyExists)
	tenants, err := s.ListTenants(ctx)
	if err != nil || len(tenants) != 1 {
		t.Errorf("ListTenants: got %d tenants, %v; want 1, nil", len(tenants), err)
	}
}

func testConcurrentCreateClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	var errs errorSet
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				errs.add(s.CreateClient(ctx, newClient(fmt.Sprintf("w%d-c%d", w, i))))
			}
		})
	}
	wg.Wait()
	errs.report(t, "CreateClient")
	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: got %v, want nil", err)
	}
	if want := workers * perWorker; len(list) != want {
		t.Errorf("clients: got %d, want %d", len(list), want)
	}
}

var errNotNext = errors.New("key is no longer next")

// testConcurrentUpdateKey is the rotation agreement between nodes: each
// tries to promote the next key, and the compare-and-swap lets one through.
func testConcurrentUpdateKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateKey(ctx, newKey("k1")); err != nil {
		t.Fatalf("CreateKey: got %v, want nil", err)
	}
	errs := race(workers, func(i int) error {
		_, err := s.UpdateKey(ctx, "k1", func(old store.SigningKey) (store.SigningKey, error) {
			if old.State != store.KeyNext {
				return old, errNotNext
			}
			old.State = store.KeyCurrent
			old.PublicKey = fmt.Appendf(nil, "promoted by %d", i)
			return old, nil
		})
		return err
	})
	oneWinner(t, "UpdateKey", errs, errNotNext)
}

// testConcurrentChanges follows the change feed, as a node does, while
// writers create and update clients. The follower must see ids without a
// gap (a later change never shows before an earlier one) and, for each
// change, the write it records (they commit together).
func testConcurrentChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	var writeErrs, readErrs errorSet
	var writers sync.WaitGroup
	for w := range workers {
		writers.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-c%d", w, i)
				writeErrs.add(s.CreateClient(ctx, newClient(id)))
				if i%5 == 0 {
					_, err := s.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) { c.Name = "updated"; return c, nil })
					writeErrs.add(err)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { writers.Wait(); close(done) }()
	want := int64(workers * (perWorker + (perWorker+4)/5))
	var cursor int64
	deadline := time.Now().Add(30 * time.Second)
	for cursor < want && time.Now().Before(deadline) {
		cs, err := s.ChangesSince(ctx, cursor, 50)
		readErrs.add(err)
		for _, c := range cs {
			if c.ID != cursor+1 {
				readErrs.add(fmt.Errorf("after change %d: got change %d, want %d (a gap)", cursor, c.ID, cursor+1))
			}
			cursor = c.ID
			if _, err := s.GetClient(ctx, c.Key); err != nil {
				readErrs.add(fmt.Errorf("change %d (%s %s) is visible but its write is not: %v", c.ID, c.Kind, c.Key, err))
			}
		}
		if len(cs) == 0 {
			select {
			case <-done:
			case <-time.After(time.Millisecond):
			}
		}
	}
	<-done
	writeErrs.report(t, "writes")
	readErrs.report(t, "following the feed")
	if cursor != want {
		t.Errorf("changes followed: got up to %d, want %d", cursor, want)
	}
	if got, err := s.LatestChange(ctx); got != want || err != nil {
		t.Errorf("LatestChange: got %d, %v; want %d, nil", got, err, want)
	}
}

// testConcurrentNextKey is nodes rotating at once: each adds a next key
// for one algorithm, and the store keeps one.
func testConcurrentNextKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	errs := race(workers, func(i int) error {
		k := newKey(fmt.Sprintf("k%d", i))
		return s.CreateKey(ctx, k)
	})
	oneWinner(t, "CreateKey(next)", errs, store.ErrAlreadyExists)
}
