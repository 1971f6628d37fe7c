package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testLimitsRoundTrip: tenant quotas, client limits and an API's reuse
// window survive a round trip, and UpdateTenant changes only what fn does.
func testLimitsRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten := newTenant("acme")
	ten.Limits = store.Limits{QuotaHour: 100, QuotaDay: 1000}
	if err := s.CreateTenant(ctx, ten); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateTenant(ctx, "acme", func(old store.Tenant) (store.Tenant, error) {
		old.Limits.QuotaHour = 50
		return old, nil
	})
	if err != nil || got.Limits != (store.Limits{QuotaHour: 50, QuotaDay: 1000}) {
		t.Errorf("UpdateTenant: got %+v, %v", got.Limits, err)
	}
	if read, _ := s.GetTenant(ctx, "acme"); read.Limits != got.Limits || read.Name != ten.Name {
		t.Errorf("GetTenant after update: got %+v, want limits %+v and the old name", read, got.Limits)
	}
	if _, err := s.UpdateTenant(ctx, "nobody", func(old store.Tenant) (store.Tenant, error) { return old, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTenant of a missing tenant: got %v, want ErrNotFound", err)
	}
	c := newClient("c1")
	c.Tenant = "acme"
	c.Limits = store.Limits{RatePerSecond: 7, QuotaHour: 8, QuotaDay: 9}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if read, _ := s.GetClient(ctx, "c1"); read.Limits != c.Limits {
		t.Errorf("client limits: got %+v, want %+v", read.Limits, c.Limits)
	}
	a := newAPI("https://reuse.example")
	a.ReuseWindow = 90 * time.Second
	if err := s.CreateAPI(ctx, a); err != nil {
		t.Fatal(err)
	}
	if read, _ := s.GetAPI(ctx, a.Audience); read.ReuseWindow != a.ReuseWindow {
		t.Errorf("reuse window: got %v, want %v", read.ReuseWindow, a.ReuseWindow)
	}
}

// testOpaqueTokens: create, get, delete and purge by expiry.
func testOpaqueTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := func(hash string, exp time.Duration) store.OpaqueToken {
		return store.OpaqueToken{Hash: hash, ClientID: "c1", Audience: "https://a.example", Scopes: []string{"read", "write"},
			Tenant: "acme", Environment: "qa", Service: "streaming-property", JTI: "j-" + hash, IssuedAt: t0, ExpiresAt: at(exp)}
	}
	live, dead := tok("h-live", time.Hour), tok("h-dead", time.Minute)
	for _, o := range []store.OpaqueToken{live, dead} {
		if err := s.CreateOpaqueToken(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateOpaqueToken(ctx, live); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("a second token with one hash: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetOpaqueToken(ctx, "h-live")
	if err != nil || got.IssuedAt.Sub(live.IssuedAt).Abs() >= time.Microsecond || got.ExpiresAt.Sub(live.ExpiresAt).Abs() >= time.Microsecond {
		t.Fatalf("GetOpaqueToken: got %+v, %v", got, err)
	}
	got.IssuedAt, got.ExpiresAt = live.IssuedAt, live.ExpiresAt
	if !reflect.DeepEqual(got, live) {
		t.Errorf("GetOpaqueToken:\ngot  %+v\nwant %+v", got, live)
	}
	n, err := s.PurgeExpired(ctx, at(30*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("PurgeExpired: got %d, %v; want 1 (the expired one)", n, err)
	}
	if _, err := s.GetOpaqueToken(ctx, "h-dead"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired token after the purge: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteOpaqueToken(ctx, "h-live"); err != nil {
		t.Errorf("DeleteOpaqueToken: %v", err)
	}
	if err := s.DeleteOpaqueToken(ctx, "h-live"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: got %v, want ErrNotFound", err)
	}
}

// testRevocations: revoking twice is fine, since filters, expired ones go.
func testRevocations(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Microsecond)
	revs := []store.Revocation{
		{JTI: "old", ClientID: "c1", RevokedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)},
		{JTI: "new", ClientID: "c1", RevokedAt: now, ExpiresAt: now.Add(time.Hour)},
		{JTI: "gone", ClientID: "c1", RevokedAt: now, ExpiresAt: now.Add(-time.Minute)},
	}
	for _, r := range revs {
		if err := s.Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Revoke(ctx, revs[1]); err != nil {
		t.Errorf("revoking twice: got %v, want nil", err)
	}
	got, err := s.ListRevocations(ctx, now.Add(-time.Minute))
	if err != nil || len(got) != 1 || got[0].JTI != "new" {
		t.Errorf("ListRevocations since a minute ago: got %+v, %v; want only \"new\" (\"gone\" has expired)", got, err)
	}
	if all, _ := s.ListRevocations(ctx, time.Time{}); len(all) != 2 {
		t.Errorf("ListRevocations since ever: got %d, want 2", len(all))
	}
	if n, err := s.PurgeExpired(ctx, now); err != nil || n != 1 {
		t.Errorf("PurgeExpired: got %d, %v; want 1", n, err)
	}
}

// testAuditLargeBatch: a batch longer than one statement's rows, whose
// events repeat kinds, actors, clients and targets (and leave some empty),
// is stored exactly, every field.
func testAuditLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	var events []store.AuditEvent
	for i := range 450 {
		e := store.AuditEvent{ID: fmt.Sprintf("big%03d", i), At: at(time.Duration(i) * time.Millisecond).UTC().Truncate(time.Microsecond),
			Kind: store.AuditTokenIssued, Actor: fmt.Sprintf("c%d", i/100), Target: "https://api.example.io",
			Detail: fmt.Sprintf(`{"jti":"j%d","sub":"a \"b\" ü \u2028"}`, i)}
		e.ClientID = e.Actor
		switch i % 7 {
		case 3:
			e.Kind, e.Actor, e.ClientID, e.Target = "client.update", "admin", "c9", "c9"
		case 5:
			e.Kind, e.Actor, e.ClientID, e.Target = "tenant.create", "admin", "", ""
		}
		events = append(events, e)
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatalf("AppendAudit: got %v, want nil", err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != len(events) {
		t.Fatalf("ListAudit: got %d events, %v; want %d, nil", len(got), err, len(events))
	}
	for i, g := range got {
		want := events[len(events)-1-i] // newest first
		if !g.At.Equal(want.At) {
			t.Errorf("event %s: at %v, want %v", want.ID, g.At, want.At)
		}
		g.At = want.At
		if g != want {
			t.Errorf("got %+v, want %+v", g, want)
		}
	}
}

// testAuditFilters: filters by client, kind and time, newest first, a
// limit, and the retention purge.
func testAuditFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	var events []store.AuditEvent
	for i := 0; i < 6; i++ {
		client, kind := "c1", store.AuditTokenIssued
		if i%2 == 1 {
			client, kind = "c2", "client.update"
		}
		target := client
		if i == 2 {
			target = store.AdminAudience // an admin token, as the CLI gets one per command
		}
		events = append(events, store.AuditEvent{ID: fmt.Sprintf("e%d", i), At: at(time.Duration(i) * time.Minute),
			Kind: kind, Actor: "admin", ClientID: client, Target: target, Detail: `{"i":` + fmt.Sprint(i) + `}`})
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.AuditFilter) []string {
		got, err := s.ListAudit(ctx, f)
		if err != nil {
			t.Fatalf("ListAudit(%+v): %v", f, err)
		}
		out := []string{}
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"all, newest first", store.AuditFilter{}, []string{"e5", "e4", "e3", "e2", "e1", "e0"}},
		{"by client", store.AuditFilter{ClientID: "c1"}, []string{"e4", "e2", "e0"}},
		{"by kind", store.AuditFilter{Kind: "client.update"}, []string{"e5", "e3", "e1"}},
		{"since", store.AuditFilter{Since: at(4 * time.Minute)}, []string{"e5", "e4"}},
		{"until", store.AuditFilter{Until: at(2 * time.Minute)}, []string{"e1", "e0"}},
		{"limit", store.AuditFilter{Limit: 2}, []string{"e5", "e4"}},
		{"admin tokens hidden", store.AuditFilter{HideAdminTokens: true}, []string{"e5", "e4", "e3", "e1", "e0"}},
		{"admin tokens hidden, by client", store.AuditFilter{ClientID: "c1", HideAdminTokens: true}, []string{"e4", "e0"}},
	}
	for _, tt := range tests {
		if got := ids(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	n, err := s.PurgeAudit(ctx, at(3*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("PurgeAudit: got %d, %v; want 3", n, err)
	}
	if got := ids(store.AuditFilter{}); !reflect.DeepEqual(got, []string{"e5", "e4", "e3"}) {
		t.Errorf("after the purge: got %v", got)
	}
}

// testPromoteKey: the next key becomes current and every other current key
// of its algorithm retires, at once; a second promotion changes nothing.
func testPromoteKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(kid, alg, state string) store.SigningKey {
		return store.SigningKey{KID: kid, Alg: alg, State: state, PrivateKey: []byte{1}, PublicKey: []byte{2}, CreatedAt: t0, ActivatesAt: t0}
	}
	for _, k := range []store.SigningKey{mk("old", "RS256", store.KeyCurrent), mk("new", "RS256", store.KeyNext), mk("es", "ES256", store.KeyCurrent)} {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ok, err := s.PromoteKey(ctx, "new", at(time.Hour), at(25*time.Hour))
	if err != nil || !ok {
		t.Fatalf("PromoteKey: got %v, %v; want true, nil", ok, err)
	}
	states := map[string]store.SigningKey{}
	ks, _ := s.ListKeys(ctx)
	for _, k := range ks {
		states[k.KID] = k
	}
	if states["new"].State != store.KeyCurrent || states["old"].State != store.KeyRetired || states["es"].State != store.KeyCurrent {
		t.Errorf("after promotion: new %s, old %s, es %s; want current, retired, current", states["new"].State, states["old"].State, states["es"].State)
	}
	if r := states["old"].RemoveAfter; r == nil || r.Sub(at(25*time.Hour)).Abs() >= time.Microsecond {
		t.Errorf("the retired key's remove_after: got %v", r)
	}
	if ok, err := s.PromoteKey(ctx, "new", at(2*time.Hour), at(26*time.Hour)); ok || err != nil {
		t.Errorf("promoting again: got %v, %v; want false, nil", ok, err)
	}
	if _, err := s.PromoteKey(ctx, "nothing", t0, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("promoting a missing key: got %v, want ErrNotFound", err)
	}
}
