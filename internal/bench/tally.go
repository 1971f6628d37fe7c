package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"time"
)

// Failure counts the answers other than a token that share a status and
// an RFC 6749 §5.2 error code.
type Failure struct {
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	Count  uint64 `json:"count"`
}

// ErrorCount counts one kind of transport error.
type ErrorCount struct {
	Error string `json:"error"`
	Count uint64 `json:"count"`
}

// maxErrorKinds bounds the distinct transport error messages, and the
// distinct status and error code pairs, a worker keeps, so a misbehaving
// server cannot grow them without end; the rest are counted under "other".
const maxErrorKinds = 16

type failureKey struct {
	status int
	code   string
}

// tally is one worker's counts; merged into a TokenResult at the end, so
// workers share nothing while they run.
type tally struct {
	lat          *Histogram
	ok           uint64
	failures     map[failureKey]uint64
	transport    map[string]uint64
	transportN   uint64
	verified     uint64
	verifyFailed uint64
	verifyErr    string
	sent         uint64 // open loop: slots sent
	behind       uint64 // open loop: sends that started late
	maxLag       time.Duration
}

func newTally() *tally {
	return &tally{lat: NewHistogram(), failures: map[failureKey]uint64{}, transport: map[string]uint64{}}
}

// answered counts a response that was not a token.
func (t *tally) answered(status int, body []byte) {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e) // no JSON body: counted by status alone
	k := failureKey{status, e.Error}
	if _, ok := t.failures[k]; !ok && len(t.failures) >= maxErrorKinds {
		k = failureKey{status, "other"}
	}
	t.failures[k]++
}

// transportError counts a request that got no answer.
func (t *tally) transportError(err error) {
	t.transportN++
	kind := errorKind(err)
	if _, ok := t.transport[kind]; !ok && len(t.transport) >= maxErrorKinds {
		kind = "other"
	}
	t.transport[kind]++
}

// errorKind names err without the per-request details (the URL) that
// would make every occurrence distinct.
func errorKind(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// verifyResult counts the outcome of one token's verification.
func (t *tally) verifyResult(err error) {
	if err == nil {
		t.verified++
		return
	}
	t.verifyFailed++
	if t.verifyErr == "" {
		t.verifyErr = err.Error()
	}
}

// merge adds o's counts to t.
func (t *tally) merge(o *tally) {
	t.lat.Merge(o.lat)
	t.ok += o.ok
	for k, n := range o.failures {
		t.failures[k] += n
	}
	for k, n := range o.transport {
		t.transport[k] += n
	}
	t.transportN += o.transportN
	t.verified += o.verified
	t.verifyFailed += o.verifyFailed
	if t.verifyErr == "" {
		t.verifyErr = o.verifyErr
	}
	t.sent += o.sent
	t.behind += o.behind
	t.maxLag = max(t.maxLag, o.maxLag)
}

// failureList returns the failures, most frequent first.
func (t *tally) failureList() []Failure {
	out := []Failure{}
	for k, n := range t.failures {
		out = append(out, Failure{Status: k.status, Error: k.code, Count: n})
	}
	slices.SortFunc(out, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Error, b.Error))
	})
	return out
}

// transportList returns the transport error kinds, most frequent first.
func (t *tally) transportList() []ErrorCount {
	out := []ErrorCount{}
	for k, n := range t.transport {
		out = append(out, ErrorCount{Error: k, Count: n})
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Error, b.Error))
	})
	return out
}
