package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/verify"
)

func TestVerifyRate(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			res, err := Verify(context.Background(), VerifyOptions{CPUOptions: CPUOptions{Alg: alg, Duration: 100 * time.Millisecond, Workers: 2}, Tokens: 8})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Alg != alg || res.Workers != 2 || res.Verifications == 0 || res.PerSecond <= 0 {
				t.Errorf("got %+v, want %s on 2 workers with verifications", res, alg)
			}
			if res.JWKSFetches != 1 {
				t.Errorf("JWKS fetches: got %d, want 1 (the key stays cached)", res.JWKSFetches)
			}
			if res.Latency.Count != res.Verifications || res.Latency.P50 <= 0 {
				t.Errorf("latency: got %+v, want %d samples", res.Latency, res.Verifications)
			}
			b, err := json.Marshal(res)
			var back map[string]any
			if err != nil || json.Unmarshal(b, &back) != nil || back["elapsed_s"] == nil || back["verifications_per_second"] == nil {
				t.Errorf("JSON: got %s (%v), want elapsed_s and verifications_per_second", b, err)
			}
		})
	}
}

func TestVerifyRateUnknownAlg(t *testing.T) {
	if _, err := Verify(context.Background(), VerifyOptions{CPUOptions: CPUOptions{Alg: "HS256", Duration: time.Millisecond}}); err == nil {
		t.Errorf("got no error for HS256, want one")
	}
}

// BenchmarkVerify measures verify.Verifier.Verify with a cached key on all
// cores: go test -bench Verify -run '^$' ./internal/bench
func BenchmarkVerify(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			key := testKey(b, alg, "verify")
			is := startVerifyIssuer(key)
			defer is.Close()
			v, err := verify.New(context.Background(), verify.Config{Issuer: is.URL, Audience: benchAudience})
			if err != nil {
				b.Fatal(err)
			}
			tokens, err := is.mint(64)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for i := 0; pb.Next(); i++ {
					if _, err := v.Verify(ctx, tokens[i%len(tokens)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
