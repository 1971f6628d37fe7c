package dpop

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReplayCache(t *testing.T) {
	c := NewReplayCache(0)
	p := &Proof{JKT: "key-a", JTI: "j1", ExpiresAt: testNow.Add(time.Minute)}
	steps := []struct {
		name  string
		proof *Proof
		at    time.Time
		want  error
	}{
		{"first use", p, testNow, nil},
		{"replayed", p, testNow.Add(30 * time.Second), ErrReplayed},
		{"same jti, another key", &Proof{JKT: "key-b", JTI: "j1", ExpiresAt: p.ExpiresAt}, testNow, nil},
		{"another jti", &Proof{JKT: "key-a", JTI: "j2", ExpiresAt: p.ExpiresAt}, testNow, nil},
		{"replayed after expiry", p, p.ExpiresAt, ErrReplayed},
	}
	for _, s := range steps {
		if err := c.Use(s.proof, s.at); !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
			t.Errorf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
}

func TestReplayCacheBounded(t *testing.T) {
	c := NewReplayCache(3)
	use := func(jti string, exp, now time.Time) error {
		return c.Use(&Proof{JKT: "k", JTI: jti, ExpiresAt: exp}, now)
	}
	short, long := testNow.Add(time.Second), testNow.Add(time.Hour)
	for i, exp := range []time.Time{short, long, long} {
		if err := use(fmt.Sprint(i), exp, testNow); err != nil {
			t.Fatalf("filling: %v", err)
		}
	}
	if err := use("3", long, testNow); !errors.Is(err, ErrReplayed) {
		t.Errorf("full of live proofs: got %v, want ErrReplayed", err)
	}
	if err := use("3", long, short); err != nil {
		t.Errorf("after one expired: got %v, want nil (swept)", err)
	}
	if n := len(c.seen); n != 3 {
		t.Errorf("got %d entries, want 3", n)
	}
}

// TestReplayCacheConcurrent: of many concurrent uses of one proof, exactly
// one passes.
func TestReplayCacheConcurrent(t *testing.T) {
	c := NewReplayCache(0)
	p := &Proof{JKT: "k", JTI: "j", ExpiresAt: testNow.Add(time.Minute)}
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if c.Use(p, testNow) == nil {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 1 {
		t.Errorf("got %d uses passed, want 1", n)
	}
}
