package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

func testKeyCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys := []store.SigningKey{newKey("k2"), newKey("k1"), newKey("k3")}
	keys[2].CreatedAt = at(-time.Hour) // the oldest key lists first
	// One next key per algorithm (testKeyOneNextPerAlg): the others are retired.
	keys[0].State, keys[2].State = store.KeyRetired, store.KeyRetired
	for _, k := range keys {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey(%s): got %v, want nil", k.KID, err)
		}
	}
	list, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: got %v, want nil", err)
	}
	gotKIDs := ids(list, func(k store.SigningKey) string { return k.KID })
	if want := []string{"k3", "k1", "k2"}; !slices.Equal(gotKIDs, want) {
		t.Errorf("ListKeys: got %v, want %v (by created_at, then kid)", gotKIDs, want)
	}

	// next -> current -> retired, as rotation moves a key along.
	want := newKey("k1")
	steps := []struct {
		name string
		edit func(k *store.SigningKey)
	}{
		{"activate", func(k *store.SigningKey) { k.State = store.KeyCurrent }},
		{"retire", func(k *store.SigningKey) {
			k.State, k.RetiredAt, k.RemoveAfter = store.KeyRetired, ptr(at(2*time.Hour)), ptr(at(26*time.Hour))
		}},
		{"clear times", func(k *store.SigningKey) { k.RetiredAt, k.RemoveAfter = nil, nil }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := want
			st.edit(&want)
			updated, err := s.UpdateKey(ctx, "k1", func(old store.SigningKey) (store.SigningKey, error) {
				check(t, "UpdateKey: fn's old value", old, before, normKey)
				st.edit(&old)
				return old, nil
			})
			if err != nil {
				t.Fatalf("UpdateKey: got %v, want nil", err)
			}
			check(t, "UpdateKey's result", updated, want, normKey)
			list, err := s.ListKeys(ctx)
			if err != nil {
				t.Fatalf("ListKeys: got %v, want nil", err)
			}
			i := slices.IndexFunc(list, func(k store.SigningKey) bool { return k.KID == "k1" })
			if i < 0 {
				t.Fatalf("ListKeys after UpdateKey: k1 missing from %v", ids(list, func(k store.SigningKey) string { return k.KID }))
			}
			check(t, "ListKeys after UpdateKey", list[i], want, normKey)
		})
	}

	if err := s.DeleteKey(ctx, "k2"); err != nil {
		t.Fatalf("DeleteKey: got %v, want nil", err)
	}
	list, err = s.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: got %v, want nil", err)
	}
	gotKIDs = ids(list, func(k store.SigningKey) string { return k.KID })
	if want := []string{"k3", "k1"}; !slices.Equal(gotKIDs, want) {
		t.Errorf("ListKeys after DeleteKey: got %v, want %v", gotKIDs, want)
	}
}

func testKeyRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	big := make([]byte, 8192)
	for i := range big {
		big[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		edit func(k *store.SigningKey)
	}{
		{"next", func(k *store.SigningKey) { k.State = store.KeyNext }},
		{"current RS256", func(k *store.SigningKey) { k.State, k.Alg = store.KeyCurrent, "RS256" }},
		{"retired", func(k *store.SigningKey) {
			k.State, k.RetiredAt, k.RemoveAfter = store.KeyRetired, ptr(at(time.Hour)), ptr(at(25*time.Hour))
		}},
		{"retired only", func(k *store.SigningKey) { k.RetiredAt = ptr(at(time.Hour)) }},
		{"remove after only", func(k *store.SigningKey) { k.RemoveAfter = ptr(at(time.Hour)) }},
		{"all byte values", func(k *store.SigningKey) {
			k.PrivateKey = make([]byte, 256)
			for i := range k.PrivateKey {
				k.PrivateKey[i] = byte(i)
			}
		}},
		{"large keys", func(k *store.SigningKey) { k.PrivateKey, k.PublicKey = big, big[:4000] }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKey("rt" + string(rune('a'+i)))
			k.State = store.KeyRetired // one next key per algorithm: only the "next" case has one
			tt.edit(&k)
			if err := s.CreateKey(ctx, k); err != nil {
				t.Fatalf("CreateKey: got %v, want nil", err)
			}
			list, err := s.ListKeys(ctx)
			if err != nil {
				t.Fatalf("ListKeys: got %v, want nil", err)
			}
			j := slices.IndexFunc(list, func(x store.SigningKey) bool { return x.KID == k.KID })
			if j < 0 {
				t.Fatalf("ListKeys: %s missing", k.KID)
			}
			check(t, "ListKeys", list[j], k, normKey)
		})
	}
	if err := s.DeleteKey(ctx, "rta"); err != nil {
		t.Errorf("DeleteKey: got %v, want nil", err)
	}
	if err := s.DeleteKey(ctx, "rta"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteKey twice: got %v, want ErrNotFound", err)
	}
}
