package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactPercentile is the nearest-rank percentile of sorted values.
func exactPercentile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q/100*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestBucketBounds(t *testing.T) {
	values := []int64{0, 1, 255, 256, 257, 383, 384, 1000, 1 << 20, 1<<20 + 1, 123456789, math.MaxInt64 - 1, math.MaxInt64}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		values = append(values, r.Int64N(int64(time.Minute)))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, want in [0, %d)", v, i, numBuckets)
		}
		high := bucketHigh(i)
		if high < v {
			t.Errorf("bucketHigh(bucketOf(%d)) = %d, want >= %d", v, high, v)
		}
		if rel := float64(high-v) / float64(max(v, 1)); rel > 1.0/subCount {
			t.Errorf("value %d reported as %d: relative error %.4f, want <= %.4f", v, high, rel, 1.0/subCount)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d also fits bucket %d (high %d): buckets overlap", v, i-1, bucketHigh(i-1))
		}
	}
}

func TestPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name   string
		values func() []time.Duration
	}{
		{"single value", func() []time.Duration { return []time.Duration{7 * time.Millisecond} }},
		{"small exact values", func() []time.Duration {
			var v []time.Duration
			for i := range 200 {
				v = append(v, time.Duration(i))
			}
			return v
		}},
		{"uniform 1µs..100ms", func() []time.Duration {
			var v []time.Duration
			for range 50000 {
				v = append(v, time.Microsecond+time.Duration(r.Int64N(int64(100*time.Millisecond))))
			}
			return v
		}},
		{"bimodal with a slow tail", func() []time.Duration {
			var v []time.Duration
			for i := range 10000 {
				d := 800*time.Microsecond + time.Duration(r.Int64N(int64(200*time.Microsecond)))
				if i%50 == 0 {
					d = 2*time.Second + time.Duration(r.Int64N(int64(time.Second)))
				}
				v = append(v, d)
			}
			return v
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := tt.values()
			h := NewHistogram()
			for _, v := range values {
				h.Record(v)
			}
			slices.Sort(values)
			for _, q := range []float64{0, 1, 50, 90, 99, 99.9, 100} {
				got, want := h.Percentile(q), exactPercentile(values, q)
				if got < want || float64(got-want) > float64(want)/subCount {
					t.Errorf("p%v = %v, want %v (+0.8%%)", q, got, want)
				}
			}
			if got, want := h.Max(), values[len(values)-1]; got != want {
				t.Errorf("max = %v, want %v", got, want)
			}
			if got, want := h.Min(), values[0]; got != want {
				t.Errorf("min = %v, want %v", got, want)
			}
			if got, want := h.Count(), uint64(len(values)); got != want {
				t.Errorf("count = %d, want %d", got, want)
			}
		})
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	empty := NewHistogram()
	if got := empty.Summary(); got != (Summary{}) {
		t.Errorf("empty summary = %+v, want zero", got)
	}
	a, b := NewHistogram(), NewHistogram()
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i+100) * time.Millisecond)
	}
	a.Merge(b)
	a.Merge(empty)
	if got, want := a.Count(), uint64(200); got != want {
		t.Errorf("merged count = %d, want %d", got, want)
	}
	if got, want := a.Percentile(50), 100*time.Millisecond; got < want || got > want+want/subCount {
		t.Errorf("merged p50 = %v, want %v", got, want)
	}
	if got, want := a.Mean(), 100500*time.Microsecond; got != want {
		t.Errorf("merged mean = %v, want %v", got, want)
	}
	if got, want := a.Max(), 200*time.Millisecond; got != want {
		t.Errorf("merged max = %v, want %v", got, want)
	}
	a.Record(-time.Second)
	if got := a.Min(); got != 0 {
		t.Errorf("min after a negative value = %v, want 0", got)
	}
}

func TestSummaryJSON(t *testing.T) {
	s := Summary{Count: 3, P50: 1500 * time.Microsecond, Max: 2 * time.Second}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{"count": 3, "p50_ms": 1.5, "max_ms": 2000, "p99_ms": 0} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (in %s)", k, got[k], want, b)
		}
	}
}

// TestResultJSON pins the results' JSON to the letter: the order of the
// keys and the hidden durations written last, in the unit their key names.
func TestResultJSON(t *testing.T) {
	lat := `"latency":{"count":0,"min_ms":0,"mean_ms":0,"p50_ms":0,"p90_ms":0,"p99_ms":0,"p99_9_ms":0,"max_ms":0}`
	run := CPURun{Alg: "ES256", Workers: 4, CPUs: 8, GoVersion: "go1.x", Elapsed: 1500 * time.Millisecond}
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"SignResult", SignResult{CPURun: run, Signatures: 10, PerSecond: 6.5, TokenBytes: 400},
			`{"alg":"ES256","workers":4,"cpus":8,"go_version":"go1.x","signatures":10,"signatures_per_second":6.5,"token_bytes":400,` + lat + `,"elapsed_s":1.5}`},
		{"VerifyResult", VerifyResult{CPURun: run, Verifications: 10, PerSecond: 6.5, TokenBytes: 400, JWKSFetches: 1},
			`{"alg":"ES256","workers":4,"cpus":8,"go_version":"go1.x","verifications":10,"verifications_per_second":6.5,"token_bytes":400,` + lat + `,"jwks_fetches":1,"elapsed_s":1.5}`},
		{"OpenLoop", OpenLoop{Rate: 100, Scheduled: 10, Sent: 9, Behind: 1, Unsent: 1, MaxLag: 1234567 * time.Nanosecond},
			`{"rate":100,"scheduled":10,"sent":9,"behind":1,"unsent":1,"max_lag_ms":1.235}`},
		{"TokenResult", TokenResult{URL: "http://x", Auth: AuthPost, Mode: "closed-loop", Concurrency: 2, Elapsed: 2 * time.Second, OK: 1, Requests: 1},
			`{"url":"http://x","auth":"post","mode":"closed-loop","concurrency":2,"requests":1,"ok":1,"tokens_per_second":0,` + lat +
				`,"failures":null,"transport_errors":0,"transport_error_kinds":null,"elapsed_s":2}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil || string(b) != tt.want {
				t.Errorf("got %s, %v\nwant %s", b, err, tt.want)
			}
		})
	}
	t.Run("no other members", func(t *testing.T) {
		b, err := marshalWith(struct{}{}, "elapsed_s", 0.25)
		if want := `{"elapsed_s":0.25}`; err != nil || string(b) != want {
			t.Errorf("got %s, %v; want %s", b, err, want)
		}
	})
}
