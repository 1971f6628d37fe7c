package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestRotateSecret: the old secret keeps working for keep_old and not a
// moment longer, the new one works at once, and no client ever holds more
// than two live secrets.
func TestRotateSecret(t *testing.T) {
	w := newWorld(t)
	c, first := w.client("rotating", nil)
	checker := secret.NewChecker()
	works := func(plain string, at time.Time) bool {
		cc, _ := w.cat.Client(c.ID) // the catalog, as the token endpoint reads it
		return checker.Check(t.Context(), cc.Secrets, plain, at)
	}

	rotated, second, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: time.Hour, ExpiresIn: 0})
	checkErr(t, err, nil, "")
	if second == first || !strings.HasPrefix(second, secret.Prefix) {
		t.Fatalf("new secret: got %.12q..., want a fresh generated secret", second)
	}
	if got := w.stored(c.ID).Secrets; len(got) != 2 || got[0].ExpiresAt == nil || !got[0].ExpiresAt.Equal(t0.Add(time.Hour)) || got[1].ExpiresAt != nil {
		t.Fatalf("stored secrets: got %+v, want the old one expiring at %v and a new one without expiry", got, t0.Add(time.Hour))
	}
	if len(rotated.Secrets) != 2 || strings.Contains(rotated.Secrets[1].Hash, second) {
		t.Errorf("returned client: got %+v, want two hashed secrets", rotated.Secrets)
	}
	steps := []struct {
		at       time.Duration
		old, new bool
	}{{0, true, true}, {59 * time.Minute, true, true}, {time.Hour, false, true}, {2 * time.Hour, false, true}}
	for _, s := range steps {
		if got := works(first, t0.Add(s.at)); got != s.old {
			t.Errorf("the old secret at +%v: got works %v, want %v", s.at, got, s.old)
		}
		if got := works(second, t0.Add(s.at)); got != s.new {
			t.Errorf("the new secret at +%v: got works %v, want %v", s.at, got, s.new)
		}
	}

	t.Run("a second rotation inside the first one's window is refused", func(t *testing.T) {
		w.clock.Add(10 * time.Minute)
		_, _, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: time.Hour})
		checkErr(t, err, ErrInvalid, "works until "+t0.Add(time.Hour).UTC().Format(time.RFC3339))
		if got := w.stored(c.ID).Secrets; len(got) != 2 || !works(first, w.clock.Now()) {
			t.Errorf("after the refusal: got %d secrets, first works %v; want both kept", len(got), works(first, w.clock.Now()))
		}
	})
	t.Run("expire_old_now ends the oldest secret and keeps two at most", func(t *testing.T) {
		_, third, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: time.Hour, ExpireOldNow: true})
		checkErr(t, err, nil, "")
		if got := w.stored(c.ID).Secrets; len(got) != 2 {
			t.Errorf("stored secrets: got %d, want 2", len(got))
		}
		now := w.clock.Now()
		if works(first, now) || !works(second, now) || !works(third, now) {
			t.Errorf("at +10m: got first %v second %v third %v, want false true true", works(first, now), works(second, now), works(third, now))
		}
	})
	t.Run("keep_old 0 ends the old secret now", func(t *testing.T) {
		_, fourth, err := w.svc.RotateSecret(t.Context(), c.ID, RotateOptions{KeepOld: 0, ExpiresIn: 0})
		checkErr(t, err, nil, "")
		if got := w.stored(c.ID).Secrets; len(got) != 1 || !works(fourth, w.clock.Now()) {
			t.Errorf("stored secrets: got %+v, want the new one alone", got)
		}
	})
	t.Run("an old secret's own earlier expiry stands", func(t *testing.T) {
		e, _, err := w.svc.CreateClient(t.Context(), NewClient{Name: "expiring", Tenant: "acme", SecretExpiresIn: 10 * time.Minute})
		checkErr(t, err, nil, "")
		_, _, err = w.svc.RotateSecret(t.Context(), e.ID, RotateOptions{KeepOld: time.Hour, ExpiresIn: 48 * time.Hour})
		checkErr(t, err, nil, "")
		got := w.stored(e.ID).Secrets
		now := w.clock.Now()
		if len(got) != 2 || !got[0].ExpiresAt.Equal(now.Add(10*time.Minute)) || got[1].ExpiresAt == nil || !got[1].ExpiresAt.Equal(now.Add(48*time.Hour)) {
			t.Errorf("stored secrets: got %+v, want the old one at +10m and the new one at +48h", got)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name             string
			id               string
			keepOld, expires time.Duration
			want             error
			mention          string
		}{
			{"negative keep_old", c.ID, -time.Second, 0, ErrInvalid, "keep_old"},
			{"keep_old over 720h", c.ID, 721 * time.Hour, 0, ErrInvalid, "keep_old"},
			{"negative expires_in", c.ID, 0, -time.Hour, ErrInvalid, "expires_in"},
			{"missing client", "nobody", time.Hour, 0, store.ErrNotFound, "nobody"},
		}
		before := w.stored(c.ID).Secrets
		for _, tt := range tests {
			_, _, err := w.svc.RotateSecret(t.Context(), tt.id, RotateOptions{KeepOld: tt.keepOld, ExpiresIn: tt.expires})
			checkErr(t, err, tt.want, tt.mention)
		}
		if after := w.stored(c.ID).Secrets; len(after) != len(before) || after[0].Hash != before[0].Hash {
			t.Errorf("refused rotations changed the secrets: got %+v, want %+v", after, before)
		}
	})
}

// TestRotateKeys: the service asks the key rotator for a rotation and
// audits the keys it reports, never their private parts.
func TestRotateKeys(t *testing.T) {
	w := newWorld(t)
	r := newRotator(t, w)
	before, err := r.List(t.Context())
	checkErr(t, err, nil, "")
	ks, err := w.svc.RotateKeys(t.Context(), r)
	checkErr(t, err, nil, "")
	next := map[string]bool{}
	for _, k := range ks {
		if k.State == store.KeyNext {
			next[k.Alg] = true
		}
	}
	if len(ks) != len(before)+len(store.SigningAlgs) || len(next) != len(store.SigningAlgs) {
		t.Errorf("after rotation: got %d keys, next for %v; want %d more, a next key per algorithm", len(ks), next, len(store.SigningAlgs))
	}
	events := w.audit.take()
	if len(events) != 1 || events[0].Kind != "keys.rotate" {
		t.Fatalf("audit: got %+v, want one keys.rotate", events)
	}
	raw, _ := json.Marshal(events[0].After)
	for _, k := range ks {
		if !strings.Contains(string(raw), k.KID) || strings.Contains(string(raw), base64.StdEncoding.EncodeToString(k.PrivateKey)) {
			t.Errorf("audited keys: got %s, want every kid and no private key", raw)
		}
	}

	_, err = w.svc.RotateKeys(t.Context(), failingRotator{})
	checkErr(t, err, store.ErrUnavailable, "")
	if events := w.audit.take(); len(events) != 0 {
		t.Errorf("audit of a failed rotation: got %+v, want none", events)
	}
}

// newRotator returns the node's key rotator over w's store with a current
// key per algorithm.
func newRotator(t *testing.T, w *world) *keys.Rotator {
	t.Helper()
	kek, err := keys.ParseKEK(base64.StdEncoding.EncodeToString(make([]byte, keys.KEKSize)), "test")
	must(t, err)
	r := &keys.Rotator{Store: w.st, KEK: kek, Set: keys.NewSet(), Log: w.log, PublishDelay: 10 * time.Minute,
		MaxTokenTTL: func() time.Duration { return 24 * time.Hour }, Now: w.clock.Now}
	must(t, r.Ensure(t.Context()))
	return r
}

// failingRotator is a key rotator whose database is gone.
type failingRotator struct{}

func (failingRotator) List(context.Context) ([]store.SigningKey, error) {
	return nil, fmt.Errorf("%w: connection refused", store.ErrUnavailable)
}

func (failingRotator) Rotate(context.Context) ([]store.SigningKey, error) {
	return nil, fmt.Errorf("%w: connection refused", store.ErrUnavailable)
}
