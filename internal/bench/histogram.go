package bench

import (
	"encoding/json"
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of
// values is split into 2^subBits buckets, so a bucket is at most 1/128
// (0.8%) of the values it holds wide.
const subBits = 7

const (
	subCount = 1 << subBits
	// exactLimit: values below it each get their own bucket.
	exactLimit = 2 * subCount
	// numBuckets covers every non-negative int64: shifts run up to
	// 63-(subBits+1), each adding subCount buckets.
	numBuckets = (63-subBits-1)*subCount + exactLimit
)

// Histogram records durations in log-spaced buckets (HdrHistogram's layout
// with a fixed 0.8% relative precision). Its size does not grow with the
// number of values recorded. The zero value is not ready; use NewHistogram.
// A Histogram is not safe for concurrent use: give each worker its own and
// Merge them.
type Histogram struct {
	counts   []uint64
	total    uint64
	sum      float64 // nanoseconds, for the mean
	min, max int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// bucketOf returns the index of the bucket holding v (v >= 0).
func bucketOf(v int64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	return shift*subCount + int(v>>shift)
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < exactLimit {
		return int64(i)
	}
	shift := i/subCount - 1
	top := int64(i - shift*subCount)
	return (top+1)<<shift - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest value recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest value recorded, exactly (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Mean returns the exact mean of the values recorded.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Percentile returns the value at or below which q percent of the recorded
// values lie (nearest-rank), as the upper end of its bucket, never above
// the exact maximum nor below the exact minimum. q is clamped to [0, 100];
// an empty histogram answers 0.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 100)
	rank := uint64(math.Ceil(q / 100 * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Summary is the digest of a histogram that results report.
type Summary struct {
	Count uint64
	Min   time.Duration
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	P999  time.Duration
	Max   time.Duration
}

// Summary digests h.
func (h *Histogram) Summary() Summary {
	return Summary{
		Count: h.total, Min: h.Min(), Mean: h.Mean(),
		P50: h.Percentile(50), P90: h.Percentile(90), P99: h.Percentile(99),
		P999: h.Percentile(99.9), Max: h.Max(),
	}
}

// MarshalJSON writes the figures in milliseconds, the unit people compare.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count uint64  `json:"count"`
		Min   float64 `json:"min_ms"`
		Mean  float64 `json:"mean_ms"`
		P50   float64 `json:"p50_ms"`
		P90   float64 `json:"p90_ms"`
		P99   float64 `json:"p99_ms"`
		P999  float64 `json:"p99_9_ms"`
		Max   float64 `json:"max_ms"`
	}{s.Count, ms(s.Min), ms(s.Mean), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max)})
}

// ms converts d to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// marshalWith marshals plain, a result converted to a copy of its type
// without MarshalJSON (which would call itself), and adds key: value as
// its last member. Results keep a time.Duration out of JSON (`json:"-"`)
// and write it this way, as a number in the unit its key names
// (elapsed_s, max_lag_ms).
func marshalWith(plain any, key string, value float64) ([]byte, error) {
	obj, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	member, err := json.Marshal(map[string]float64{key: value}) // {"key":value}
	if err != nil {
		return nil, err
	}
	obj = obj[:len(obj)-1] // open the object again
	if len(obj) > 1 {
		obj = append(obj, ',')
	}
	return append(obj, member[1:]...), nil
}
