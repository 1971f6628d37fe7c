package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// change is a Change without its id and time, for comparing feeds.
type change struct{ kind, key string }

func (c change) String() string { return c.kind + " " + c.key }

func kinds(cs []store.Change) []change {
	out := make([]change, len(cs))
	for i, c := range cs {
		out[i] = change{c.Kind, c.Key}
	}
	return out
}

func latest(t *testing.T, s store.Store) int64 {
	t.Helper()
	id, err := s.LatestChange(t.Context())
	if err != nil {
		t.Fatalf("LatestChange: got %v, want nil", err)
	}
	return id
}

// testChangeFeedOrder makes one write of every kind that nodes cache and
// checks that each appends exactly one change, in order, with ids 1, 2, 3...
func testChangeFeedOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	const aud = "https://api.example.io"
	rename := func(c store.Client) (store.Client, error) { c.Name = "renamed"; return c, nil }
	steps := []struct {
		want  change
		write func() error
	}{
		{change{store.ChangeTenant, "acme"}, func() error { return s.CreateTenant(ctx, newTenant("acme")) }},
		{change{store.ChangeTenant, "acme"}, func() error {
			_, err := s.UpdateTenant(ctx, "acme", func(x store.Tenant) (store.Tenant, error) { x.Name = "Acme"; return x, nil })
			return err
		}},
		{change{store.ChangeEnvironment, "acme/qa"}, func() error { return s.CreateEnvironment(ctx, newEnvironment("acme", "qa")) }},
		{change{store.ChangeAPI, aud}, func() error { return s.CreateAPI(ctx, newAPI(aud)) }},
		{change{store.ChangeAPI, aud}, func() error {
			_, err := s.UpdateAPI(ctx, aud, func(a store.API) (store.API, error) { a.TokenTTL = time.Hour; return a, nil })
			return err
		}},
		{change{store.ChangeClient, "c1"}, func() error { return s.CreateClient(ctx, newClient("c1")) }},
		{change{store.ChangeClient, "c1"}, func() error { _, err := s.UpdateClient(ctx, "c1", rename); return err }},
		{change{store.ChangeKey, "k1"}, func() error { return s.CreateKey(ctx, newKey("k1")) }},
		{change{store.ChangeKey, "k1"}, func() error {
			_, err := s.UpdateKey(ctx, "k1", func(k store.SigningKey) (store.SigningKey, error) { k.State = store.KeyCurrent; return k, nil })
			return err
		}},
		{change{store.ChangeRevocation, "jti-1"}, func() error {
			return s.Revoke(ctx, store.Revocation{JTI: "jti-1", ClientID: "c1", RevokedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{change{store.ChangeKey, "k1"}, func() error { return s.DeleteKey(ctx, "k1") }},
		{change{store.ChangeClient, "c1"}, func() error { return s.DeleteClient(ctx, "c1") }},
		{change{store.ChangeAPI, aud}, func() error { return s.DeleteAPI(ctx, aud) }},
	}
	if got := latest(t, s); got != 0 {
		t.Fatalf("LatestChange on an empty store: got %d, want 0", got)
	}
	var want []change
	for i, st := range steps {
		before := time.Now()
		if err := st.write(); err != nil {
			t.Fatalf("step %d (%s): got %v, want nil", i+1, st.want, err)
		}
		want = append(want, st.want)
		if got := latest(t, s); got != int64(i+1) {
			t.Errorf("LatestChange after step %d (%s): got %d, want %d", i+1, st.want, got, i+1)
		}
		cs, err := s.ChangesSince(ctx, int64(i), 100)
		if err != nil || len(cs) != 1 {
			t.Fatalf("ChangesSince(%d) after step %d: got %v, %v; want one change", i, i+1, cs, err)
		}
		if c := cs[0]; c.ID != int64(i+1) || (change{c.Kind, c.Key}) != st.want {
			t.Errorf("step %d: got change %d %s %s, want %d %s", i+1, c.ID, c.Kind, c.Key, i+1, st.want)
		}
		if at := cs[0].At; at.Before(before.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("step %d: change time %s, want about now (%s)", i+1, at, before)
		}
	}

	all, err := s.ChangesSince(ctx, 0, 0)
	if err != nil {
		t.Fatalf("ChangesSince(0): got %v, want nil", err)
	}
	if got := kinds(all); !slices.Equal(got, want) {
		t.Errorf("ChangesSince(0): got %v, want %v", got, want)
	}
	pages := []struct {
		after   int64
		limit   int
		wantIDs []int64
	}{
		{0, 3, []int64{1, 2, 3}},
		{5, 2, []int64{6, 7}},
		{11, 100, []int64{12, 13}},
		{13, 100, []int64{}},
		{99, 100, []int64{}},
	}
	for _, p := range pages {
		cs, err := s.ChangesSince(ctx, p.after, p.limit)
		got := ids(cs, func(c store.Change) string { return fmt.Sprint(c.ID) })
		wantIDs := ids(p.wantIDs, func(id int64) string { return fmt.Sprint(id) })
		if err != nil || !slices.Equal(got, wantIDs) {
			t.Errorf("ChangesSince(%d, %d): got %v, %v; want %v, nil", p.after, p.limit, got, err, wantIDs)
		}
	}
}

// testChangeFeedRefusedWrites checks that a write that fails or is refused
// appends nothing, and that the ids after it carry on without a gap.
func testChangeFeedRefusedWrites(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := t.Context()
	before := latest(t, s)
	if before != 5 {
		t.Fatalf("LatestChange after seeding five rows: got %d, want 5", before)
	}
	refuse := func(c store.Client) (store.Client, error) { c.Name = "x"; return c, errFn }
	next := newKey("k2") // a second next ES256 key: the store keeps one
	refused := []struct {
		name  string
		write func() error
	}{
		{"duplicate tenant", func() error { return s.CreateTenant(ctx, newTenant("acme")) }},
		{"environment of a missing tenant", func() error { return s.CreateEnvironment(ctx, newEnvironment("nobody", "qa")) }},
		{"duplicate API", func() error { return s.CreateAPI(ctx, newAPI("https://api.example.io")) }},
		{"update fn refuses", func() error { _, err := s.UpdateClient(ctx, "c1", refuse); return err }},
		{"update a missing client", func() error { _, err := s.UpdateClient(ctx, "none", refuse); return err }},
		{"delete a missing client", func() error { return s.DeleteClient(ctx, "none") }},
		{"delete a missing API", func() error { return s.DeleteAPI(ctx, "https://none.example.io") }},
		{"delete a missing key", func() error { return s.DeleteKey(ctx, "none") }},
		{"second next key", func() error { return s.CreateKey(ctx, next) }},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); err == nil {
				t.Fatalf("got nil, want an error")
			}
			if got := latest(t, s); got != before {
				t.Errorf("LatestChange after a refused write: got %d, want %d", got, before)
			}
		})
	}
	rev := store.Revocation{JTI: "j", ClientID: "c1", RevokedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	for i := range 2 {
		if err := s.Revoke(ctx, rev); err != nil {
			t.Fatalf("Revoke %d: got %v, want nil", i+1, err)
		}
	}
	cs, err := s.ChangesSince(ctx, before, 100)
	if want := []change{{store.ChangeRevocation, "j"}}; err != nil || !slices.Equal(kinds(cs), want) {
		t.Fatalf("changes after revoking twice: got %v, %v; want %v (revoking twice is revoking once)", kinds(cs), err, want)
	}
	if cs[0].ID != before+1 {
		t.Errorf("the change after refused writes: got id %d, want %d (no gap)", cs[0].ID, before+1)
	}
}

// testChangeFeedPrune checks that pruning removes old changes only, and
// that ids are never reused, so a node that was away sees the gap.
func testChangeFeedPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		if err := s.CreateTenant(ctx, newTenant(fmt.Sprintf("t%d", i))); err != nil {
			t.Fatalf("CreateTenant: got %v, want nil", err)
		}
		time.Sleep(2 * time.Millisecond) // distinct times
	}
	all, err := s.ChangesSince(ctx, 0, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("ChangesSince(0): got %d changes, %v; want 5, nil", len(all), err)
	}
	cut := all[3].At
	wantGone := int64(0)
	for _, c := range all {
		if c.At.Before(cut) {
			wantGone++
		}
	}
	if n, err := s.PruneChanges(ctx, cut); n != wantGone || err != nil {
		t.Errorf("PruneChanges(the 4th change's time): got %d, %v; want %d, nil", n, err, wantGone)
	}
	left, err := s.ChangesSince(ctx, 0, 0)
	if err != nil || len(left) != 5-int(wantGone) || left[0].ID != wantGone+1 {
		t.Errorf("ChangesSince(0) after pruning: got %v, %v; want ids from %d", left, err, wantGone+1)
	}
	if got := latest(t, s); got != 5 {
		t.Errorf("LatestChange after pruning: got %d, want 5", got)
	}
	if n, err := s.PruneChanges(ctx, time.Now().Add(time.Hour)); n != 5-wantGone || err != nil {
		t.Errorf("PruneChanges(everything): got %d, %v; want %d, nil", n, err, 5-wantGone)
	}
	if err := s.CreateTenant(ctx, newTenant("after")); err != nil {
		t.Fatalf("CreateTenant: got %v, want nil", err)
	}
	cs, err := s.ChangesSince(ctx, 0, 0)
	if err != nil || len(cs) != 1 || cs[0].ID != 6 {
		t.Errorf("ChangesSince(0) after pruning all and one more write: got %v, %v; want the one change, id 6", cs, err)
	}
}

// testChangeListen checks that a subscription, where the database has
// them, wakes after a write.
func testChangeListen(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := s.ListenChanges(ctx)
	if errors.Is(err, store.ErrNotSupported) {
		t.Logf("ListenChanges: %v (nodes poll)", err)
		return
	}
	if err != nil {
		t.Fatalf("ListenChanges: got %v, want nil or ErrNotSupported", err)
	}
	defer l.Close()
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		wrote <- s.CreateTenant(ctx, newTenant("acme"))
	}()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := l.Wait(wctx); err != nil {
		t.Errorf("Wait after a write: got %v, want nil", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("CreateTenant: got %v, want nil", err)
	}
	// A refused write commits nothing and wakes nobody.
	_ = s.CreateTenant(ctx, newTenant("acme"))
	qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer qcancel()
	if err := l.Wait(qctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait after a refused write: got %v, want the context's deadline", err)
	}
}

// testKeyOneNextPerAlg: at most one next key per algorithm, so that nodes
// rotating at once agree on one; any number of current keys (a promotion
// briefly has two).
func testKeyOneNextPerAlg(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := func(kid, alg, state string) store.SigningKey {
		k := newKey(kid)
		k.Alg, k.State = alg, state
		return k
	}
	toState := func(state string) func(store.SigningKey) (store.SigningKey, error) {
		return func(k store.SigningKey) (store.SigningKey, error) { k.State = state; return k, nil }
	}
	steps := []struct {
		name string
		op   func() error
		want error
	}{
		{"first next ES256", func() error { return s.CreateKey(ctx, key("k1", "ES256", store.KeyNext)) }, nil},
		{"second next ES256", func() error { return s.CreateKey(ctx, key("k2", "ES256", store.KeyNext)) }, store.ErrAlreadyExists},
		{"next RS256", func() error { return s.CreateKey(ctx, key("k3", "RS256", store.KeyNext)) }, nil},
		{"current ES256", func() error { return s.CreateKey(ctx, key("k4", "ES256", store.KeyCurrent)) }, nil},
		{"another current ES256", func() error { return s.CreateKey(ctx, key("k5", "ES256", store.KeyCurrent)) }, nil},
		{"update a current key to next", func() error { _, err := s.UpdateKey(ctx, "k4", toState(store.KeyNext)); return err }, store.ErrAlreadyExists},
		{"promote the next key", func() error { _, err := s.UpdateKey(ctx, "k1", toState(store.KeyCurrent)); return err }, nil},
		{"a new next ES256", func() error { return s.CreateKey(ctx, key("k2", "ES256", store.KeyNext)) }, nil},
	}
	for _, st := range steps {
		if err := st.op(); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Errorf("%s: got %v, want %v", st.name, err, st.want)
		}
	}
	keys, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: got %v, want nil", err)
	}
	states := map[string]string{}
	for _, k := range keys {
		states[k.KID] = k.State
	}
	want := map[string]string{"k1": store.KeyCurrent, "k2": store.KeyNext, "k3": store.KeyNext, "k4": store.KeyCurrent, "k5": store.KeyCurrent}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("keys: got %v, want %v", states, want)
	}
}

// testAuditRetriedBatch: a batch written again (its first commit's answer
// was lost) adds only the events not already there.
func testAuditRetriedBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := func(id string) store.AuditEvent {
		return store.AuditEvent{ID: id, At: t0, Kind: store.AuditTokenIssued, Actor: "c1", ClientID: "c1", Detail: "{}"}
	}
	if err := s.AppendAudit(ctx, []store.AuditEvent{ev("e1"), ev("e2")}); err != nil {
		t.Fatalf("AppendAudit: got %v, want nil", err)
	}
	if err := s.AppendAudit(ctx, []store.AuditEvent{ev("e1"), ev("e2"), ev("e3")}); err != nil {
		t.Fatalf("AppendAudit again with one more: got %v, want nil", err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 3 {
		t.Errorf("ListAudit: got %d events, %v; want 3, nil", len(got), err)
	}
}
