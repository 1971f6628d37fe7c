package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/verify"
)

func TestServiceFromPath(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/streaming-property/v1/oauth2/token", "streaming-property", true},
		{"/a/v1/oauth2/token", "a", true},
		{"/v1/oauth2/token", "", false},
		{"//v1/oauth2/token", "", false},
		{"/a/b/v1/oauth2/token", "", false},
		{"/a/v1/oauth2/token/", "", false},
		{"/a/v2/oauth2/token", "", false},
		{"/oauth/token", "", false},
	}
	for _, tt := range tests {
		got, ok := ServiceFromPath(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ServiceFromPath(%q): got %q %v, want %q %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// testIssuer has a current key per algorithm and a fixed clock.
func testIssuer(t *testing.T, now time.Time) *Issuer {
	t.Helper()
	kek, err := keys.ParseKEK(base64.StdEncoding.EncodeToString(make([]byte, 32)), "test")
	if err != nil {
		t.Fatal(err)
	}
	var stored []store.SigningKey
	for _, alg := range store.SigningAlgs {
		k, err := keys.Generate(alg, store.KeyCurrent, now, kek)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, k)
	}
	set := keys.NewSet()
	if err := set.Load(stored, kek); err != nil {
		t.Fatal(err)
	}
	return newIssuer(t, set, func() time.Time { return now })
}

// newIssuer returns an Issuer over set with empty stores and no limits.
func newIssuer(t *testing.T, set *keys.Set, now func() time.Time) *Issuer {
	t.Helper()
	i, err := NewIssuer(Config{IssuerURL: "https://auth.test"}, set, nil, nil, limits.NewAuthThrottle(now), limits.NewLimiter(nil, now), replay.New(nil, time.Second, now), now)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func grantFor(alg string, reuse time.Duration) *Grant {
	return &Grant{
		Client:   &store.Client{ID: "c1", Tenant: "acme"},
		API:      &store.API{Audience: "https://api.test", TokenFormat: store.FormatJWT, SigningAlg: alg, TokenTTL: time.Hour, ReuseWindow: reuse},
		Audience: "https://api.test", Scopes: []string{"read"}, TTL: time.Hour, Type: "client-credentials",
	}
}

func TestMintAndVerify(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	i := testIssuer(t, now)
	for _, alg := range store.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			resp, err := i.Mint(context.Background(), grantFor(alg, 0))
			if err != nil {
				t.Fatal(err)
			}
			if resp.ExpiresIn != 3600 || resp.Scope != "read" || resp.TokenType != "Bearer" {
				t.Errorf("got %+v", resp)
			}
			c, err := verifierFor(t, i, "https://api.test", now).Verify(t.Context(), resp.AccessToken)
			if err != nil || c.ClientID != "c1" || c.Expiry.Sub(c.IssuedAt) != time.Hour || c.Tenant != "acme" || c.Raw["gty"] != "client-credentials" {
				t.Fatalf("Verify: got %+v, %v", c, err)
			}
			parts := strings.Split(resp.AccessToken, ".")
			flipped := parts[0] + "." + parts[1] + "." + flipLast(parts[2])
			claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var m map[string]any
			json.Unmarshal(claims, &m)
			m["scope"] = "read write"
			forged, _ := json.Marshal(m)
			cases := map[string]struct {
				tok, aud string
				now      time.Time
			}{
				"wrong audience":       {resp.AccessToken, "https://other.test", now},
				"a flipped signature":  {flipped, "https://api.test", now},
				"a changed payload":    {parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2], "https://api.test", now},
				"expired":              {resp.AccessToken, "https://api.test", now.Add(2 * time.Hour)},
				"issued in the future": {resp.AccessToken, "https://api.test", now.Add(-time.Hour)},
				"not a JWT":            {"abc", "https://api.test", now},
			}
			for name, c := range cases {
				if _, err := verifierFor(t, i, c.aud, c.now).Verify(t.Context(), c.tok); !errors.Is(err, verify.ErrInvalidToken) {
					t.Errorf("%s: got %v, want ErrInvalidToken", name, err)
				}
			}
		})
	}
}

// verifierFor checks i's tokens for audience as product APIs do, at now.
func verifierFor(t *testing.T, i *Issuer, audience string, now time.Time) *verify.Verifier {
	t.Helper()
	v, err := verify.New(t.Context(), verify.Config{Issuer: i.cfg.IssuerURL, Audience: audience, Keys: i.keys, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

func TestReuseCache(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	clock := now
	i := testIssuer(t, now)
	i.now = func() time.Time { return clock }
	g := grantFor("EdDSA", time.Minute)
	first, _ := i.Mint(context.Background(), g)
	clock = now.Add(20 * time.Second)
	g2 := grantFor("EdDSA", time.Minute)
	g2.Client = g.Client
	second, _ := i.Mint(context.Background(), g2)
	if second.AccessToken != first.AccessToken || second.ExpiresIn != 3580 || !g2.Reused || g2.JTI != g.JTI {
		t.Errorf("within the window: got %+v (reused %v), want the first token with 3580 s left", second, g2.Reused)
	}
	other := grantFor("EdDSA", time.Minute)
	other.Client = g.Client
	other.Scopes = nil
	if third, _ := i.Mint(context.Background(), other); third.AccessToken == first.AccessToken {
		t.Errorf("other scopes got the same token")
	}
	clock = now.Add(61 * time.Second)
	g3 := grantFor("EdDSA", time.Minute)
	g3.Client = g.Client
	if fourth, _ := i.Mint(context.Background(), g3); fourth.AccessToken == first.AccessToken || g3.Reused {
		t.Errorf("after the window: got the old token again")
	}
	// A held token that was revoked is not handed back, and the new one
	// is not reported as reused (the audit event says so).
	clock = now.Add(70 * time.Second)
	held := grantFor("EdDSA", time.Minute)
	held.Client = g.Client
	heldResp, _ := i.Mint(context.Background(), held)
	i.revoked.jtis[held.JTI] = held.ExpiresAt
	again := grantFor("EdDSA", time.Minute)
	again.Client = g.Client
	if fresh, _ := i.Mint(context.Background(), again); fresh.AccessToken == heldResp.AccessToken || again.Reused {
		t.Errorf("after revocation: got the held token again or a token marked reused (%v)", again.Reused)
	}
	// A different client value (the client changed: rotated, disabled and
	// enabled) never gets another's cached token.
	g4 := grantFor("EdDSA", time.Minute)
	if fifth, _ := i.Mint(context.Background(), g4); fifth.AccessToken == first.AccessToken {
		t.Errorf("a changed client got the cached token")
	}
}
