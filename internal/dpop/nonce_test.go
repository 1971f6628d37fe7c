package dpop

import (
	"bytes"
	"testing"
	"time"
)

func TestNonceIssuer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	now := testNow.Truncate(time.Minute)
	clock := func() time.Time { return now }
	a, err := NewNonceIssuer(key, time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewNonceIssuer(key, time.Minute, clock) // another node, same key
	other, _ := NewNonceIssuer(bytes.Repeat([]byte{8}, 32), time.Minute, clock)

	n := a.Nonce()
	if len(n) != 22 || n != b.Nonce() {
		t.Fatalf("got nonces %q and %q, want one 22-character nonce from both nodes", n, b.Nonce())
	}
	steps := []struct {
		name   string
		after  time.Duration
		issuer *NonceIssuer
		nonce  string
		want   bool
	}{
		{"same slot", 0, a, n, true},
		{"another node", 59 * time.Second, b, n, true},
		{"next slot", time.Minute, b, n, true},
		{"two slots later", 2 * time.Minute, a, n, false},
		{"another key", 0, other, n, false},
		{"empty", 0, a, "", false},
		{"garbage", 0, a, "not-a-nonce", false},
	}
	start := now
	for _, s := range steps {
		now = start.Add(s.after)
		if got := s.issuer.Valid(s.nonce); got != s.want {
			t.Errorf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
	now = start.Add(time.Minute)
	if a.Nonce() == n {
		t.Errorf("the next slot's nonce is the same")
	}
}

func TestNewNonceIssuer(t *testing.T) {
	if _, err := NewNonceIssuer(make([]byte, 31), 0, nil); err == nil {
		t.Errorf("short key: got nil, want an error")
	}
	if _, err := NewNonceIssuer(make([]byte, 32), time.Millisecond, nil); err == nil {
		t.Errorf("tiny slot: got nil, want an error")
	}
	n, err := NewNonceIssuer(make([]byte, 32), 0, nil)
	if err != nil || n.slot != DefaultNonceSlot || !n.Valid(n.Nonce()) {
		t.Errorf("defaults: got %v, want a working issuer with the default slot", err)
	}
}

// TestNonceInVerify: a proof made with an issuer's nonce passes a check
// using that issuer; one without gets ErrUseNonce.
func TestNonceInVerify(t *testing.T) {
	n, _ := NewNonceIssuer(make([]byte, 32), 0, func() time.Time { return testNow })
	c := Check{Method: "POST", URL: "https://auth.example.io/oauth/token", Now: testNow, Nonce: n.Valid}
	with, _ := NewProof(testKeys()["ec"], "ES256", c.Method, c.URL, "", n.Nonce(), testNow)
	without, _ := NewProof(testKeys()["ec"], "ES256", c.Method, c.URL, "", "", testNow)
	if _, err := Verify(with, c); err != nil {
		t.Errorf("with the nonce: got %v, want nil", err)
	}
	if _, err := Verify(without, c); err == nil || Description(err) != ErrUseNonce.Error() {
		t.Errorf("without: got %v, want ErrUseNonce", err)
	}
}
