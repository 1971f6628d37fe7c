package conformance

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testLeaseCounters: leases are granted while the count stays within the
// limit, charges go in whatever the limit, a negative charge gives a lease
// back, and windows and keys count apart.
func testLeaseCounters(t *testing.T, s store.Store) {
	ctx := t.Context()
	hour := t0.Truncate(time.Hour)
	lease := func(key string, window time.Time, limit, charge, want int64) store.CounterLease {
		return store.CounterLease{Key: key, Window: window, ExpiresAt: window.Add(time.Hour), Limit: limit, Charge: charge, Want: want}
	}
	steps := []struct {
		name string
		l    store.CounterLease
		want store.CounterGrant
	}{
		{"a first lease", lease("client:a:h", hour, 10, 0, 4), store.CounterGrant{Granted: 4, Total: 4}},
		{"a second", lease("client:a:h", hour, 10, 0, 4), store.CounterGrant{Granted: 4, Total: 8}},
		{"what is left", lease("client:a:h", hour, 10, 0, 4), store.CounterGrant{Granted: 2, Total: 10}},
		{"nothing left", lease("client:a:h", hour, 10, 0, 4), store.CounterGrant{Granted: 0, Total: 10}},
		{"a charge goes over the limit", lease("client:a:h", hour, 10, 3, 1), store.CounterGrant{Granted: 0, Total: 13}},
		{"an unspent lease given back", lease("client:a:h", hour, 10, -5, 0), store.CounterGrant{Granted: 0, Total: 8}},
		{"a charge then a lease in one", lease("client:a:h", hour, 10, 1, 5), store.CounterGrant{Granted: 1, Total: 10}},
		{"the next window counts apart", lease("client:a:h", hour.Add(time.Hour), 10, 0, 4), store.CounterGrant{Granted: 4, Total: 4}},
		{"another key counts apart", lease("tenant:a:h", hour, 10, 2, 4), store.CounterGrant{Granted: 4, Total: 6}},
		{"no limit grants what is asked", lease("client:b:h", hour, 0, 7, 100), store.CounterGrant{Granted: 100, Total: 107}},
		{"a first charge over the limit", lease("client:c:h", hour, 2, 5, 1), store.CounterGrant{Granted: 0, Total: 5}},
	}
	for _, st := range steps {
		got, err := s.LeaseCounters(ctx, []store.CounterLease{st.l})
		if err != nil || len(got) != 1 || got[0] != st.want {
			t.Errorf("%s: got %+v, %v; want %+v", st.name, got, err, st.want)
		}
	}
	batch, err := s.LeaseCounters(ctx, []store.CounterLease{lease("z:h", hour, 5, 0, 3), lease("a:h", hour, 5, 0, 3), lease("z:h", hour, 5, 0, 3)})
	want := []store.CounterGrant{{Granted: 3, Total: 3}, {Granted: 3, Total: 3}, {Granted: 2, Total: 5}}
	if err != nil || len(batch) != 3 || batch[0] != want[0] || batch[1] != want[1] || batch[2] != want[2] {
		t.Errorf("a batch answers in its own order: got %+v, %v; want %+v", batch, err, want)
	}
	if got, err := s.LeaseCounters(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("an empty batch: got %v, %v", got, err)
	}
	if _, err := s.LeaseCounters(ctx, make([]store.CounterLease, 5000)); err == nil {
		t.Errorf("an oversized batch: got nil, want an error")
	}

	counters, err := s.ListCounters(ctx, hour.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	totals := map[string]int64{}
	for _, c := range counters {
		if c.Window.Equal(hour) {
			totals[c.Key] = c.Total
		}
	}
	if totals["client:a:h"] != 10 || totals["tenant:a:h"] != 6 || len(counters) != 7 {
		t.Errorf("ListCounters: got %+v, want 7 counters, client:a:h at 10 and tenant:a:h at 6", counters)
	}
	if _, err := s.PurgeExpired(ctx, hour.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListCounters(ctx, hour.Add(30*time.Minute)); len(left) != 1 || left[0].Key != "client:a:h" || !left[0].Window.Equal(hour.Add(time.Hour)) {
		t.Errorf("after purging the first hour: got %+v, want only the next window's counter", left)
	}
}

// testLimitModeRoundTrip: a tenant's and a client's limit mode survive.
func testLimitModeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten := newTenant("acme")
	ten.Limits = store.Limits{QuotaHour: 5, Mode: store.LimitLogOnly}
	if err := s.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetTenant(ctx, "acme"); got.Limits != ten.Limits {
		t.Errorf("tenant limits: got %+v, want %+v", got.Limits, ten.Limits)
	}
	got, err := s.UpdateTenant(ctx, "acme", func(old store.Tenant) (store.Tenant, error) {
		old.Limits.Mode = store.LimitEnforce
		return old, nil
	})
	if err != nil || got.Limits.Mode != store.LimitEnforce {
		t.Errorf("UpdateTenant: got %+v, %v", got.Limits, err)
	}
	c := newClient("c1")
	c.Limits = store.Limits{QuotaDay: 9, Mode: store.LimitLogOnly}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if read, _ := s.GetClient(ctx, "c1"); read.Limits != c.Limits {
		t.Errorf("client limits: got %+v, want %+v", read.Limits, c.Limits)
	}
}

// testConcurrentLeases: callers leasing one counter at once are granted
// exactly its limit between them, never more.
func testConcurrentLeases(t *testing.T, s store.Store) {
	const limit = 100
	window := t0.Truncate(time.Hour)
	var mu sync.Mutex
	var granted, charged int64
	var errs errorSet
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				charge := int64(0)
				if (w+i)%5 == 0 {
					charge = 1 // a token let through on credit
				}
				got, err := s.LeaseCounters(t.Context(), []store.CounterLease{{Key: "client:hot:h", Window: window, ExpiresAt: window.Add(time.Hour), Limit: limit, Charge: charge, Want: 3}})
				errs.add(err)
				if err == nil {
					mu.Lock()
					granted += got[0].Granted
					charged += charge
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	errs.report(t, "LeaseCounters")
	counters, err := s.ListCounters(t.Context(), window)
	if err != nil || len(counters) != 1 {
		t.Fatalf("ListCounters: got %+v, %v", counters, err)
	}
	if granted+charged < limit || granted > limit {
		t.Errorf("granted %d and charged %d from a limit of %d: want the limit reached and no more granted", granted, charged, limit)
	}
	if counters[0].Total != granted+charged {
		t.Errorf("the counter: got %d, want granted + charged = %d", counters[0].Total, granted+charged)
	}
}
