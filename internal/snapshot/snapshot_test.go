package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

var key = bytes.Repeat([]byte{7}, 32)

// filled returns a SQLite store holding one of everything a snapshot
// copies, and enough clients that the sealed stream spans many chunks.
func filled(t *testing.T, clients int) store.Store {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, sqlstore.SQLitePath(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", Limits: store.Limits{QuotaHour: 60}, CreatedAt: now}))
	must(st.CreateEnvironment(ctx, store.Environment{Tenant: "acme", ID: "prod", APIKey: "k1", CreatedAt: now}))
	must(st.CreateAPI(ctx, store.API{Audience: "https://api.example.io", Name: "API", Scopes: []store.Scope{{Name: "read"}},
		TokenTTL: time.Hour, TokenFormat: store.FormatJWT, SigningAlg: "RS256", AcceptExchangeFrom: []string{"urn:x"}, CreatedAt: now, UpdatedAt: now}))
	for i := range clients {
		must(st.CreateClient(ctx, store.Client{ID: fmt.Sprintf("client-%05d", i), Name: "c", Tenant: "acme",
			Grants:  map[string][]string{"https://api.example.io": {"read"}},
			Secrets: []store.Secret{{ID: "s1", Hash: strings.Repeat("h", 60), CreatedAt: now, ExpiresAt: &exp}},
			Auth:    store.ClientAuth{RequireDPoP: i%2 == 0}, CreatedAt: now, UpdatedAt: now}))
	}
	must(st.CreateTrust(ctx, store.Trust{Tenant: "acme", Name: "gh", Issuer: "https://token.actions.githubusercontent.com",
		Rules: []store.TrustRule{{Name: "r", Client: "client-00000", Match: "true"}}, CreatedAt: now, UpdatedAt: now}))
	must(st.CreateKey(ctx, store.SigningKey{KID: "k1", Alg: "RS256", State: store.KeyCurrent, PrivateKey: []byte("sealed"), PublicKey: []byte("pub"), CreatedAt: now, ActivatesAt: now}))
	must(st.Revoke(ctx, store.Revocation{JTI: "j1", ClientID: "client-00001", RevokedAt: now, ExpiresAt: exp.Add(100 * 24 * time.Hour)}))
	return st
}

func TestWriteReadRoundTrip(t *testing.T) {
	st := filled(t, 1500) // about 300 KB: several chunks
	want, err := Copy(t.Context(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, key, want); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Size() < 2*chunkSize || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file: %d bytes, mode %v; want several chunks, 0600", fi.Size(), fi.Mode().Perm())
	}
	got, err := Read(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Clients) != 1500 || got.ChangeID != want.ChangeID || !got.WrittenAt.Equal(want.WrittenAt) {
		t.Fatalf("read back %d clients at change %d, want 1500 at %d", len(got.Clients), got.ChangeID, want.ChangeID)
	}
	for name, pair := range map[string][2]any{
		"tenants": {got.Tenants, want.Tenants}, "environments": {got.Environments, want.Environments},
		"apis": {got.APIs, want.APIs}, "client 0": {got.Clients[0], want.Clients[0]}, "client 1499": {got.Clients[1499], want.Clients[1499]},
		"trusts": {got.Trusts, want.Trusts}, "keys": {got.Keys, want.Keys}, "revocations": {got.Revocations, want.Revocations},
	} {
		if !equalJSONish(pair[0], pair[1]) {
			t.Errorf("%s: got %+v, want %+v", name, pair[0], pair[1])
		}
	}
	if h := got.Clients[7].Secrets[0].Hash; h != want.Clients[7].Secrets[0].Hash {
		t.Errorf("secret hash: got %q", h)
	}
	if string(got.Keys[0].PrivateKey) != "sealed" {
		t.Errorf("sealed private key: got %q", got.Keys[0].PrivateKey)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(raw, []byte("client-00001")) || bytes.Contains(raw, []byte(strings.Repeat("h", 60))) {
		t.Error("the snapshot file holds client ids or secret hashes in the clear")
	}
}

// equalJSONish compares after normalising times to instants.
func equalJSONish(a, b any) bool {
	return reflect.DeepEqual(fmt.Sprintf("%v", normTimes(a)), fmt.Sprintf("%v", normTimes(b)))
}

func normTimes(v any) any { return strings.ReplaceAll(fmt.Sprintf("%+v", v), " +0000 UTC", "") }

func TestReadRefusesDamage(t *testing.T) {
	st := filled(t, 400)
	d, err := Copy(t.Context(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, key, d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	good, _ := os.ReadFile(path)
	tests := []struct {
		name string
		file []byte
		key  []byte
	}{
		{"another KEK", good, bytes.Repeat([]byte{8}, 32)},
		{"truncated at a chunk boundary", good[:len(magic)+fileIDLen+4+chunkSize+16], key},
		{"truncated inside a chunk", good[:len(good)-10], key},
		{"a flipped byte", flip(good, len(good)/2), key},
		{"not a snapshot", []byte("hello"), key},
		{"data after the end", append(bytes.Clone(good), 0, 0, 0, 1, 9), key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(path, tt.file, 0o600)
			if _, err := Read(dir, tt.key); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read: got %v, want ErrCorrupt", err)
			}
		})
	}
	os.Remove(path)
	if _, err := Read(dir, key); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of no file: got %v, want ErrNotExist", err)
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

// TestStoreServesUntilLive: the reads issuing needs come from the
// snapshot, writes and the change feed from the database; after Live,
// everything comes from the database.
func TestStoreServesUntilLive(t *testing.T) {
	ctx := context.Background()
	src := filled(t, 3)
	d, err := Copy(ctx, src, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	db := filled(t, 0) // stands in for the database, which differs
	s := NewStore(db, d)
	if c, err := s.GetClient(ctx, "client-00002"); err != nil || c.Tenant != "acme" {
		t.Errorf("GetClient from the snapshot: got %+v, %v", c, err)
	}
	if _, err := s.GetClient(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient of a missing client: got %v, want ErrNotFound", err)
	}
	if cs, _ := s.ListClients(ctx); len(cs) != 3 {
		t.Errorf("ListClients from the snapshot: got %d, want 3", len(cs))
	}
	if ts, _ := s.ListTrusts(ctx, "acme"); len(ts) != 1 {
		t.Errorf("ListTrusts(acme) from the snapshot: got %d, want 1", len(ts))
	}
	if es, _ := s.ListEnvironments(ctx, "other"); len(es) != 0 {
		t.Errorf("ListEnvironments(other): got %d, want 0", len(es))
	}
	if _, err := s.LatestChange(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("LatestChange before Live: got %v, want ErrUnavailable", err)
	}
	s.Live()
	if cs, _ := s.ListClients(ctx); len(cs) != 0 {
		t.Errorf("ListClients after Live: got %d, want the database's 0", len(cs))
	}
	if _, err := s.LatestChange(ctx); err != nil {
		t.Errorf("LatestChange after Live: %v", err)
	}
}
