package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testClientAuthRoundTrip: a client's authentication method, keys and
// DPoP requirement survive create, update and read, and a client created
// without them reads back as a secret client.
func testClientAuthRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	plain := newClient("plain")
	if err := s.CreateClient(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetClient(ctx, "plain"); got.Auth != (store.ClientAuth{}) || !got.Auth.UsesSecret() {
		t.Errorf("a client created without auth: got %+v, want the zero value (a secret client)", got.Auth)
	}
	c := newClient("keyed")
	c.Secrets = nil
	c.Auth = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, RequireDPoP: true}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetClient(ctx, "keyed"); got.Auth != c.Auth {
		t.Errorf("GetClient auth: got %+v, want %+v", got.Auth, c.Auth)
	}
	want := store.ClientAuth{Method: store.AuthTLS, TLSSubjectKind: "uri", TLSSubject: "spiffe://example.org/ns/billing/sa/export"}
	updated, err := s.UpdateClient(ctx, "keyed", func(old store.Client) (store.Client, error) {
		old.Auth = want
		return old, nil
	})
	if err != nil || updated.Auth != want {
		t.Fatalf("UpdateClient auth: got %+v, %v; want %+v", updated.Auth, err, want)
	}
	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range list {
		if got.ID == "keyed" && got.Auth != want {
			t.Errorf("ListClients auth: got %+v, want %+v", got.Auth, want)
		}
	}
}

// testOpaqueTokenBinding: an opaque token keeps its cnf.
func testOpaqueTokenBinding(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, cnf := range []store.Confirmation{{}, {JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, {X5TS256: "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}} {
		tok := store.OpaqueToken{Hash: "h-" + cnf.JKT + cnf.X5TS256, ClientID: "c1", Audience: "https://a.example", Scopes: []string{"read"},
			JTI: "j", IssuedAt: t0, ExpiresAt: at(time.Hour), Confirmation: cnf}
		if err := s.CreateOpaqueToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetOpaqueToken(ctx, tok.Hash)
		if err != nil || got.Confirmation != cnf {
			t.Errorf("cnf %+v: got %+v, %v", cnf, got.Confirmation, err)
		}
	}
}

// testClaimIDs: an id is fresh once, across calls and within one batch,
// and purging drops only expired ids.
func testClaimIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := func(k string, exp time.Duration) store.UsedID { return store.UsedID{Key: k, ExpiresAt: at(exp)} }
	steps := []struct {
		name string
		ids  []store.UsedID
		want []bool
	}{
		{"new ids", []store.UsedID{id("a", time.Hour), id("b", time.Minute)}, []bool{true, true}},
		{"a replay beside a new id", []store.UsedID{id("a", time.Hour), id("c", time.Hour)}, []bool{false, true}},
		{"one id twice in a batch", []store.UsedID{id("d", time.Hour), id("d", time.Hour)}, []bool{true, false}},
		{"nothing", nil, nil},
	}
	for _, st := range steps {
		got, err := s.ClaimIDs(ctx, st.ids)
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: got %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	if _, err := s.PurgeExpired(ctx, at(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimIDs(ctx, []store.UsedID{id("a", time.Hour), id("b", 2*time.Hour)})
	if err != nil || !reflect.DeepEqual(got, []bool{false, true}) {
		t.Errorf("after purging the expired b: got %v, %v; want [false true]", got, err)
	}
	big := make([]store.UsedID, 300)
	for i := range big {
		big[i] = id(fmt.Sprint("big-", i), time.Hour)
	}
	fresh, err := s.ClaimIDs(ctx, big)
	if err != nil || len(fresh) != len(big) || !fresh[0] || !fresh[299] {
		t.Errorf("a batch of 300: got %d answers, %v", len(fresh), err)
	}
	if _, err := s.ClaimIDs(ctx, make([]store.UsedID, 10_000)); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("an oversized batch: got %v, want a plain error", err)
	}
}
