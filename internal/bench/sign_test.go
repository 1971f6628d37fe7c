package bench

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/keys"
)

var algs = []string{"RS256", "ES256", "EdDSA"}

// testKeys caches one key per alg and name: RSA keys take a while to make.
var testKeys sync.Map // alg+"/"+name -> *keys.Key

func testKey(tb testing.TB, alg, name string) *keys.Key {
	tb.Helper()
	if k, ok := testKeys.Load(alg + "/" + name); ok {
		return k.(*keys.Key)
	}
	k, err := newKey(alg)
	if err != nil {
		tb.Fatalf("newKey(%s): %v", alg, err)
	}
	testKeys.Store(alg+"/"+name, k)
	return k
}

func TestSign(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			res, err := Sign(context.Background(), SignOptions{Alg: alg, Duration: 100 * time.Millisecond, Workers: 2})
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if res.Alg != alg || res.Workers != 2 {
				t.Errorf("alg, workers = %s, %d, want %s, 2", res.Alg, res.Workers, alg)
			}
			if res.Signatures == 0 || res.PerSecond <= 0 {
				t.Errorf("signatures = %d at %v/s, want some", res.Signatures, res.PerSecond)
			}
			if got, want := res.Latency.Count, res.Signatures; got != want {
				t.Errorf("latency count = %d, want %d (one per signature)", got, want)
			}
			if res.Latency.Min <= 0 || res.Latency.P50 > res.Latency.Max {
				t.Errorf("latency = %+v, want 0 < min <= p50 <= max", res.Latency)
			}
			if res.TokenBytes < 300 {
				t.Errorf("token size = %d bytes, want a full access token", res.TokenBytes)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	if _, err := Sign(context.Background(), SignOptions{Alg: "HS256", Duration: time.Millisecond}); err == nil {
		t.Errorf("Sign with HS256: got no error, want one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Sign(ctx, SignOptions{Alg: "EdDSA", Duration: time.Hour})
	if err != nil || res.Elapsed > time.Second {
		t.Errorf("Sign on a done context: got %v after %v, want a prompt return", err, res.Elapsed)
	}
}

func TestSampleClaims(t *testing.T) {
	c := sampleClaims()
	now := time.Unix(1700000000, 0)
	first, err := c.next(now)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(first, &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iss", "sub", "aud", "iat", "exp", "jti", "client_id", "azp", "scope", "gty", "tenant"} {
		if _, ok := got[name]; !ok {
			t.Errorf("claim %s missing from %s", name, first)
		}
	}
	if got, want := got["exp"].(float64)-got["iat"].(float64), 900.0; got != want {
		t.Errorf("exp - iat = %v, want %v", got, want)
	}
	if !strings.HasSuffix(got["sub"].(string), "@clients") {
		t.Errorf("sub = %v, want <client_id>@clients", got["sub"])
	}
	jti := got["jti"]
	second, _ := c.next(now)
	_ = json.Unmarshal(second, &got)
	if got["jti"] == jti {
		t.Errorf("jti %v repeated, want a fresh one per token", jti)
	}
}

// BenchmarkSign measures one token's claims and signature per operation,
// on GOMAXPROCS goroutines sharing one key as the server does.
func BenchmarkSign(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			key := testKey(b, alg, "bench")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := sampleClaims()
				for pb.Next() {
					payload, err := c.next(time.Now())
					if err != nil {
						b.Fatal(err)
					}
					if _, err := key.Sign(payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
