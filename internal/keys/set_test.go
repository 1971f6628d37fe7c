package keys_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestSetEmpty(t *testing.T) {
	s := keys.NewSet()
	if got := string(s.JWKS()); got != `{"keys":[]}` {
		t.Errorf("JWKS: got %s, want {\"keys\":[]}", got)
	}
	if s.Current("RS256") != nil || s.Lookup("x") != nil {
		t.Errorf("empty set: got a key, want none")
	}
	if s.Ready([]string{"RS256"}) {
		t.Errorf("Ready: got true, want false")
	}
	if err := s.Load(nil, testKEK(t)); err != nil {
		t.Fatal(err)
	}
	if got := string(s.JWKS()); got != `{"keys":[]}` {
		t.Errorf("JWKS after loading nothing: got %s, want {\"keys\":[]}", got)
	}
}

func TestSetLoad(t *testing.T) {
	kek := testKEK(t)
	rs := generate(t, "RS256", store.KeyCurrent, kek)
	es := generate(t, "ES256", store.KeyCurrent, kek)
	ed := generate(t, "EdDSA", store.KeyCurrent, kek)
	next := generate(t, "ES256", store.KeyNext, kek)
	retired := generate(t, "EdDSA", store.KeyRetired, kek)
	stored := []store.SigningKey{rs, next, es, retired, ed}

	s := keys.NewSet()
	if err := s.Load(stored, kek); err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	for _, want := range []store.SigningKey{rs, es, ed} {
		if got := s.Current(want.Alg); got == nil || got.KID != want.KID {
			t.Errorf("Current(%s): got %v, want kid %s", want.Alg, got, want.KID)
		}
	}
	if s.Current("HS256") != nil {
		t.Errorf("Current(HS256): got a key, want nil")
	}
	for _, sk := range stored {
		got := s.Lookup(sk.KID)
		if got == nil || got.Alg != sk.Alg || got.State != sk.State {
			t.Errorf("Lookup(%s): got %+v, want the %s %s key", sk.KID, got, sk.State, sk.Alg)
		}
	}
	if s.Lookup("unknown") != nil {
		t.Errorf("Lookup(unknown): got a key, want nil")
	}
	if !s.Ready([]string{"RS256", "ES256", "EdDSA"}) {
		t.Errorf("Ready(all three): got false, want true")
	}

	// The JWKS publishes every key, public parts only.
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &doc); err != nil {
		t.Fatalf("JWKS: got %v, want JSON", err)
	}
	if len(doc.Keys) != len(stored) {
		t.Fatalf("JWKS: got %d keys, want %d", len(doc.Keys), len(stored))
	}
	byKID := map[string]map[string]any{}
	for _, k := range doc.Keys {
		kid, _ := k["kid"].(string)
		byKID[kid] = k
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %s: has private member %q", kid, private)
			}
		}
		if k["use"] != "sig" {
			t.Errorf("JWKS key %s: use got %v, want sig", kid, k["use"])
		}
	}
	for _, sk := range stored {
		k := byKID[sk.KID]
		if k == nil {
			t.Errorf("JWKS: kid %s missing", sk.KID)
			continue
		}
		if k["alg"] != sk.Alg {
			t.Errorf("JWKS key %s: alg got %v, want %s", sk.KID, k["alg"], sk.Alg)
		}
	}
	set, err := jwk.Parse(s.JWKS())
	if err != nil || set.Len() != len(stored) {
		t.Fatalf("jwx parsing the JWKS: got %v, want %d keys", err, len(stored))
	}
	for i := range set.Len() {
		k, _ := set.Key(i)
		switch k.(type) {
		case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
			t.Errorf("jwx: key %d of the JWKS is a private key (%T)", i, k)
		}
	}

	// A token signed by the current key verifies with the published key.
	cur := s.Current("ES256")
	compact, err := cur.Sign([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	verifyJWS(t, compact, s.Lookup(cur.KID))
}

func TestSetNewerCurrentSigns(t *testing.T) {
	kek := testKEK(t)
	older := generate(t, "EdDSA", store.KeyCurrent, kek)
	newer := generate(t, "EdDSA", store.KeyCurrent, kek)
	newer.ActivatesAt = older.ActivatesAt.Add(time.Minute)
	tests := []struct {
		name   string
		stored []store.SigningKey
	}{
		{"older first", []store.SigningKey{older, newer}},
		{"newer first", []store.SigningKey{newer, older}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := keys.NewSet()
			if err := s.Load(tt.stored, kek); err != nil {
				t.Fatal(err)
			}
			if got := s.Current("EdDSA"); got == nil || got.KID != newer.KID {
				t.Errorf("Current: got %v, want the later-activating %s", got, newer.KID)
			}
			if s.Lookup(older.KID) == nil {
				t.Errorf("Lookup(older): got nil, want it still published")
			}
		})
	}
}

func TestSetNextDoesNotSign(t *testing.T) {
	kek := testKEK(t)
	s := keys.NewSet()
	next := generate(t, "ES256", store.KeyNext, kek)
	if err := s.Load([]store.SigningKey{next}, kek); err != nil {
		t.Fatal(err)
	}
	if s.Current("ES256") != nil {
		t.Errorf("Current with only a next key: got a key, want nil")
	}
	if s.Lookup(next.KID) == nil {
		t.Errorf("Lookup(next): got nil, want the next key published")
	}
	if s.Ready([]string{"ES256"}) {
		t.Errorf("Ready: got true, want false")
	}
}

func TestSetLoadFailureKeepsOld(t *testing.T) {
	kek := testKEK(t)
	s := keys.NewSet()
	good := generate(t, "EdDSA", store.KeyCurrent, kek)
	if err := s.Load([]store.SigningKey{good}, kek); err != nil {
		t.Fatal(err)
	}
	before := string(s.JWKS())
	other := mustKEK(t, base64.StdEncoding.EncodeToString(make([]byte, keys.KEKSize)))
	foreign := generate(t, "ES256", store.KeyCurrent, other)
	if err := s.Load([]store.SigningKey{good, foreign}, kek); err == nil {
		t.Fatalf("Load with a key sealed by another KEK: got nil, want an error")
	}
	if got := s.Current("EdDSA"); got == nil || got.KID != good.KID {
		t.Errorf("Current after a failed Load: got %v, want %s", got, good.KID)
	}
	if s.Current("ES256") != nil || s.Lookup(foreign.KID) != nil {
		t.Errorf("failed Load: the foreign key got in")
	}
	if got := string(s.JWKS()); got != before {
		t.Errorf("JWKS after a failed Load: got %s, want %s", got, before)
	}
}

func TestSetReloadDropsRemoved(t *testing.T) {
	kek := testKEK(t)
	a := generate(t, "EdDSA", store.KeyRetired, kek)
	b := generate(t, "EdDSA", store.KeyCurrent, kek)
	s := keys.NewSet()
	if err := s.Load([]store.SigningKey{a, b}, kek); err != nil {
		t.Fatal(err)
	}
	if err := s.Load([]store.SigningKey{b}, kek); err != nil {
		t.Fatal(err)
	}
	if s.Lookup(a.KID) != nil {
		t.Errorf("Lookup(removed key): got a key, want nil")
	}
	var doc struct{ Keys []struct{ KID string } }
	if err := json.Unmarshal(s.JWKS(), &doc); err != nil || len(doc.Keys) != 1 || doc.Keys[0].KID != b.KID {
		t.Errorf("JWKS: got %s, want only %s", s.JWKS(), b.KID)
	}
}
